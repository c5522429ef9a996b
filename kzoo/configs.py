"""Zoo configs: plain-data YAML files that say which model to build and how to train it.

A config has the top-level keys `model` (a registered name), `description`, `args`
(keyword arguments of the model's builder), `train` (the recipe), `data` (the default
data source and features), `search` (the Keras Tuner search space) and `reference`
(the result the config reached, and the command that reproduced it).

`load` reads one by name (`zoo_configs/NAME.yaml`) or by path, fills the defaults,
applies dotted overrides and validates everything against the builder's signature
and the keys the training runner accepts.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.resources
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from kzoo import registry, weight_settings
from kzoo.errors import ConfigError, check_like, check_number, did_you_mean, preview

TOP_LEVEL_KEYS = ("model", "description", "args", "train", "data", "search", "reference")
REQUIRED_KEYS = ("model",)

TRAIN_DEFAULTS: dict[str, Any] = {
    "optimizer": {"name": "adam", "learning_rate": 1e-3},
    "schedule": None,
    "loss": "sparse_categorical_crossentropy",
    "metrics": ["accuracy"],
    "batch_size": 32,
    "epochs": 10,
    "callbacks": {},
    "seed": 0,
    "jit_compile": "auto",
    "tensorboard": True,  # kzoo train logs to RUN_DIR/tensorboard
    "mixed_precision": None,  # or mixed_float16 / mixed_bfloat16: the layers' dtype policy
}

PRECISION_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")

DATA_DEFAULTS: dict[str, Any] = {
    "source": "vowels",  # null: no default, `--data` must name one (data kzoo cannot ship)
    "download_instructions": None,  # where to get the data; the error for a missing source says it
    "task": None,  # which label set: `vowel` or `speaker` for vowels; None for one-label sources
    "targets": "labels",  # `labels`, or `inputs` for autoencoders (the target is the input)
    "features": {"type": "raw"},
    "validation_split": 0.1,
    "test_split": 0.1,
    "test_pattern": None,  # files whose name matches go to the test split (folders only)
    "trim_silence": None,  # dB: cut leading and trailing audio this far below the peak
    "max_seconds": None,  # longer audio is cropped, shorter padded, to this duration
    "sample_rate": None,  # expected sample rate of audio (checked), None to accept the first seen
    "augment": {},
    "bucketing": True,  # batch audio by length when the model's time axis is variable
    "cache": "auto",  # features kept between epochs: auto, memory, or a directory
}


@dataclasses.dataclass(frozen=True)
class Rule:
    """What one `train` or `data` key accepts.

    `RULES` is the one statement of these: `validate` enforces it, the generative
    test draws good and bad values from it and the docs' config reference lists it.
    `kind` is one of: count (an integer), number, choice, name (a string),
    name_or_mapping (a name, or a mapping of arguments), list, mapping.
    """

    kind: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    choices: tuple[Any, ...] = ()
    nullable: bool = False
    doc: str = ""

    def describe(self) -> str:
        """What the key accepts, as the error message and the docs say it."""
        kinds = {
            "count": "an integer",
            "number": "a number",
            "choice": "one of "
            + ", ".join(repr(c) if isinstance(c, str) else str(c).lower() for c in self.choices),
            "name": "a string",
            "name_or_mapping": "a name or a mapping such as {name: ..., <argument>: <value>}",
            "list": "a list",
            "mapping": "a mapping of names to arguments",
        }
        text = kinds[self.kind]
        if self.minimum is not None or self.maximum is not None:
            left = "(" if self.exclusive_minimum else "["
            right = ")" if self.exclusive_maximum else "]"
            text += f" in {left}{self.minimum:g}, {self.maximum:g}{right}"
        return text + (" or null" if self.nullable else "")

    def check(self, key: str, value: Any, source: str) -> None:
        if value is None and self.nullable:
            return
        if self.kind in ("count", "number"):
            try:
                check_number(
                    key,
                    value,
                    integer=self.kind == "count",
                    minimum=self.minimum,
                    maximum=self.maximum,
                    exclusive_minimum=self.exclusive_minimum,
                    exclusive_maximum=self.exclusive_maximum,
                )
            except ValueError:
                pass
            else:
                return
        elif self.kind == "choice":
            if any(value is c or (type(value) is type(c) and value == c) for c in self.choices):
                return
        elif isinstance(value, _TYPES[self.kind]):
            return
        raise ConfigError(
            f"{source}: `{key}` must be {self.describe()}. Received: {preview(value)}."
            + (f" ({self.doc})" if self.doc else "")
        )


_TYPES = {"name": str, "name_or_mapping": (str, dict), "list": list, "mapping": dict}

RULES: dict[str, Rule] = {
    "train.optimizer": Rule("name_or_mapping", doc="e.g. adam or {name: sgd, momentum: 0.9}"),
    "train.schedule": Rule("name_or_mapping", nullable=True),
    "train.loss": Rule("name_or_mapping"),
    "train.metrics": Rule("list", doc="e.g. [accuracy]"),
    "train.batch_size": Rule("count", 1, 65_536),
    "train.epochs": Rule("count", 1, 1_000_000),
    "train.callbacks": Rule("mapping", doc="e.g. {early_stopping: {patience: 3}}"),
    "train.seed": Rule("count", 0, 2**32 - 1),
    "train.jit_compile": Rule("choice", choices=(True, False, "auto")),
    "train.tensorboard": Rule("choice", choices=(True, False), doc="logs in RUN_DIR/tensorboard"),
    "train.mixed_precision": Rule("choice", choices=PRECISION_POLICIES, nullable=True),
    "data.source": Rule("name", nullable=True, doc="vowels, tfds:NAME[:split] or a folder"),
    "data.task": Rule("name", nullable=True, doc="a label set, e.g. vowel or speaker"),
    "data.targets": Rule("choice", choices=("labels", "inputs")),
    "data.features": Rule("name_or_mapping", doc="raw, logmel, mfcc or {type: logmel, ...}"),
    "data.validation_split": Rule(
        "number", 0, 1, exclusive_maximum=True, doc="the fraction of examples held out"
    ),
    "data.test_split": Rule(
        "number", 0, 1, exclusive_maximum=True, doc="the fraction of examples held out"
    ),
    "data.test_pattern": Rule("name", nullable=True, doc="a regular expression on file names"),
    "data.trim_silence": Rule(
        "number", 0, 200, exclusive_minimum=True, nullable=True, doc="decibels below the peak"
    ),
    "data.max_seconds": Rule("number", 0, 86_400, exclusive_minimum=True, nullable=True),
    "data.sample_rate": Rule("count", 1, 1_000_000, nullable=True),
    "data.augment": Rule("mapping"),
}


def config_dir() -> Path:
    """Where the zoo configs live: inside the installed wheel, or at the repository root."""
    packaged = importlib.resources.files("kzoo") / "zoo_configs"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "zoo_configs"  # a source checkout


def names() -> list[str]:
    """Sorted names of the shipped zoo configs."""
    return sorted(p.stem for p in config_dir().glob("*.yaml"))


def has_zoo_config(name: str) -> bool:
    """Whether a zoo config file of this name ships with kzoo."""
    return (config_dir() / f"{name}.yaml").is_file()


def _is_path(text: str) -> bool:
    return text.endswith((".yaml", ".yml")) or "/" in text or Path(text).is_file()


def builder_defaults(name: str) -> dict[str, Any]:
    """The config of a registered model without a zoo config: its builder's defaults.

    `args` holds the signature's defaults that are plain data (YAML can hold them, so the
    run directory's config.yaml reproduces the run); `train` and `data` are the defaults
    every config starts from.

    >>> import kzoo
    >>> kzoo.configs.builder_defaults("mlp")["args"]["units"]
    [256, 256]
    """
    arguments = registry.builder_arguments(name)
    args = {}
    for key, parameter in arguments.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.default is not inspect.Parameter.empty and _is_plain(parameter.default):
            args[key] = _plain(parameter.default)
    return {"model": name, "args": args}


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _plain(value: Any) -> Any:
    """Tuples become lists, as a config read from YAML holds them."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _registered_without_config(text: str) -> bool:
    if _is_path(text) or has_zoo_config(text):
        return False
    try:
        registry.builder(text)
    except ValueError:
        return False
    return True


