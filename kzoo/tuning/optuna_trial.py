"""One Optuna trial of a zoo config: the search block as Optuna distributions, the
objective function that trains the trial's model, and the Keras 3 pruning callback.

Choices and booleans are categorical (lists and mappings as JSON strings), `int` /
`float` ranges keep their `step` and `log` sampling (a stepped log range is the
categorical of its values, as Keras Tuner draws them), and a conditional hyperparameter
is suggested only while its parent takes one of its `parent_values`.
"""

from __future__ import annotations

import math
import os
import socket
import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import optuna

from kzoo.tuning import reports
from kzoo.tuning.inputs import Prepared
from kzoo.tuning.space import (
    PSEUDO_METRICS,
    Objective,
    Param,
    SearchSpace,
    TrialFailed,
    check_finite,
)

LATENCY_BATCH = 32
LATENCY_REPEATS = 5


# --- the space as Optuna distributions -----------------------------------------------------


def candidates(param: Param) -> list[Any]:
    """The finite set of config values of a choice, boolean or stepped range."""
    if param.type == "choice":
        return list(param.values)
    if param.type == "boolean":
        return [False, True]
    low, high, step = param.low, param.high, param.step
    if param.type == "int" and step is None:
        step = 1
    values, value = [], low
    while value <= high * (1 + 1e-12):
        values.append(param.decode(value))
        value = value * step if param.sampling == "log" else value + step
        if param.sampling == "linear":
            value = low + len(values) * step  # no accumulated rounding error
    return values


def suggest(trial: optuna.Trial, param: Param) -> Any:
    """Draws `param` in `trial`; returns its config value."""
    key = param.key
    if param.type in ("choice", "boolean") or (param.step is not None and param.sampling == "log"):
        return param.decode(
            trial.suggest_categorical(key, [param.encode(v) for v in candidates(param)])
        )
    log = param.sampling == "log"
    if param.type == "int":
        step = int(param.step or 1)
        high = param.low + (int(param.high) - int(param.low)) // step * step  # on the grid
        return trial.suggest_int(key, int(param.low), int(high), step=step, log=log)
    if param.step is not None:
        count = math.floor((param.high - param.low) / param.step + 1e-9)
        high = float(f"{param.low + count * param.step:.12g}")
        return param.decode(trial.suggest_float(key, param.low, high, step=param.step))
    return param.decode(trial.suggest_float(key, float(param.low), float(param.high), log=log))


def suggest_values(trial: optuna.Trial, space: SearchSpace) -> dict[str, Any]:
    """The config values of a trial: every active hyperparameter, parents first."""
    values: dict[str, Any] = {}
    for param in space.params:
        if space.active(param, values):
            values[param.key] = suggest(trial, param)
    return values


# --- one trial ----------------------------------------------------------------------------


class PruningCallback(keras.callbacks.Callback):
    """Reports a logged value to an Optuna trial after every epoch and stops a trial the
    pruner rejects (by raising `optuna.TrialPruned`, which Optuna records as pruned).

    A Keras 3 callback: it reads only `logs`, so it runs on every backend.

    Args:
        trial: the `optuna.Trial` being trained.
        monitor: the logged value reported, e.g. "val_accuracy".
        offset: added to the epoch number (the step reported), e.g. for folds.
    """

    def __init__(self, trial: optuna.Trial, monitor: str, offset: int = 0):
        super().__init__()
        self.trial = trial
        self.monitor = monitor
        self.offset = offset

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return  # a missing or NaN value: the NaN checks fail the trial instead
        step = self.offset + epoch
        self.trial.report(float(value), step)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch + 1}: {self.monitor}={value:.4g}")


def _pick_epoch(history: Mapping[str, Sequence[float]], objectives: Sequence[Objective]) -> int:
    """The epoch whose values a trial scores: the best of the first logged objective."""
    logged = [o for o in objectives if o.name in history]
    if not logged:
        return -1
    series = [float(v) for v in history[logged[0].name]]
    finite = [i for i, v in enumerate(series) if math.isfinite(v)]
    if not finite:
        return -1
    sign = -1.0 if logged[0].direction == "max" else 1.0
    return min(finite, key=lambda i: (sign * series[i], i))


def latency(model: keras.Model, x: np.ndarray) -> float:
    """Median seconds per example of `model.predict_on_batch` on a fixed batch of `x`."""
    batch = x[:LATENCY_BATCH]
    model.predict_on_batch(batch)  # traces the predict function
    times = []
    for _ in range(LATENCY_REPEATS):
        start = time.perf_counter()
        model.predict_on_batch(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / len(batch)


class TrialObjective:
    """An Optuna objective function over a zoo config: `study.optimize(objective)`.

    Each call draws the trial's hyperparameters from the config's search space, builds and
    compiles the model with the config's recipe, fits it on the data loaded once, and
    returns the objectives (one float, or a tuple for several). A trial whose loss or
    objective becomes NaN raises `TrialFailed`; its error is kept in the trial's
    `error` user attribute.
    """

    def __init__(self, prepared: Prepared, objectives: Sequence[Objective], verbose: int | str = 0):
        self.prepared = prepared
        self.space = prepared.space
        self.objectives = list(objectives)
        self.verbose = verbose
        self.last_trial: int | None = None  # the number of the trial run last

    @property
    def directions(self) -> list[str]:
        return ["maximize" if o.direction == "max" else "minimize" for o in self.objectives]

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        # Which machine and process ran the trial: latency is that machine's, and a
        # trial left failed by a killed worker names it.
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        self.last_trial = trial.number
        try:
            return self._run(trial)
        except optuna.TrialPruned:
            raise
        except Exception as error:
            trial.set_user_attr("error", reports.last_line(f"{type(error).__name__}: {error}"))
            raise

    def _run(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        values = suggest_values(trial, self.space)
        config = self.space.trial_config(values)
        prepared = self.prepared
        if prepared.fold_data is not None:
            x, y, splits = prepared.fold_data
            runs = [(x[t], y[t], (x[v], y[v])) for t, v in splits]
        else:
            runs = [(prepared.x_train, prepared.y_train, prepared.validation_data)]
        prune = not isinstance(trial.study.pruner, optuna.pruners.NopPruner)
        scores: list[list[float]] = []
        for index, (x_train, y_train, validation) in enumerate(runs):
            keras.backend.clear_session(free_memory=False)
            model = self.space.compiled_model(config, values)
            callbacks = []
            if prune and self.objectives[0].name not in PSEUDO_METRICS:
                epochs = config["train"]["epochs"]
                callbacks.append(PruningCallback(trial, self.objectives[0].name, index * epochs))
            kwargs = {"verbose": self.verbose, "shuffle": True, "callbacks": callbacks}
            if validation is not None:
                kwargs["validation_data"] = validation
            options = self.space.fit_options(config, values, x_train, kwargs)
            history = model.fit(x_train, y_train, **options).history
            check_finite(history)
            scores.append(self._scores(history, model, validation, x_train))
        means = [float(np.mean(column)) for column in zip(*scores)]
        for objective, value in zip(self.objectives, means):
            if not math.isfinite(value):
                raise TrialFailed(f"The objective {objective.name} is {value} (NaN or infinite).")
        return means[0] if len(means) == 1 else tuple(means)

    def _scores(self, history, model, validation, x_train) -> list[float]:
        epoch = _pick_epoch(history, self.objectives)
        out = []
        for objective in self.objectives:
            if objective.name == "params":
                out.append(float(model.count_params()))
            elif objective.name == "latency":
                out.append(latency(model, validation[0] if validation else x_train))
            else:
                out.append(float(history[objective.name][epoch]))
        return out
