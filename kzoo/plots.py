"""Plotting helpers: the learning rate over a planned run, a search's trials and Pareto front.

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


def _figure(width: float, height: float, columns: int = 1):
    """A figure with fixed margins in inches (tight_layout would draw it twice to measure)."""
    from matplotlib.figure import Figure  # no pyplot: no global state, nothing to close

    figure = Figure(figsize=(width, height))
    figure.subplots_adjust(
        left=0.75 / width, right=1 - 0.2 / width, bottom=0.8 / height, top=1 - 0.45 / height,
        wspace=0.35,
    )  # fmt: skip
    return figure, np.atleast_1d(figure.subplots(1, columns))


def _save(figure, path: Path) -> None:
    from kzoo import run_dir

    run_dir.write_atomic(Path(path), lambda tmp: figure.savefig(tmp, dpi=90, format="png"))


def plot_trials(path: str | Path, rows: list[dict], params: list, objective, title: str) -> None:
    """A search's trials.png: the objective per trial (with the best so far), then against
    up to three hyperparameters (the first keys of the search block).

    `rows` are results.csv's rows (`trial`, `status`, the objective, each hyperparameter),
    `params` the search space's hyperparameters (`kzoo.tuning.space.Param`), `objective`
    has a `name` and a `direction` ("min" or "max").
    """
    import json

    from matplotlib import ticker

    name = objective.name
    pick = max if objective.direction == "max" else min
    params = params[:3]
    figure, axes = _figure(4.2 * (1 + len(params)), 3.4, 1 + len(params))
    done = [r for r in rows if r[name] is not None]
    pruned = [r for r in rows if r[name] is None and r["status"] == "pruned"]
    failed = [r for r in rows if r[name] is None and r["status"] != "pruned"]
    axis = axes[0]
    axis.plot([r["trial"] for r in done], [r[name] for r in done], "o", label="trial")
    best, running = None, []
    for r in done:
        best = r[name] if best is None else pick(best, r[name])
        running.append(best)
    axis.step([r["trial"] for r in done], running, where="post", label="best so far")
    if done:
        low = min(r[name] for r in done)
        for group, style, label in ((failed, "rx", "failed"), (pruned, "k|", "pruned")):
            if group:
                axis.plot([r["trial"] for r in group], [low] * len(group), style, label=label)
    axis.set_xlabel("trial")
    axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axis.set_ylabel(name)
    axis.grid(alpha=0.3)
    axis.legend()

    def label(value):
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if isinstance(value, float):
            return f"{value:.4g}"
        return json.dumps(value) if isinstance(value, (list, dict)) else str(value)

    for axis, param in zip(axes[1:], params):
        points = [(r[param.key], r[name]) for r in done if r[param.key] is not None]
        if param.type in ("choice", "boolean"):
            labels = [label(v) for v in (param.values if param.type == "choice" else [False, True])]
            where = {text: i for i, text in enumerate(labels)}
            xs = [where.get(label(v), -1) for v, _ in points]
            axis.set_xticks(range(len(labels)), labels, rotation=20)
            axis.set_xlim(-0.5, len(labels) - 0.5)
        else:
            xs = [v for v, _ in points]
            if param.sampling != "linear":
                axis.set_xscale("log")
                axis.xaxis.set_minor_formatter(ticker.NullFormatter())
        axis.plot(xs, [y for _, y in points], "o")
        axis.set_xlabel(param.key)
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
    counts = f"{len(done)} trials done, {len(failed)} failed"
    figure.suptitle(f"{title}: {counts}{f', {len(pruned)} pruned' if pruned else ''}")
    _save(figure, path)


def plot_pareto(path: str | Path, points: list, front: list, labels: list[str], title: str) -> None:
    """pareto.png: every completed trial and the Pareto front, one panel per pair of
    objectives (the first against each other one).

    `points` and `front` hold one list of objective values per trial, `labels` name the
    objectives in that order.
    """
    others = range(1, len(labels))
    figure, axes = _figure(4.4 * len(others), 3.6, len(others))
    points, front = np.asarray(points, "float64"), np.asarray(front, "float64")
    for axis, j in zip(axes, others):
        if len(points):
            axis.plot(points[:, 0], points[:, j], "o", color="0.6", label="trial")
        if len(front):
            order = np.argsort(front[:, 0])
            axis.plot(front[order, 0], front[order, j], "o-", color="tab:red", label="front")
        axis.set_xlabel(labels[0])
        axis.set_ylabel(labels[j])
        if labels[j].startswith(("params", "latency")):
            axis.set_yscale("log")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    _save(figure, path)
