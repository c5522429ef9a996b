"""Optimizers from a config block: name, learning rate, weight decay, clipping, schedule.

```yaml
optimizer: {name: momentum, learning_rate: 0.01, momentum: 0.9, global_clipnorm: 5.0}
schedule: {name: step_decay, initial_learning_rate: 0.01}   # optional, see kzoo.schedules
```
"""

from __future__ import annotations

import functools
from typing import Any

import keras

from kzoo import specs
from kzoo.errors import is_number


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


_POSITIVE_IF_SET = ("clipnorm", "clipvalue", "global_clipnorm")


def get(spec: str | dict[str, Any], schedule: Any = None) -> keras.optimizers.Optimizer:
    """An optimizer from a config spec; `schedule`, when given, drives its learning rate.

    Every keyword of the Keras optimizer passes through: `weight_decay` (decoupled, as
    in AdamW, for every optimizer), `clipnorm` (per variable), `clipvalue`,
    `global_clipnorm` (over all gradients together), `ema_momentum`, ... `momentum` and
    `nesterov` are SGD with momentum 0.9 (override with `momentum: 0.95`). A `schedule`
    replaces the spec's `learning_rate`.

    >>> import kzoo
    >>> opt = kzoo.optimizers.get({"name": "nesterov", "learning_rate": 0.1})
    >>> type(opt).__name__, opt.nesterov, float(opt.momentum)
    ('SGD', True, 0.9)
    >>> opt = kzoo.optimizers.get({"name": "adamw", "weight_decay": 0.01, "global_clipnorm": 5},
    ...                           schedule=kzoo.schedules.NoamDecay(1e-3, warmup_steps=100))
    >>> round(float(opt.learning_rate), 6), float(opt.weight_decay), opt.global_clipnorm
    (1e-05, 0.01, 5.0)
    """
    name, kwargs = specs.split(spec, "optimizer")
    rate = kwargs.get("learning_rate")
    if rate is not None:
        if not is_number(rate) or rate <= 0:
            raise ValueError(
                f"The optimizer's `learning_rate` must be a positive number. Received: "
                f"learning_rate={rate!r}. Use e.g. 0.001, or a `schedule` block for a varying rate."
            )
        kwargs["learning_rate"] = float(rate)  # Keras refuses an int rate
    decay = kwargs.get("weight_decay")
    if decay is not None:
        if not is_number(decay) or decay < 0:
            raise ValueError(
                f"The optimizer's `weight_decay` must be zero or a positive number. Received: "
                f"weight_decay={decay!r}. Use e.g. 0.01 (AdamW's usual value), or leave it out."
            )
        kwargs["weight_decay"] = float(decay)
    for key in _POSITIVE_IF_SET:
        value = kwargs.get(key)
        if value is not None:
            if not is_number(value) or value <= 0:
                raise ValueError(
                    f"The optimizer's `{key}` must be a positive number (or left out for no "
                    f"clipping). Received: {key}={value!r}. Use e.g. 1.0 or 5.0."
                )
            kwargs[key] = float(value)
    clipping = [key for key in _POSITIVE_IF_SET if kwargs.get(key) is not None]
    if len(clipping) > 1:
        raise ValueError(
            f"The optimizer can clip gradients one way only; received {clipping}. Keep one of "
            "`clipnorm` (per variable), `clipvalue` (per element) or `global_clipnorm` (all "
            "gradients together)."
        )
    if schedule is not None:
        kwargs["learning_rate"] = schedule
    try:
        return specs.build({"name": name, **kwargs}, OPTIMIZERS, "optimizer")
    except ValueError as error:
        if "not recognized" not in str(error):
            raise
        raise ValueError(
            f"Unknown argument for optimizer {name!r}: {error}. Check the spelling against "
            f"the Keras optimizer's arguments (e.g. `beta_1`, `beta_2`, `epsilon`, "
            f"`weight_decay`, `clipnorm`). Received: {kwargs}."
        ) from None