def resolve_path(name_or_path: str | Path) -> Path:
    """The file a config name or path stands for."""
    text = str(name_or_path)
    if _is_path(text):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"Config file {text} does not exist. Pass the path of a YAML file, or the "
                "name of a zoo config (`kzoo list` shows them)."
            )
        return path
    path = config_dir() / f"{text}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"Unknown config {preview(text)}. {did_you_mean(text, names())} Run `kzoo list` to see "
            "every zoo config, or pass the path of a YAML file."
        )
    return path


# A config is a few hundred values; an alias bomb ("billion laughs") is a few hundred
# bytes whose aliases expand to billions. Anything past this many values is refused.
MAX_VALUES = 100_000


def parse_yaml(text: str) -> Any:
    """`yaml.safe_load`, refusing documents whose aliases expand beyond `MAX_VALUES`.

    >>> parse_yaml("a: &x [1, 2]\\nb: *x")
    {'a': [1, 2], 'b': [1, 2]}
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node, {}) > MAX_VALUES:
            raise ConfigError(
                f"The YAML expands (through its aliases, `*name`) to more than {MAX_VALUES:,} "
                "values, which no config needs. Write the values out, or use fewer aliases."
            )
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values `node` stands for once every alias is expanded (memoized per node)."""
    key = id(node)
    if key in sizes:
        if sizes[key] < 0:  # met again while being counted: a recursive alias
            raise ConfigError("The YAML holds a recursive alias (a value that contains itself).")
        return sizes[key]
    sizes[key] = -1
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        children = []
    total = 1
    for child in children:
        total += _expanded_size(child, sizes)
        if total > MAX_VALUES:
            break
    sizes[key] = total
    return total


