"""A config's `train` block -> optimizer, schedule, loss, metrics, callbacks -> `model.compile`."""

from __future__ import annotations

from pathlib import Path
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


_CTC_LOSSES = ("ctc", "ctc_loss")
_CTC_METRICS = ("token_error_rate",)


def _spec_name(spec) -> str | None:
    name = spec.get("name") if isinstance(spec, dict) else spec
    return name if isinstance(name, str) else None


def _with_head_blank(spec, names: tuple[str, ...], blank: int):
    """`spec` with `blank_index` set to the ctc head's blank when it names one of `names`."""
    if _spec_name(spec) not in names:
        return spec
    return {"blank_index": blank, **(spec if isinstance(spec, dict) else {"name": spec})}


def compile_model(
    model: keras.Model, config: dict[str, Any], steps_per_epoch: int = DEFAULT_STEPS_PER_EPOCH
) -> keras.Model:
    """Compiles `model` with the recipe of `config` and returns it.

    With `args.head: ctc` the model's last output class is the CTC blank, so the `ctc`
    loss and the `token_error_rate` metric get that `blank_index` unless they set one.
    """
    train, source = config["train"], config.get("source", "<config>")
    loss, metric_specs = train["loss"], train["metrics"]
    if config.get("args", {}).get("head") == "ctc":
        if _spec_name(loss) not in _CTC_LOSSES:
            raise ConfigError(
                f"{source}: `args.head` is 'ctc', whose per-frame logits need the CTC loss. "
                f"Received: train.loss={loss!r}. Set `train.loss: ctc` in the config or with "
                "`--set train.loss=ctc` (kzoo sets the blank: the head's last class), or "
                "build with compile=False and compile with "
                "kzoo.losses.CTCLoss(blank_index=num_classes)."
            )
        blank = model.output.shape[-1] - 1
        loss = _with_head_blank(loss, _CTC_LOSSES, blank)
        metric_specs = [_with_head_blank(m, _CTC_METRICS, blank) for m in metric_specs]
    model.compile(
        optimizer=optimizer(config, steps_per_epoch),
        loss=_named("loss", losses.get, loss, source),
        metrics=[_named("metrics", metrics.get, m, source) for m in metric_specs],
        jit_compile=train.get("jit_compile", "auto"),
    )
    return model


def make_callbacks(
    config: dict[str, Any], directory: str | Path | None = None
) -> list[keras.callbacks.Callback]:
    """The callbacks a config's `train.callbacks` block names.

    With a run `directory`, the file-writing callbacks write there, and TensorBoard logs
    go to `directory/tensorboard` unless `train.tensorboard` is false.
    """
    block = config["train"]["callbacks"]
    if directory is not None and config["train"].get("tensorboard") and isinstance(block, dict):
        block = {**block, "tensorboard": block.get("tensorboard") or {}}
    return _named(
        "callbacks",
        lambda spec: callbacks.from_config(spec, directory),
        block,
        config.get("source", "<config>"),
    )
