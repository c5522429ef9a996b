"""A config's `train` block -> optimizer, schedule, loss, metrics, callbacks -> `model.compile`."""

from __future__ import annotations

from typing import Any

import keras

from kzoo import callbacks, losses, metrics, optimizers, schedules
from kzoo.errors import ConfigError

# Without data (kzoo.models.get), epoch-based schedules assume this many steps per epoch.
DEFAULT_STEPS_PER_EPOCH = 100


def _named(section: str, build, spec, source: str):
    try:
        return build(spec)
    except ValueError as error:
        raise ConfigError(f"{source}: `train.{section}`: {error}") from None


def schedule(config: dict[str, Any], steps_per_epoch: int = DEFAULT_STEPS_PER_EPOCH):
    """The learning-rate schedule of a config, or None for a constant rate."""
    train = config["train"]
    if not train.get("schedule"):
        return None
    return _named(
        "schedule",
        lambda spec: schedules.get(spec, steps_per_epoch=steps_per_epoch, epochs=train["epochs"]),
        train["schedule"],
        config.get("source", "<config>"),
    )


def optimizer(config: dict[str, Any], steps_per_epoch: int = DEFAULT_STEPS_PER_EPOCH):
    """The optimizer of a config, driven by its schedule when it has one."""
    rate = schedule(config, steps_per_epoch)
    return _named(
        "optimizer",
        lambda spec: optimizers.get(spec, schedule=rate),
        config["train"]["optimizer"],
        config.get("source", "<config>"),
    )


def compile_model(
    model: keras.Model, config: dict[str, Any], steps_per_epoch: int = DEFAULT_STEPS_PER_EPOCH
) -> keras.Model:
    """Compiles `model` with the recipe of `config` and returns it."""
    train, source = config["train"], config.get("source", "<config>")
    model.compile(
        optimizer=optimizer(config, steps_per_epoch),
        loss=_named("loss", losses.get, train["loss"], source),
        metrics=[_named("metrics", metrics.get, m, source) for m in train["metrics"]],
        jit_compile=train.get("jit_compile", "auto"),
    )
    return model


def make_callbacks(config: dict[str, Any]) -> list[keras.callbacks.Callback]:
    """The callbacks a config's `train.callbacks` block names."""
    return _named(
        "callbacks",
        callbacks.from_config,
        config["train"]["callbacks"],
        config.get("source", "<config>"),
    )
