"""Optimizers from a config block: name, learning rate, weight decay, clipping, schedule.

```yaml
optimizer: {name: momentum, learning_rate: 0.01, momentum: 0.9, global_clipnorm: 5.0}
```
"""

from __future__ import annotations

import functools
from typing import Any

import keras

from kzoo import specs


def _sgd(momentum: float = 0.0, nesterov: bool = False, **kwargs):
    return keras.optimizers.SGD(momentum=momentum, nesterov=nesterov, **kwargs)


OPTIMIZERS = {
    "sgd": _sgd,
    "momentum": functools.partial(_sgd, momentum=0.9),
    "nesterov": functools.partial(_sgd, momentum=0.9, nesterov=True),
    "rmsprop": keras.optimizers.RMSprop,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "adadelta": keras.optimizers.Adadelta,
    "adagrad": keras.optimizers.Adagrad,
    "adamax": keras.optimizers.Adamax,
    "nadam": keras.optimizers.Nadam,
    "lion": keras.optimizers.Lion,
}


def get(spec: str | dict[str, Any], schedule: Any = None) -> keras.optimizers.Optimizer:
    """An optimizer from a config spec; `schedule`, when given, drives its learning rate.

    >>> import kzoo
    >>> opt = kzoo.optimizers.get({"name": "nesterov", "learning_rate": 0.1})
    >>> type(opt).__name__, opt.nesterov, float(opt.momentum)
    ('SGD', True, 0.9)
    """
    name, kwargs = specs.split(spec, "optimizer")
    rate = kwargs.get("learning_rate")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0):
        raise ValueError(
            f"The optimizer's `learning_rate` must be a positive number. Received: "
            f"learning_rate={rate!r}. Use e.g. 0.001, or a `schedule` block for a varying rate."
        )
    if schedule is not None:
        kwargs["learning_rate"] = schedule
    return specs.build({"name": name, **kwargs}, OPTIMIZERS, "optimizer")
