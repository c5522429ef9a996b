"""Plotting helpers: the learning rate over a planned run.

Matplotlib is imported only when a plot is drawn, through its Agg (PNG) canvas and
object-oriented API, so plotting never changes the caller's pyplot backend or state.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

# Above this many steps the curve is sampled (plus every epoch boundary) rather than
# evaluated at each step.
_MAX_POINTS = 4000
_MAX_EPOCH_LINES = 60


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"Argument `{name}` of plot_schedule must be a positive integer. "
            f"Received: {name}={value!r}."
        )
    return value


def _steps_to_plot(total: int, steps_per_epoch: int) -> np.ndarray:
    if total <= _MAX_POINTS:
        return np.arange(total)
    boundaries = np.arange(0, total, steps_per_epoch)
    steps = np.concatenate(
        [
            np.linspace(0, total - 1, _MAX_POINTS).round(),
            boundaries,
            np.maximum(boundaries - 1, 0),
        ]
    )
    return np.unique(steps.astype(int))


def schedule_values(schedule: Any, steps: np.ndarray) -> np.ndarray:
    """The learning rate at each of `steps`: a float, a schedule or any callable of the step."""
    steps = np.asarray(steps)
    if not callable(schedule) and not isinstance(schedule, (bool, str, bytes)):
        try:  # a number, or a variable holding the optimizer's constant rate
            return np.full(steps.shape, float(schedule))
        except (TypeError, ValueError):
            pass
    if not callable(schedule):
        raise ValueError(
            "plot_schedule needs a learning-rate schedule (a "
            "keras.optimizers.schedules.LearningRateSchedule or any callable of the step) "
            f"or a constant rate. Received: {schedule!r}. Build one with "
            "kzoo.schedules.get(spec, steps_per_epoch, epochs)."
        )
    return np.array([float(schedule(int(step))) for step in steps], dtype="float64")


def plot_schedule(schedule: Any, steps_per_epoch: int, epochs: int, path: str | Path) -> Path:
    """Writes a PNG of the learning rate over `epochs * steps_per_epoch` optimizer steps.

    Steps are on the x axis, the rate on the y axis; dotted lines mark where each epoch
    begins (every few epochs for long runs). `schedule` is what the optimizer receives:
    a `LearningRateSchedule` (from `kzoo.schedules.get`), any callable of the step, or a
    constant rate (a float, or the variable `optimizer.learning_rate` of a float-rate
    optimizer). Parent folders of `path` are created.

    Args:
        schedule: the learning-rate schedule or a constant rate.
        steps_per_epoch: int > 0, optimizer steps per epoch.
        epochs: int > 0, epochs planned.
        path: where to write the PNG.

    Returns:
        The path written, as a `Path`.

    Example:

    >>> import tempfile, os, kzoo, kzoo.plots
    >>> sched = kzoo.schedules.StepDecay(0.1, steps_per_epoch=5)
    >>> out = kzoo.plots.plot_schedule(sched, 5, 4, os.path.join(tempfile.mkdtemp(), "lr.png"))
    >>> out.read_bytes()[:4]
    b'\\x89PNG'
    """
    steps_per_epoch = _check_count("steps_per_epoch", steps_per_epoch)
    epochs = _check_count("epochs", epochs)
    total = steps_per_epoch * epochs
    steps = _steps_to_plot(total, steps_per_epoch)
    rates = schedule_values(schedule, steps)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 3.6), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.plot(steps, rates, color="tab:blue", linewidth=1.6, drawstyle="steps-post")
    every = max(1, math.ceil(epochs / _MAX_EPOCH_LINES))
    for epoch in range(every, epochs, every):
        axes.axvline(epoch * steps_per_epoch, color="0.6", linestyle=":", linewidth=0.8)
    axes.set_xlim(0, max(total - 1, 1))
    axes.set_ylim(bottom=0.0)
    axes.set_xlabel(f"optimizer step ({epochs} epochs of {steps_per_epoch} steps)")
    axes.set_ylabel("learning rate")
    name = type(schedule).__name__ if callable(schedule) else "constant"
    axes.set_title(f"{name}: {rates.max():.3g} max, {rates[-1]:.3g} at the end")
    axes.grid(True, axis="y", alpha=0.3)
    axes.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    figure.tight_layout()

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
