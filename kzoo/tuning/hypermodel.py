"""Keras Tuner hypermodels whose search space is a zoo config's `search` block.

A `search` block maps dotted config keys to hyperparameter specs:

```yaml
search:
  args.rnn: {type: choice, values: [gru, lstm, ligru]}
  args.rnn_units: {type: int, min: 32, max: 256, step: 32}
  args.dropout: {type: float, min: 0.0, max: 0.4, step: 0.05}
  train.optimizer.learning_rate: {type: float, min: 0.0003, max: 0.01, sampling: log}
  args.units: {type: choice, values: [[128], [256, 256]]}
  args.residual: {type: boolean}
  args.peepholes: {type: boolean, parent: args.rnn, parent_values: [lstm]}
```

Each hyperparameter is named after its config key, and its default is the config's
current value, so the defaults rebuild the config's own model and the best trial's
values turn straight back into a config (`best_config`). Types: `choice` (`values`,
any YAML values: lists and mappings are encoded as JSON strings because Keras Tuner's
`Choice` holds scalars only), `int` and `float` (`min`, `max`, optional `step` and
`sampling`: linear, log or reverse_log) and `boolean`. `parent` / `parent_values`
make a hyperparameter conditional: it is active only while its parent takes one of
those values (Keras Tuner's `conditional_scope`).

Only `args.*` (builder arguments, the same rule as `--set`) and `train.*` keys can be
searched: the data is loaded once per search.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np

from kzoo import configs, recipe, registry
from kzoo.errors import ConfigError, did_you_mean
from kzoo.models import factory

TYPES = ("choice", "int", "float", "boolean")
SAMPLINGS = ("linear", "log", "reverse_log")
FIELDS = {
    "choice": ("type", "values", "parent", "parent_values"),
    "int": ("type", "min", "max", "step", "sampling", "parent", "parent_values"),
    "float": ("type", "min", "max", "step", "sampling", "parent", "parent_values"),
    "boolean": ("type", "parent", "parent_values"),
}
SEARCHABLE_SECTIONS = ("args", "train")


@dataclass
class Param:
    """One hyperparameter of a search block, validated; `default` is the config's value."""

    key: str
    type: str
    default: Any
    values: list[Any] = field(default_factory=list)  # choice: the YAML values
    low: float | None = None
    high: float | None = None
    step: float | None = None
    sampling: str = "linear"
    parent: str | None = None
    parent_values: list[Any] = field(default_factory=list)
    encoded: bool = False  # choice values are stored in Keras Tuner as JSON strings

    def encode(self, value: Any) -> Any:
        """The Keras Tuner value standing for the config value `value`."""
        if self.type == "choice":
            if self.encoded:
                return json.dumps(value)
            if self.values and isinstance(self.values[0], float):
                return float(value)
        return value

    def decode(self, value: Any) -> Any:
        """The config value a Keras Tuner value stands for."""
        if value is None:
            return None
        if self.type == "choice" and self.encoded:
            return json.loads(value)
        if self.type == "float":
            return float(f"{float(value):.10g}")  # 0.15000000000000002 -> 0.15
        if self.type == "int":
            return int(value)
        if self.type == "boolean":
            return bool(value)
        return value

    def declare(self, hp: keras_tuner.HyperParameters) -> Any:
        """Registers this hyperparameter in `hp` (in the current scope); returns its value."""
        if self.type == "choice":
            values = [self.encode(v) for v in self.values]
            return hp.Choice(self.key, values, default=self.encode(self.default))
        if self.type == "boolean":
            return hp.Boolean(self.key, default=bool(self.default))
        if self.type == "int":
            return hp.Int(
                self.key,
                int(self.low),
                int(self.high),
                step=None if self.step is None else int(self.step),
                sampling=self.sampling,
                default=int(self.default),
            )
        return hp.Float(
            self.key,
            float(self.low),
            float(self.high),
            step=self.step,
            sampling=self.sampling,
            default=float(self.default),
        )


def _source(config: Mapping[str, Any]) -> str:
    return str(config.get("source", "<config>"))


