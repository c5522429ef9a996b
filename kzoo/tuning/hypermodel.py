"""Keras Tuner hypermodels whose search space is a zoo config's `search` block.

The space itself (the `search` block's format, validation and the way values turn back
into a config) is `kzoo.tuning.space`; this module declares it as Keras Tuner
hyperparameters. It uses Keras Tuner's public API only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import keras_tuner

from kzoo.tuning.space import Param, SearchSpace, load, require_search


def declare(param: Param, hp: keras_tuner.HyperParameters) -> Any:
    """Registers `param` in `hp` (in the current scope); returns its Keras Tuner value."""
    if param.type == "choice":
        values = [param.encode(v) for v in param.values]
        return hp.Choice(param.key, values, default=param.encode(param.default))
    if param.type == "boolean":
        return hp.Boolean(param.key, default=bool(param.default))
    if param.type == "int":
        return hp.Int(
            param.key,
            int(param.low),
            int(param.high),
            step=None if param.step is None else int(param.step),
            sampling=param.sampling,
            default=int(param.default),
        )
    return hp.Float(
        param.key,
        float(param.low),
        float(param.high),
        step=param.step,
        sampling=param.sampling,
        default=float(param.default),
    )


class ConfigHyperModel(SearchSpace, keras_tuner.HyperModel):
    """A hypermodel over a zoo config: its `search` block is the space, its recipe compiles.

    `build(hp)` applies the hyperparameter values as config overrides, builds the model
    with its registered builder and compiles it with the config's `train` recipe;
    `fit(hp, model, ...)` trains with the trial's batch size, epochs and callbacks.

    Args:
        config: a loaded config (`kzoo.configs.load`).
        fixed: `args` values that override the config and are not searched.
        train_size: number of training examples, so epoch-based schedules and a searched
            batch size get the right steps per epoch.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        fixed: Mapping[str, Any] | None = None,
        train_size: int | None = None,
        name: str | None = None,
        tunable: bool = True,
    ):
        keras_tuner.HyperModel.__init__(self, name=name or config["model"], tunable=tunable)
        SearchSpace.__init__(self, config, fixed=fixed, train_size=train_size)

    def declare(self, hp: keras_tuner.HyperParameters) -> dict[str, Any]:
        """Registers every hyperparameter in `hp`; returns the active ones' config values."""
        raw = {}
        for param in self.params:
            with contextlib.ExitStack() as stack:
                for parent, values in self._scopes(param):
                    stack.enter_context(hp.conditional_scope(parent.key, values))
                raw[param.key] = declare(param, hp)
        return self.decode(raw)

    def _scopes(self, param: Param) -> list[tuple[Param, list[Any]]]:
        chain = []
        while param.parent is not None:
            parent = self.param(param.parent)
            chain.append((parent, [parent.encode(v) for v in param.parent_values]))
            param = parent
        return chain[::-1]

    def values(self, hp: keras_tuner.HyperParameters | Mapping[str, Any]) -> dict[str, Any]:
        """Config values of `hp` (a `HyperParameters` or a mapping of its values)."""
        raw = hp.values if isinstance(hp, keras_tuner.HyperParameters) else hp
        return self.decode(raw)

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        values = self.declare(hp)
        return self.compiled_model(self.trial_config(values), values)

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args, **kwargs):
        """`model.fit` with the trial's epochs, batch size (array inputs) and callbacks."""
        values = self.declare(hp)
        config = self.trial_config(values)
        if "train.epochs" in values and "tuner/epochs" not in hp.values:
            kwargs["epochs"] = config["train"]["epochs"]  # Hyperband sets the epochs itself
        x = args[0] if args else kwargs.get("x")
        return model.fit(*args, **self.fit_options(config, values, x, kwargs))


def hypermodel(name_or_config: str | Path | Mapping[str, Any], **fixed: Any) -> ConfigHyperModel:
    """The Keras Tuner hypermodel of a zoo config, searching its `search` block.

    Args:
        name_or_config: a zoo config name, a YAML path or a loaded config.
        **fixed: builder arguments that override the config and are not searched
            (`num_classes=10`).

    Example:

    >>> import keras_tuner, kzoo
    >>> hm = kzoo.tuning.hypermodel("mlp", num_classes=3, input_shape=[8])
    >>> hp = keras_tuner.HyperParameters()
    >>> hm.build(hp).output.shape
    (None, 3)
    >>> sorted(hp.values)
    ['args.dropout', 'args.units', 'train.optimizer.learning_rate']
    >>> hm.values(hp)["args.units"]
    [256, 256]
    """
    config = load(name_or_config)
    require_search(config)
    return ConfigHyperModel(config, fixed=fixed)


def best_config(
    config: str | Path | Mapping[str, Any],
    hp: keras_tuner.HyperParameters | Mapping[str, Any],
) -> dict[str, Any]:
    """The config with the values of `hp` (e.g. the best trial's) applied.

    >>> import keras_tuner, kzoo
    >>> hp = keras_tuner.HyperParameters()
    >>> hp.values["args.dropout"] = 0.3
    >>> kzoo.tuning.best_config("mlp", hp)["args"]["dropout"]
    0.3
    """
    model = config if isinstance(config, ConfigHyperModel) else hypermodel(config)
    return model.trial_config(model.values(hp))
