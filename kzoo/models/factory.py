"""Models from configs: `get`, `build` and `describe`, above the registry (timm's `_factory`).

The registry (`kzoo.registry`) only maps names to builders. This module turns a name
or a loaded config into a model: it reads the zoo config (or, for a builder without
one, the defaults of its signature and the default recipe), builds, and compiles with
the config's `train` recipe.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any

import keras

from kzoo import configs, presets, recipe, registry, weight_settings
from kzoo.errors import ConfigError


def get(
    name: str, *, compile: bool = True, preset: str | None = None, **overrides: Any
) -> keras.Model:
    """Builds the model `name` from its zoo config, with `overrides` replacing `args` entries.

    With `compile=True` the model is compiled with the config's `train` recipe
    (optimizer, schedule, loss, metrics). A registered model without a zoo config gets
    the defaults of its builder's signature and `kzoo.configs.TRAIN_DEFAULTS`. `preset`
    (a shipped preset's name, a preset directory or archive, a run directory or a URL)
    gives the model that preset's arguments and trained weights (`kzoo.presets`).

    >>> import kzoo
    >>> model = kzoo.models.get("mlp", num_classes=3)
    >>> model.output.shape
    (None, 3)
    """
    if preset is not None:
        return _from_preset(name, preset, compile, overrides)
    registry.builder(name)  # an unknown name is an unknown model, not a missing config
    config = configs.load(name, overrides={f"args.{k}": v for k, v in overrides.items()})
    model = build(config)
    if compile:
        recipe.compile_model(model, config)
    return model


def _from_preset(name: str, preset, compile: bool, overrides: dict[str, Any]) -> keras.Model:
    """The zoo model `name` with a preset's weights.

    The preset's `args` (input shape, classes ...) replace the zoo config's; `overrides`
    may change only arguments that leave the weights' shapes as they are (e.g. dropout).
    """
    with presets.opened(preset) as (directory, manifest):
        if manifest["model"] != name:
            raise ConfigError(
                f"Preset {preset} holds weights of model {manifest['model']!r}, not {name!r}. "
                f"Use kzoo.models.get({manifest['model']!r}, preset=...)."
            )
        model = get(name, compile=compile, **{**manifest["args"], **overrides})
        model.load_weights(directory / manifest["weights"]["file"])
    return model


def build(config: dict) -> keras.Model:
    """Builds the (uncompiled) model a validated config describes.

    The layers are made under `train.mixed_precision` (the dtype policy is a property of
    each layer, fixed when it is made; Keras's `compile` then adds loss scaling for
    `mixed_float16`). The regularizers and initializers of `args` that the builder does
    not take itself apply to the built model (`kzoo.weight_settings`).
    """
    builder = registry.builder(config["model"])
    accepted = inspect.signature(builder).parameters
    args = dict(config["args"])
    settings = weight_settings.parse(
        {k: args.pop(k) for k in weight_settings.ARGUMENTS if k in args and k not in accepted}
    )
    with dtype_policy(config["train"].get("mixed_precision")):
        model = builder(**args)
    return weight_settings.apply(model, settings)


@contextlib.contextmanager
def dtype_policy(name: str | None):
    """Makes layers under the Keras dtype policy `name` (None: the global policy as it is)."""
    if name is None:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def card(name: str) -> dict[str, Any]:
    """The model card of `name` as data (`kzoo show NAME --json`); `describe` prints it."""
    builder = registry.builder(name)
    config = configs.load(name)
    model = build(config)
    doc = inspect.getdoc(builder) or "(no description)"
    train = config["train"]
    recipes = []
    for other in configs.names():
        if other == name:
            continue
        recipe_config = configs.load(other)
        if recipe_config["model"] == name:
            recipes.append(
                {
                    "name": other,
                    "description": recipe_config.get("description") or "",
                    "reference": recipe_config.get("reference") or {},
                }
            )
    return {
        "name": name,
        "description": config.get("description") or "",
        "summary": doc.split("\n\n", 1)[0],
        "inputs": [list(t.shape) for t in model.inputs],
        "outputs": [list(t.shape) for t in model.outputs],
        "parameters": model.count_params(),
        "args_from": (
            f"zoo_configs/{name}.yaml"
            if configs.has_zoo_config(name)
            else "the builder's signature"
        ),
        "args": config["args"],
        "train": {
            key: train.get(key)
            for key in ("optimizer", "schedule", "loss", "metrics", "batch_size", "epochs")
        },
        "data_source": config["data"]["source"],
        "reference": config.get("reference") or {},
        "recipes": recipes,
    }


def describe(name: str) -> str:
    """The model card of `name`: what it is, its arguments, default recipe and reference result."""
    info = card(name)
    train = info["train"]
    lines = [
        f"{name}: {info['description'] or info['summary']}",
        "",
        info["summary"] if info["description"] else "",
        f"Input:  {_shapes(info['inputs'])}",
        f"Output: {_shapes(info['outputs'])}",
        f"Parameters: {info['parameters']:,}",
        "",
        f"Default arguments ({info['args_from']}, `args`):",
        *[f"  {k}: {v}" for k, v in info["args"].items()],
        "",
        "Default recipe (`train`):",
        f"  optimizer: {train['optimizer']}",
        f"  schedule: {train['schedule']}",
        f"  loss: {train['loss']}",
        f"  metrics: {train['metrics']}",
        f"  batch_size: {train['batch_size']}, epochs: {train['epochs']}",
        f"Default data: {info['data_source']}",
    ]
    if info["reference"]:
        lines += ["", *_reference_lines(info["reference"], "Reference result", "")]
    if info["recipes"]:
        lines += ["", "Recipes (other zoo configs for this model, `kzoo train NAME`):"]
    for other in info["recipes"]:
        lines.append(f"  {other['name']}: {other['description']}".rstrip())
        if other["reference"]:
            lines += _reference_lines(other["reference"], "    result", "  ")
    return "\n".join(lines).replace("\n\n\n", "\n\n")


def _reference_lines(reference: dict, label: str, indent: str) -> list[str]:
    """A config's measured result and the command that reproduced it."""
    lines = [f"{label}: {reference.get('result')}"]
    if reference.get("command"):
        lines.append(f"{indent}  reproduced with: {reference['command']}")
    return lines


def _shapes(shapes) -> str:
    return ", ".join(str(tuple(shape)) for shape in shapes)