def load(
    config: str | Path | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """`kzoo.configs.load` that also takes an already-loaded config and keeps its source."""
    if not isinstance(config, Mapping):
        return configs.load(config, overrides)
    raw = {k: v for k, v in config.items() if k != "source"}
    loaded = configs.load(raw, overrides)
    loaded["source"] = config.get("source", loaded["source"])
    return loaded


def current_value(config: Mapping[str, Any], key: str) -> Any:
    """The value a dotted key holds in a loaded config (a builder's default for `args.*`).

    Raises `ConfigError` naming the config file and the key when it names nothing, with
    the same rule as overrides: `args.*` must be builder arguments.
    """
    source = _source(config)
    parts = key.split(".")
    if parts[0] not in SEARCHABLE_SECTIONS or len(parts) < 2:
        raise ConfigError(
            f"{source}: search key {key!r} cannot be searched: only `args.*` (builder "
            "arguments) and `train.*` keys can, because the data is loaded once per search."
        )
    if parts[0] == "args":
        parameters = registry.builder_arguments(config["model"])
        if len(parts) == 2 and parts[1] not in config["args"]:
            parameter = parameters.get(parts[1])
            if parameter is None or parameter.default is inspect.Parameter.empty:
                raise ConfigError(
                    f"{source}: search key {key!r} is not an argument of model "
                    f"{config['model']!r}. {did_you_mean(parts[1], parameters)}"
                )
            default = parameter.default
            return list(default) if isinstance(default, tuple) else default
    node: Any = config
    for depth, part in enumerate(parts):
        if isinstance(node, str) and depth >= 2:
            node = {"name": node}  # optimizer: adam -> {name: adam}
        if not isinstance(node, Mapping) or part not in node:
            here = ".".join(parts[: depth + 1])
            choices = node if isinstance(node, Mapping) else ()
            raise ConfigError(
                f"{source}: search key {key!r} names no existing config key ({here!r}). "
                f"{did_you_mean(part, choices)} Search keys must name keys the config has "
                "(set the key in the config first)."
            )
        node = node[part]
    return copy.deepcopy(node)


def parse_space(config: Mapping[str, Any], exclude: tuple[str, ...] = ()) -> list[Param]:
    """The validated hyperparameters of a loaded config's `search` block, parents first.

    Keys in `exclude` are left out (they are fixed by the caller).
    """
    source = _source(config)
    block = config.get("search") or {}
    params: dict[str, Param] = {}
    for key, spec in block.items():
        if key in exclude:
            continue
        params[key] = _parse_param(config, str(key), spec, source)
    if "train.optimizer.learning_rate" in params and "train.schedule" not in block:
        _check_rate_is_used(config, source)
    for param in params.values():
        _check_parent(param, params, block, source)
    return _parents_first(params, source)


def _check_rate_is_used(config: Mapping[str, Any], source: str) -> None:
    """A schedule sets the learning rate, so searching the optimizer's would change nothing."""
    schedule = config["train"].get("schedule")
    if not schedule:
        return
    spec = {"name": schedule} if isinstance(schedule, str) else schedule
    rates = [f"train.schedule.{k}" for k in spec if str(k).endswith("learning_rate")]
    instead = (
        f"Search {' or '.join(repr(k) for k in rates)} instead"
        if rates
        else "Give the schedule its rate in the config and search that key instead"
    )
    raise ConfigError(
        f"{source}: search key 'train.optimizer.learning_rate' would change nothing: "
        f"`train.schedule` ({spec.get('name')}) sets the learning rate. {instead}, e.g. "
        f"{{type: float, min: 0.0001, max: 0.01, sampling: log}}."
    )


def _parse_param(config: Mapping[str, Any], key: str, spec: Any, source: str) -> Param:
    where = f"{source}: search key {key!r}"
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"{where} must map to a spec such as {{type: int, min: 32, max: 256}}. "
            f"Received: {spec!r}."
        )
    kind = spec.get("type")
    if kind not in TYPES:
        raise ConfigError(
            f"{where}: unknown type {kind!r}. {did_you_mean(str(kind), TYPES)} "
            f"Expected one of: {', '.join(TYPES)}."
        )
    for name in spec:
        if name not in FIELDS[kind]:
            raise ConfigError(
                f"{where}: unknown field {name!r} for type {kind}. "
                f"{did_you_mean(str(name), FIELDS[kind])}"
            )
    default = current_value(config, key)
    param = Param(key=key, type=kind, default=default)
    if kind == "choice":
        _parse_choice(param, spec.get("values"), where)
    elif kind in ("int", "float"):
        _parse_range(param, spec, where)
    elif not isinstance(default, bool):
        raise ConfigError(
            f"{where}: a boolean search needs a true/false config value; the config holds "
            f"{default!r}. Use {{type: choice, values: [...]}} instead."
        )
    param.parent = spec.get("parent")
    if param.parent is not None or "parent_values" in spec:
        values = spec.get("parent_values")
        if param.parent is None or not isinstance(values, list) or not values:
            raise ConfigError(
                f"{where}: a conditional hyperparameter needs both `parent` (another search "
                "key) and a non-empty list `parent_values`. Received: "
                f"parent={param.parent!r}, parent_values={values!r}."
            )
        param.parent_values = list(values)
    return param