def read(path: Path) -> dict[str, Any]:
    """The raw mapping a YAML file holds (no defaults, no validation)."""
    try:
        raw = parse_yaml(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(
            f"{path}{where}: invalid YAML ({problem}). Fix the syntax; configs are plain data."
        ) from None
    except OSError as error:
        raise ConfigError(f"Cannot read config {path}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a text file; a config is YAML text.") from None
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: a config must be a mapping with at least a `model` key. "
            f"Received a {type(raw).__name__}."
        )
    return raw


def load(
    name_or_path: str | Path | Mapping[str, Any],
    overrides: Mapping[str, Any] | list[str] | None = None,
) -> dict[str, Any]:
    """Loads, completes, overrides and validates a config.

    Args:
        name_or_path: a zoo config name (`"cnn_mlp_rnn"`), a path to a YAML file, an
            already-read mapping, or the name of a registered model without a zoo config
            (its builder's defaults, see `builder_defaults`).
        overrides: `{"args.units": 64}` or CLI-style `["args.units=64"]`. Each must name
            a key that exists (for `args`, an argument of the builder); CLI values are
            parsed as YAML scalars (`64` is an int, `[1, 2]` a list).

    Returns:
        A plain dict with every top-level key present; `config["source"]` says where it
        came from.

    >>> import kzoo
    >>> config = kzoo.configs.load("mlp", ["args.num_classes=3"])
    >>> config["args"]["num_classes"], config["train"]["batch_size"] > 0
    (3, True)
    """
    if isinstance(name_or_path, Mapping):
        source, raw = "<mapping>", copy.deepcopy(dict(name_or_path))
    elif _registered_without_config(str(name_or_path)):
        source, raw = str(name_or_path), builder_defaults(str(name_or_path))
    else:
        path = resolve_path(name_or_path)
        source, raw = str(path), read(path)
    config = _complete(raw, source)
    for key, value in _parse_overrides(overrides, source).items():
        _set(config, key, value, source)
    validate(config)
    return config


def _complete(raw: dict[str, Any], source: str) -> dict[str, Any]:
    unknown = [k for k in raw if k not in TOP_LEVEL_KEYS]
    if unknown:
        key = unknown[0]
        raise ConfigError(
            f"{source}: unknown top-level key {preview(key)}. {did_you_mean(key, TOP_LEVEL_KEYS)} "
            f"Expected keys: {', '.join(TOP_LEVEL_KEYS)}."
        )
    for key in REQUIRED_KEYS:
        if key not in raw:
            raise ConfigError(f"{source}: missing required key `{key}` (a registered model name).")
    if not isinstance(raw["model"], str):
        raise ConfigError(
            f"{source}: `model` must be a model name. Received: {preview(raw['model'])}."
        )
    for key in ("args", "train", "data", "search", "reference"):
        value = raw.get(key)
        if value is not None and not isinstance(value, dict):
            raise ConfigError(
                f"{source}: `{key}` must be a mapping of key: value lines. "
                f"Received a {type(value).__name__}."
            )
    return {
        "model": raw["model"],
        "description": raw.get("description", ""),
        "args": dict(raw.get("args") or {}),
        "train": {**copy.deepcopy(TRAIN_DEFAULTS), **(raw.get("train") or {})},
        "data": _merge(DATA_DEFAULTS, raw.get("data") or {}),
        "search": dict(raw.get("search") or {}),
        "reference": dict(raw.get("reference") or {}),
        "source": source,
    }


