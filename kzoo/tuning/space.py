"""The search space of a zoo config: its `search` block as validated hyperparameters.

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
`Choice` and Optuna's categorical distribution hold scalars only), `int` and `float` (`min`, `max`, optional `step` and
`sampling`: linear, log or reverse_log) and `boolean`. `parent` / `parent_values`
make a hyperparameter conditional: it is active only while its parent takes one of
those values (Keras Tuner's `conditional_scope`; with Optuna it is suggested only then).

Only `args.*` (builder arguments, the same rule as `--set`) and `train.*` keys can be
searched: the data is loaded once per search.

Both engines share this module: `kzoo.tuning.hypermodel` declares the space as Keras
Tuner hyperparameters, `kzoo.tuning.optuna` suggests it trial by trial, and
`SearchSpace.trial_config` turns either's values back into a config.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kzoo import configs, metrics, recipe, registry
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
    encoded: bool = False  # choice values are stored by the engines as JSON strings

    def encode(self, value: Any) -> Any:
        """The engine value (Keras Tuner or Optuna) standing for the config value `value`."""
        if self.type == "choice":
            if self.encoded:
                return json.dumps(value)
            if self.values and isinstance(self.values[0], float):
                return float(value)
        return value

    def decode(self, value: Any) -> Any:
        """The config value an engine value stands for."""
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


class SearchSpace:
    """A loaded config and the hyperparameters of its `search` block, engine-neutral.

    `decode` turns an engine's raw values into the active hyperparameters' config values,
    `trial_config` applies them to the config.

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
    ):
        fixed_overrides = {f"args.{k}": v for k, v in (fixed or {}).items()}
        self.config = load(config, fixed_overrides)
        self.params = parse_space(self.config, exclude=tuple(fixed_overrides))
        self.train_size = train_size
        for param in self.params:  # rejects a key the config lacks, like `--set` does
            self.trial_config({param.key: param.default})

    @property
    def source(self) -> str:
        return _source(self.config)

    def param(self, key: str) -> Param:
        return next(p for p in self.params if p.key == key)

    def active(self, param: Param, values: Mapping[str, Any]) -> bool:
        """Whether `param` is active given the config values of its (earlier) parents."""
        if param.parent is None:
            return True
        parent = self.param(param.parent)
        if param.parent not in values:
            return False
        allowed = [parent.encode(v) for v in param.parent_values]
        return parent.encode(values[param.parent]) in allowed

    def decode(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Config values of the active hyperparameters among engine values `raw`."""
        values: dict[str, Any] = {}
        for param in self.params:  # parents come first
            if param.key not in raw or raw[param.key] is None:
                continue
            if self.active(param, values):  # inactive: the config keeps its own value
                values[param.key] = param.decode(raw[param.key])
        return values

    def trial_config(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The config with hyperparameter `values` (dotted keys) applied."""
        try:
            return load(self.config, dict(values))
        except ConfigError as error:
            raise ConfigError(f"{error} (from the search block)") from None

    def compiled_model(self, config: Mapping[str, Any], values: Mapping[str, Any]):
        """The trial's model, built by its registered builder and compiled with its recipe."""
        try:
            model = factory.build(config)
        except ValueError as error:
            raise ConfigError(
                f"{self.source}: cannot build model {config['model']!r} with {dict(values)}: "
                f"{error}"
            ) from None
        return recipe.compile_model(model, config, steps_per_epoch=self.steps_per_epoch(config))

    def fit_options(
        self, config: Mapping[str, Any], values: Mapping[str, Any], x: Any, kwargs: dict
    ) -> dict[str, Any]:
        """`fit` keyword arguments for a trial: its epochs, batch size (array inputs) and
        callbacks (the recipe's, then `TerminateOnNaN`) added to `kwargs`."""
        train = config["train"]
        kwargs = dict(kwargs)
        kwargs.setdefault("epochs", train["epochs"])
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
        return kwargs

    def steps_per_epoch(self, config: Mapping[str, Any]) -> int:
        if not self.train_size:
            return recipe.DEFAULT_STEPS_PER_EPOCH
        return max(1, math.ceil(self.train_size / config["train"]["batch_size"]))


def require_search(config: Mapping[str, Any]) -> None:
    if not config.get("search"):
        raise ConfigError(
            f"{_source(config)}: the config has no `search` block, so there is nothing to "
            "tune. Add one, e.g. search: {args.dropout: {type: float, min: 0.0, max: 0.5}}."
        )


# --- objectives ----------------------------------------------------------------------

# Values measured on the trained model rather than logged by fit (Optuna engine only).
PSEUDO_METRICS = {"params": "min", "latency": "min"}
DIRECTIONS = ("min", "max")


@dataclass(frozen=True)
class Objective:
    """A value to optimize and its direction ("min" or "max")."""

    name: str
    direction: str

    def better(self, a: float, b: float) -> bool:
        return a > b if self.direction == "max" else a < b


def objective_names(config: Mapping[str, Any], validation: bool) -> list[str]:
    """The values a search can optimize: the loss and each metric (`val_` ones with validation)."""
    names = ["loss"]
    for spec in config["train"]["metrics"]:
        metric = metrics.get(spec)
        name = metric if isinstance(metric, str) else getattr(metric, "name", None)
        if name is None and isinstance(spec, str):
            name = spec
        if name and name not in names:
            names.append(name)
    return names + [f"val_{n}" for n in names] if validation else names


def default_direction(name: str) -> str:
    """Losses, errors and the pseudo-metrics are minimized; everything else maximized."""
    if name in PSEUDO_METRICS:
        return PSEUDO_METRICS[name]
    return "min" if "loss" in name or "error" in name else "max"


def parse_objective(
    config: Mapping[str, Any], spec: str, validation: bool, pseudo: bool = False
) -> Objective:
    """`METRIC[:min|max]` as an `Objective`, checked against what the training logs.

    `pseudo` allows `params` (parameter count) and `latency` (seconds per example).
    """
    name, sep, direction = str(spec).partition(":")
    allowed = objective_names(config, validation) + (list(PSEUDO_METRICS) if pseudo else [])
    if name not in allowed:
        hint = ""
        if validation is False and name.startswith("val_"):
            hint = (
                " The data leaves no validation split: raise data.validation_split or use --folds."
            )
        elif not pseudo and name in PSEUDO_METRICS:
            hint = f" `{name}` is measured by the Optuna engine only: add --engine optuna."
        raise ConfigError(
            f"--objective must be a value the training logs"
            f"{' or params / latency' if pseudo else ''}. Received: {name!r}. "
            f"{did_you_mean(name, allowed)}{hint}"
        )
    if sep and direction not in DIRECTIONS:
        raise ConfigError(
            f"--objective {spec!r}: the direction after `:` must be min or max. "
            f"Received: {direction!r}. {did_you_mean(direction, DIRECTIONS)}"
        )
    return Objective(name, direction or default_direction(name))


class TrialFailed(RuntimeError):
    """A trial's training diverged: its loss or objective became NaN or infinite."""


def check_finite(history: Mapping[str, Sequence[float]]) -> None:
    """Raises `TrialFailed` when a loss in a `History.history` mapping is NaN or infinite."""
    for key, values in history.items():
        if "loss" in key and not all(math.isfinite(float(v)) for v in values):
            raise TrialFailed(
                f"Training diverged: `{key}` became NaN or infinite. Lower the learning "
                "rate range or add gradient clipping (train.optimizer.global_clipnorm)."
            )