def _parse_choice(param: Param, values: Any, where: str) -> None:
    if not isinstance(values, list) or not values:
        raise ConfigError(
            f"{where}: a choice needs a non-empty list `values`, e.g. [gru, lstm]. "
            f"Received: values={values!r}."
        )
    param.values = copy.deepcopy(values)
    kinds = {type(v) for v in values}
    if kinds <= {int, float}:
        if float in kinds:
            param.values = [float(v) for v in values]
    elif not (kinds == {str}):
        param.encoded = True  # lists, mappings, booleans, None, mixed types
    encoded = [param.encode(v) for v in param.values]
    if len(set(encoded)) != len(encoded):
        raise ConfigError(f"{where}: the choice values repeat. Received: values={values!r}.")
    if param.encode(param.default) not in encoded:
        raise ConfigError(
            f"{where}: the config's current value {param.default!r} is not among the choice "
            f"values {values!r}. Add it to `values`, or set the config key to one of them "
            "(the current value is the search's starting point and default)."
        )


def _number(value: Any, integer: bool) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if integer else isinstance(value, (int, float))


def _parse_range(param: Param, spec: Mapping[str, Any], where: str) -> None:
    integer = param.type == "int"
    expected = "an integer" if integer else "a number"
    for name in ("min", "max"):
        if not _number(spec.get(name), integer):
            raise ConfigError(
                f"{where}: `{name}` must be {expected}. Received: {name}={spec.get(name)!r}."
            )
    low, high = spec["min"], spec["max"]
    if low > high:
        raise ConfigError(
            f"{where}: min must not exceed max. Received: min={low!r}, max={high!r}. Swap them."
        )
    sampling = spec.get("sampling", "linear")
    if sampling not in SAMPLINGS:
        raise ConfigError(
            f"{where}: unknown sampling {sampling!r}. {did_you_mean(str(sampling), SAMPLINGS)}"
        )
    if sampling != "linear" and low <= 0:
        raise ConfigError(
            f"{where}: {sampling} sampling needs min > 0. Received: min={low!r}. "
            "Use a positive lower bound or linear sampling."
        )
    step = spec.get("step")
    if step is not None:
        if not _number(step, integer) or step <= 0:
            raise ConfigError(
                f"{where}: `step` must be a positive {'integer' if integer else 'number'}. "
                f"Received: step={step!r}."
            )
        if sampling != "linear" and step <= 1:
            raise ConfigError(
                f"{where}: with {sampling} sampling `step` is a factor and must exceed 1. "
                f"Received: step={step!r}."
            )
    default = param.default
    if not _number(default, integer) or not low <= default <= high:
        raise ConfigError(
            f"{where}: the config's current value {default!r} is not {expected} in "
            f"[{low}, {high}]. Widen the range, or set the config key inside it (the current "
            "value is the search's starting point and default)."
        )
    param.low, param.high, param.step, param.sampling = low, high, step, sampling


def _check_parent(param: Param, params: dict[str, Param], block, source: str) -> None:
    if param.parent is None:
        return
    where = f"{source}: search key {param.key!r}"
    parent = params.get(param.parent)
    if parent is None:
        raise ConfigError(
            f"{where}: `parent` {param.parent!r} is not a key of the search block. "
            f"{did_you_mean(str(param.parent), block)}"
        )
    if parent.type in ("int", "float"):
        raise ConfigError(
            f"{where}: `parent` {param.parent!r} must be a choice or boolean hyperparameter; "
            f"it is a {parent.type} range."
        )
    allowed = parent.values if parent.type == "choice" else [True, False]
    allowed_encoded = [parent.encode(v) for v in allowed]
    for value in param.parent_values:
        if parent.encode(value) not in allowed_encoded:
            raise ConfigError(
                f"{where}: parent value {value!r} is not a value of {param.parent!r} "
                f"(expected some of {allowed!r})."
            )


def _parents_first(params: dict[str, Param], source: str) -> list[Param]:
    ordered: list[Param] = []
    visiting: set[str] = set()

    def visit(param: Param) -> None:
        if param in ordered:
            return
        if param.key in visiting:
            raise ConfigError(
                f"{source}: search key {param.key!r}: the `parent` links form a cycle."
            )
        visiting.add(param.key)
        if param.parent is not None:
            visit(params[param.parent])
        ordered.append(param)

    for param in params.values():
        visit(param)
    return ordered


