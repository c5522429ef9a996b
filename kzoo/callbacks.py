"""Callbacks by name from a config's `train.callbacks` block."""

from __future__ import annotations

from typing import Any

import keras

from kzoo import specs

CALLBACKS: dict[str, Any] = {
    "early_stopping": keras.callbacks.EarlyStopping,
    "reduce_lr_on_plateau": keras.callbacks.ReduceLROnPlateau,
}


def from_config(block: dict[str, Any] | None) -> list[keras.callbacks.Callback]:
    """`{early_stopping: {patience: 3}, newbob: {}}` -> the callbacks, in order."""
    return [
        specs.build({"name": name, **(kwargs or {})}, CALLBACKS, "callback")
        for name, kwargs in (block or {}).items()
    ]
