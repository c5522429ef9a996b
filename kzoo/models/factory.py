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

from kzoo import configs, recipe, registry, weight_settings


def get(name: str, *, compile: bool = True, **overrides: Any) -> keras.Model:
    """Builds the model `name` from its zoo config, with `overrides` replacing `args` entries.

    With `compile=True` the model is compiled with the config's `train` recipe
    (optimizer, schedule, loss, metrics). A registered model without a zoo config gets
    the defaults of its builder's signature and `kzoo.configs.TRAIN_DEFAULTS`.

    >>> import kzoo
    >>> model = kzoo.models.get("mlp", num_classes=3)
    >>> model.output.shape
    (None, 3)
    """
    registry.builder(name)  # an unknown name is an unknown model, not a missing config
    config = configs.load(name, overrides={f"args.{k}": v for k, v in overrides.items()})
    model = build(config)
    if compile:
        recipe.compile_model(model, config)
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


def describe(name: str) -> str:
    """The model card of `name`: what it is, its arguments, default recipe and reference result."""
    builder = registry.builder(name)
    config = configs.load(name)
    model = build(config)
    doc = inspect.getdoc(builder) or "(no description)"
    summary = doc.split("\n\n", 1)[0]
    train = config["train"]
    origin = (
        f"zoo_configs/{name}.yaml" if configs.has_zoo_config(name) else "the builder's signature"
    )
    lines = [
        f"{name}: {config.get('description') or summary}",
        "",
        summary if config.get("description") else "",
        f"Input:  {_shapes(model.inputs)}",
        f"Output: {_shapes(model.outputs)}",
        f"Parameters: {model.count_params():,}",
        "",
        f"Default arguments ({origin}, `args`):",
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
    for other, recipe_config in recipes.items():
        lines.append(f"  {other}: {recipe_config.get('description') or ''}".rstrip())
        if recipe_config.get("reference"):
            lines += _reference_lines(recipe_config["reference"], "    result", "  ")
    return "\n".join(line for line in lines if line is not None).replace("\n\n\n", "\n\n")


def _reference_lines(reference: dict, label: str, indent: str) -> list[str]:
    """A config's measured result and the command that reproduced it."""
    lines = [f"{label}: {reference.get('result')}"]
    if reference.get("command"):
        lines.append(f"{indent}  reproduced with: {reference['command']}")
    return lines


def _shapes(tensors) -> str:
    return ", ".join(str(tuple(t.shape)) for t in tensors)
