"""The model registry: builders by name, each with a default zoo config of the same name.

`register` is the decorator beside every builder; `get` builds a model from its zoo
config and compiles it with the config's recipe; `list` and `describe` let users look
around. The registry holds builders only; configs live in `zoo_configs/`.
"""

from __future__ import annotations

import builtins
import fnmatch
import inspect
from collections.abc import Callable
from typing import Any

from kzoo.errors import did_you_mean

Builder = Callable[..., Any]
_BUILDERS: dict[str, Builder] = {}


def register(name: str) -> Callable[[Builder], Builder]:
    """Registers a model builder under `name`.

    Example:

    >>> import keras, kzoo
    >>> @kzoo.models.register("my_tiny_mlp")
    ... def my_tiny_mlp(input_shape=(4,), num_classes=2):
    ...     inputs = keras.Input(input_shape)
    ...     return keras.Model(inputs, keras.layers.Dense(num_classes)(inputs))
    >>> "my_tiny_mlp" in kzoo.models.list()
    True
    >>> kzoo.registry.unregister("my_tiny_mlp")
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            "A model name must be a Python identifier such as 'cnn_mlp_rnn' so it can name "
            f"a config file and a CLI argument. Received: {name!r}."
        )

    def decorator(builder: Builder) -> Builder:
        if name in _BUILDERS:
            raise ValueError(
                f"A model named {name!r} is already registered (by "
                f"{_BUILDERS[name].__module__}.{_BUILDERS[name].__qualname__}). "
                "Choose another name, or call kzoo.registry.unregister(name) first."
            )
        _BUILDERS[name] = builder
        return builder

    return decorator


def unregister(name: str) -> None:
    """Removes `name` from the registry (for users replacing a builder, and tests)."""
    builder(name)
    del _BUILDERS[name]


def builder(name: str) -> Builder:
    """The builder function registered under `name`."""
    try:
        return _BUILDERS[name]
    except KeyError:
        raise ValueError(
            f"Unknown model {name!r}. {did_you_mean(name, _BUILDERS)} "
            "Run `kzoo list` (or kzoo.models.list()) to see every model."
        ) from None


def list(pattern: str = "*") -> builtins.list[str]:  # noqa: A001 - mirrors timm.list_models
    """Sorted names of the registered models matching the fnmatch `pattern`.

    >>> import kzoo
    >>> kzoo.models.list("cnn_mlp_*")
    ['cnn_mlp_rnn']
    """
    return sorted(n for n in _BUILDERS if fnmatch.fnmatchcase(n, pattern))


def builder_arguments(name: str) -> dict[str, inspect.Parameter]:
    """The keyword arguments the builder of `name` accepts."""
    return dict(inspect.signature(builder(name)).parameters)


def get(name: str, *, compile: bool = True, **overrides: Any):
    """Builds the model `name` from its zoo config, with `overrides` replacing `args` entries.

    With `compile=True` the model is compiled with the config's `train` recipe
    (optimizer, schedule, loss, metrics).

    >>> import kzoo
    >>> model = kzoo.models.get("mlp", num_classes=3)
    >>> model.output.shape
    (None, 3)
    """
    from kzoo import configs, recipe  # configs import the registry: resolve at call time

    builder(name)  # an unknown name is an unknown model, not a missing config
    config = configs.load(name, overrides={f"args.{k}": v for k, v in overrides.items()})
    model = build(config)
    if compile:
        recipe.compile_model(model, config)
    return model


def build(config: dict) -> Any:
    """Builds the (uncompiled) model a validated config describes."""
    return builder(config["model"])(**config["args"])


def describe(name: str) -> str:
    """The model card of `name`: what it is, its arguments, default recipe and reference result."""
    from kzoo import configs

    builder(name)
    config = configs.load(name)
    model = build(config)
    doc = inspect.getdoc(builder(name)) or "(no description)"
    summary = doc.split("\n\n", 1)[0]
    train = config["train"]
    lines = [
        f"{name}: {config.get('description') or summary}",
        "",
        summary if config.get("description") else "",
        f"Input:  {_shapes(model.inputs)}",
        f"Output: {_shapes(model.outputs)}",
        f"Parameters: {model.count_params():,}",
        "",
        "Default arguments (zoo_configs/" + name + ".yaml, `args`):",
        *[f"  {k}: {v}" for k, v in config["args"].items()],
        "",
        "Default recipe (`train`):",
        f"  optimizer: {train['optimizer']}",
        f"  schedule: {train.get('schedule')}",
        f"  loss: {train['loss']}",
        f"  metrics: {train['metrics']}",
        f"  batch_size: {train['batch_size']}, epochs: {train['epochs']}",
        f"Default data: {config['data']['source']}",
    ]
    if config.get("reference"):
        lines += ["", *_reference_lines(config["reference"], "Reference result", "")]
    others = {c: configs.load(c) for c in configs.names() if c != name}
    recipes = {c: other for c, other in others.items() if other["model"] == name}
    if recipes:
        lines += ["", "Recipes (other zoo configs for this model, `kzoo train NAME`):"]
    for other, recipe in recipes.items():
        lines.append(f"  {other}: {recipe.get('description') or ''}".rstrip())
        if recipe.get("reference"):
            lines += _reference_lines(recipe["reference"], "    result", "  ")
    return "\n".join(line for line in lines if line is not None).replace("\n\n\n", "\n\n")


def _reference_lines(reference: dict, label: str, indent: str) -> list[str]:
    """A config's measured result and the command that reproduced it."""
    lines = [f"{label}: {reference.get('result')}"]
    if reference.get("command"):
        lines.append(f"{indent}  reproduced with: {reference['command']}")
    return lines


def _shapes(tensors) -> str:
    return ", ".join(str(tuple(t.shape)) for t in tensors)
