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
import importlib.resources
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from kzoo import registry
from kzoo.errors import ConfigError, did_you_mean

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
}

DATA_DEFAULTS: dict[str, Any] = {
    "source": "vowels",
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


def config_dir() -> Path:
    """Where the zoo configs live: inside the installed wheel, or at the repository root."""
    packaged = importlib.resources.files("kzoo") / "zoo_configs"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "zoo_configs"  # a source checkout


def names() -> list[str]:
    """Sorted names of the shipped zoo configs."""
    return sorted(p.stem for p in config_dir().glob("*.yaml"))


def resolve_path(name_or_path: str | Path) -> Path:
    """The file a config name or path stands for."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text or Path(text).is_file():
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
            f"Unknown config {text!r}. {did_you_mean(text, names())} Run `kzoo list` to see "
            "every zoo config, or pass the path of a YAML file."
        )
    return path


def read(path: Path) -> dict[str, Any]:
    """The raw mapping a YAML file holds (no defaults, no validation)."""
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(
            f"{path}{where}: invalid YAML ({problem}). Fix the syntax; configs are plain data."
        ) from None
    except OSError as error:
        raise ConfigError(f"Cannot read config {path}: {error.strerror}.") from None
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
        name_or_path: a zoo config name (`"cnn_mlp_rnn"`), a path to a YAML file, or an
            already-read mapping.
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
            f"{source}: unknown top-level key {key!r}. {did_you_mean(key, TOP_LEVEL_KEYS)} "
            f"Expected keys: {', '.join(TOP_LEVEL_KEYS)}."
        )
    for key in REQUIRED_KEYS:
        if key not in raw:
            raise ConfigError(f"{source}: missing required key `{key}` (a registered model name).")
    if not isinstance(raw["model"], str):
        raise ConfigError(f"{source}: `model` must be a model name. Received: {raw['model']!r}.")
    for key in ("args", "train", "data", "search", "reference"):
        value = raw.get(key)
        if value is not None and not isinstance(value, dict):
            raise ConfigError(
                f"{source}: `{key}` must be a mapping of key: value lines. "
                f"Received a {type(value).__name__}: {value!r}."
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
                f"Override {item!r} must look like key.path=value, e.g. args.units=64 or "
                "train.optimizer.learning_rate=0.01."
            )
        parsed[key.strip()] = _scalar(text)
    return parsed


def _scalar(text: str) -> Any:
    """A CLI value as YAML reads it, except that `1e-3` is a number (YAML 1.1 wants `1.0e-3`)."""
    if not text.strip():
        return None
    try:
        value = yaml.safe_load(text)
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
                f"{source}: cannot set {dotted!r}: {'.'.join(parts[:depth])!r} is a "
                f"{type(node).__name__}, not a mapping."
            )
        allowed = set(node)
        if depth == 1 and parts[0] == "args":
            allowed |= set(registry.builder_arguments(config["model"]))
        if depth == 1 and parts[0] == "train" and parts[1] in ("schedule", "callbacks"):
            allowed.add(parts[1])
        if part not in allowed:
            raise ConfigError(
                f"{source}: override {dotted!r} names no existing key ({here!r}). "
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
    name = config["model"]
    try:
        parameters = registry.builder_arguments(name)
    except ValueError as error:
        raise ConfigError(f"{source}: `model`: {error}") from None
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    for key in config["args"]:
        if key not in parameters and not accepts_any:
            raise ConfigError(
                f"{source}: `args.{key}` is not an argument of model {name!r}. "
                f"{did_you_mean(key, parameters)}"
            )
    missing = [
        key
        for key, p in parameters.items()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and key not in config["args"]
    ]
    if missing:
        raise ConfigError(
            f"{source}: `args` must set {', '.join(missing)} (model {name!r} requires it)."
        )
    for section, allowed in (("train", TRAIN_DEFAULTS), ("data", DATA_DEFAULTS)):
        for key in config[section]:
            if key not in allowed:
                raise ConfigError(
                    f"{source}: unknown key `{section}.{key}`. {did_you_mean(key, allowed)}"
                )
    train = config["train"]
    for key in ("batch_size", "epochs"):
        value = train[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(
                f"{source}: `train.{key}` must be a positive integer. Received: {value!r}."
            )
    seed = train["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"{source}: `train.seed` must be an integer. Received: {seed!r}.")
    if train["jit_compile"] not in (True, False, "auto"):
        raise ConfigError(
            f"{source}: `train.jit_compile` must be true, false or auto. "
            f"Received: {train['jit_compile']!r}."
        )
    if not isinstance(train["metrics"], list):
        raise ConfigError(
            f"{source}: `train.metrics` must be a list such as [accuracy]. "
            f"Received: {train['metrics']!r}."
        )
    if not isinstance(train["callbacks"], dict):
        raise ConfigError(
            f"{source}: `train.callbacks` must map callback names to their arguments, e.g. "
            f"{{early_stopping: {{patience: 3}}}}. Received: {train['callbacks']!r}."
        )
    if config["data"]["targets"] not in ("labels", "inputs"):
        raise ConfigError(
            f"{source}: `data.targets` must be `labels` (classification) or `inputs` "
            f"(reconstruction, for autoencoders). Received: {config['data']['targets']!r}."
        )
    task = config["data"]["task"]
    if task is not None and not isinstance(task, str):
        raise ConfigError(
            f"{source}: `data.task` must name a label set (e.g. vowel or speaker) or be null. "
            f"Received: {task!r}."
        )
    for key in ("validation_split", "test_split"):
        value = config["data"][key]
        if not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise ConfigError(
                f"{source}: `data.{key}` must be a fraction in [0, 1). Received: {value!r}."
            )


def dump(config: dict[str, Any]) -> str:
    """The YAML text of a resolved config (without the `source` bookkeeping key)."""
    clean = {k: v for k, v in config.items() if k != "source"}
    return yaml.safe_dump(clean, sort_keys=False, default_flow_style=None)