class ConfigHyperModel(keras_tuner.HyperModel):
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
        super().__init__(name=name or config["model"], tunable=tunable)
        fixed_overrides = {f"args.{k}": v for k, v in (fixed or {}).items()}
        self.config = load(config, fixed_overrides)
        self.params = parse_space(self.config, exclude=tuple(fixed_overrides))
        self.train_size = train_size
        for param in self.params:  # rejects a key the config lacks, like `--set` does
            self.trial_config({param.key: param.default})

    @property
    def source(self) -> str:
        return _source(self.config)

    def declare(self, hp: keras_tuner.HyperParameters) -> dict[str, Any]:
        """Registers every hyperparameter in `hp`; returns the active ones' config values."""
        raw = {}
        for param in self.params:
            with contextlib.ExitStack() as stack:
                for parent, values in self._scopes(param):
                    stack.enter_context(hp.conditional_scope(parent.key, values))
                raw[param.key] = param.declare(hp)
        return self.decode(raw)

    def _scopes(self, param: Param) -> list[tuple[Param, list[Any]]]:
        by_key = {p.key: p for p in self.params}
        chain = []
        while param.parent is not None:
            parent = by_key[param.parent]
            chain.append((parent, [parent.encode(v) for v in param.parent_values]))
            param = parent
        return chain[::-1]

    def decode(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Config values of the active hyperparameters among Keras Tuner values `raw`."""
        values: dict[str, Any] = {}
        for param in self.params:  # parents come first
            if param.key not in raw or raw[param.key] is None:
                continue
            if param.parent is not None:
                parent = next(p for p in self.params if p.key == param.parent)
                if param.parent not in values or parent.encode(values[param.parent]) not in [
                    parent.encode(v) for v in param.parent_values
                ]:
                    continue  # inactive: the config keeps its own value
            values[param.key] = param.decode(raw[param.key])
        return values

    def trial_config(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The config with hyperparameter `values` (dotted keys) applied."""
        try:
            return load(self.config, dict(values))
        except ConfigError as error:
            raise ConfigError(f"{error} (from the search block)") from None

    def values(self, hp: keras_tuner.HyperParameters | Mapping[str, Any]) -> dict[str, Any]:
        """Config values of `hp` (a `HyperParameters` or a mapping of its values)."""
        raw = hp.values if isinstance(hp, keras_tuner.HyperParameters) else hp
        return self.decode(raw)

    def steps_per_epoch(self, config: Mapping[str, Any]) -> int:
        if not self.train_size:
            return recipe.DEFAULT_STEPS_PER_EPOCH
        return max(1, math.ceil(self.train_size / config["train"]["batch_size"]))

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        config = self.trial_config(self.declare(hp))
        try:
            model = factory.build(config)
        except ValueError as error:
            raise ConfigError(
                f"{self.source}: cannot build model {config['model']!r} with "
                f"{self.declare(hp)}: {error}"
            ) from None
        return recipe.compile_model(model, config, steps_per_epoch=self.steps_per_epoch(config))

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args, **kwargs):
        """`model.fit` with the trial's epochs, batch size (array inputs) and callbacks."""
        values = self.declare(hp)
        config = self.trial_config(values)
        train = config["train"]
        if "train.epochs" in values and "tuner/epochs" not in hp.values:
            kwargs["epochs"] = train["epochs"]  # Hyperband sets the epochs itself
        kwargs.setdefault("epochs", train["epochs"])
        x = args[0] if args else kwargs.get("x")
        if isinstance(x, (np.ndarray, list, tuple, dict)):
            if "train.batch_size" in values:
                kwargs["batch_size"] = train["batch_size"]
            kwargs.setdefault("batch_size", train["batch_size"])
        elif "train.batch_size" in values:
            raise ConfigError(
                f"{self.source}: `train.batch_size` is searched, so fit needs array inputs "
                "(NumPy); a batched data set fixes the batch size. Pass arrays, or remove "
                "train.batch_size from the search block."
            )
        kwargs["callbacks"] = [
            *list(kwargs.get("callbacks") or []),
            *recipe.make_callbacks(config),
            keras.callbacks.TerminateOnNaN(),
        ]
        return model.fit(*args, **kwargs)


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
    if not config.get("search"):
        raise ConfigError(
            f"{_source(config)}: the config has no `search` block, so there is nothing to "
            "tune. Add one, e.g. search: {args.dropout: {type: float, min: 0.0, max: 0.5}}."
        )
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