def _merge(defaults: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(defaults)
    merged.update(copy.deepcopy(values))
    return merged


def _parse_overrides(overrides, source: str) -> dict[str, Any]:
    if overrides is None:
        return {}
    if isinstance(overrides, Mapping):
        return dict(overrides)
    parsed = {}
    for item in overrides:
        key, sep, text = str(item).partition("=")
        if not sep or not key:
            raise ConfigError(
                f"Override {preview(item)} must look like key.path=value, e.g. args.units=64 or "
                "train.optimizer.learning_rate=0.01."
            )
        parsed[key.strip()] = _scalar(text)
    return parsed


def _scalar(text: str) -> Any:
    """A CLI value as YAML reads it, except that `1e-3` is a number (YAML 1.1 wants `1.0e-3`)."""
    if not text.strip():
        return None
    try:
        value = parse_yaml(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _set(config: dict[str, Any], dotted: str, value: Any, source: str) -> None:
    parts = dotted.split(".")
    node: Any = config
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        last = depth == len(parts) - 1
        if not isinstance(node, dict):
            raise ConfigError(
                f"{source}: cannot set {preview(dotted)}: {preview('.'.join(parts[:depth]))} is a "
                f"{type(node).__name__}, not a mapping."
            )
        allowed = set(node)
        if depth == 1 and parts[0] == "args":
            allowed |= set(registry.builder_arguments(config["model"]))
            allowed |= set(weight_settings.ARGUMENTS)
        if depth == 1 and parts[0] == "train" and parts[1] in ("schedule", "callbacks"):
            allowed.add(parts[1])
        if part not in allowed:
            raise ConfigError(
                f"{source}: override {preview(dotted)} names no existing key ({preview(here)}). "
                f"{did_you_mean(part, allowed)}"
            )
        if last:
            node[part] = value
        else:
            if node[part] is None:
                node[part] = {}
            elif isinstance(node[part], str) and depth >= 1:
                node[part] = {"name": node[part]}  # optimizer: adam -> {name: adam}
            node = node[part]


def validate(config: dict[str, Any]) -> None:
    """Checks `args` against the builder's signature and `train` / `data` against the runner."""
    source = config.get("source", "<config>")
    if not isinstance(config.get("model"), str):
        raise ConfigError(
            f"{source}: `model` must be a model name. Received: {preview(config.get('model'))}."
        )
    for key in ("args", "train", "data", "search", "reference"):
        if not isinstance(config.get(key), dict):
            raise ConfigError(
                f"{source}: `{key}` must be a mapping of key: value lines, e.g. --set "
                f"{key}.<name>=<value> to change one entry. Received a "
                f"{type(config.get(key)).__name__}."
            )
    name = config["model"]
    try:
        parameters = registry.builder_arguments(name)
    except ValueError as error:
        raise ConfigError(f"{source}: `model`: {error}") from None
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    for key in config["args"]:
        if key not in parameters and not accepts_any and key not in weight_settings.ARGUMENTS:
            raise ConfigError(
                f"{source}: `args.{key}` is not an argument of model {preview(name)}. "
                f"{did_you_mean(key, [*parameters, *weight_settings.ARGUMENTS])}"
            )
    for key, value in config["args"].items():
        if key in parameters:
            try:
                check_like(key, value, parameters[key].default)
            except ValueError as error:
                raise ConfigError(f"{source}: {error}") from None
    missing = [
        key
        for key, p in parameters.items()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and key not in config["args"]
    ]
    if missing:
        raise ConfigError(
            f"{source}: `args` must set {', '.join(missing)} (model {preview(name)} requires it)."
        )
    for section, allowed in (("train", TRAIN_DEFAULTS), ("data", DATA_DEFAULTS)):
        for key in config[section]:
            if key not in allowed:
                raise ConfigError(
                    f"{source}: unknown key `{section}.{key}`. {did_you_mean(key, allowed)}"
                )
    try:
        weight_settings.parse(config["args"])
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None
    for dotted, rule in RULES.items():
        section, key = dotted.split(".")
        if key in config[section]:
            rule.check(f"{section}.{key}", config[section][key], source)


def dump(config: dict[str, Any]) -> str:
    """The YAML text of a resolved config (without the `source` bookkeeping key)."""
    clean = {k: v for k, v in config.items() if k != "source"}
    return yaml.safe_dump(clean, sort_keys=False, default_flow_style=None)
