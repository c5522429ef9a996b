"""Learning-rate schedules: step-based `keras.optimizers.schedules.LearningRateSchedule`s."""

from __future__ import annotations

from typing import Any

import keras

from kzoo import specs

# config name -> schedule class; epoch-based schedules take `steps_per_epoch`.
SCHEDULES: dict[str, type] = {}


def get(spec: str | dict[str, Any], steps_per_epoch: int, epochs: int):
    """A schedule from a config spec; `steps_per_epoch` and `epochs` are filled in by the runner
    for schedules that take them."""
    name, kwargs = specs.split(spec, "schedule")
    table = {**specs.classes_by_name(keras.optimizers.schedules, keras.optimizers.schedules.LearningRateSchedule), **SCHEDULES}
    cls = table.get(name.lower())
    if cls is not None:
        import inspect

        accepted = inspect.signature(cls).parameters
        if "steps_per_epoch" in accepted and "steps_per_epoch" not in kwargs:
            kwargs["steps_per_epoch"] = steps_per_epoch
        if "epochs" in accepted and "epochs" not in kwargs:
            kwargs["epochs"] = epochs
    return specs.build({"name": name, **kwargs}, table, "schedule")
