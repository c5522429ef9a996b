"""The search runner behind `kzoo tune`: one config, one tuner, one results directory.

`run` loads the data once, builds a Keras Tuner tuner (`random`, `grid`, `bayesian`
or `hyperband`) over the config's hypermodel and searches, printing one line per
trial (`trial 3/10: val_accuracy=0.91 (args.rnn=lstm, ...)`). The directory it
writes:

```
DIRECTORY/
  search.json   what was searched (config, tuner, objective, folds): a resume must match
  results.csv   one row per trial: trial, status, objective, each hyperparameter, error
  trials.png    the objective per trial, and against the main hyperparameters
  best.yaml     the best trial's config (`kzoo train best.yaml` trains it)
  tuner/        Keras Tuner's own state: trials, checkpoints, oracle
```

Running the same call again continues the search where it stopped (a finished
search runs no trial again; a larger `max_trials` adds trials); `overwrite=True`
starts afresh. A trial that raises, or whose loss or objective is NaN, is recorded
as failed and the search goes on: it is retried `max_retries_per_trial` times, and
the search stops after `max_consecutive_failed_trials` failures in a row.

With `folds=K` every trial trains K models on stratified folds of the training
plus validation examples and scores the mean of their objectives (K-fold
cross-validation), which is steadier than one validation split on small data.

Distributed search (Keras Tuner's chief / worker mode over gRPC): one chief process
holds the oracle and hands out trials; any number of workers run them. Start the
chief and the workers with the same config, tuner and directory (a shared file
system), e.g.

```
kzoo tune cnn_mlp_rnn --distributed chief  --oracle 10.0.0.1:8000 --directory runs/tune
kzoo tune cnn_mlp_rnn --distributed worker --oracle 10.0.0.1:8000 --tuner-id w1 --directory runs/tune
kzoo tune cnn_mlp_rnn --distributed worker --oracle 10.0.0.1:8000 --tuner-id w2 --directory runs/tune
```

`distributed_env(role, "HOST:PORT", tuner_id)` gives the environment Keras Tuner
reads (`KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT`, `KERASTUNER_TUNER_ID`; the
chief's tuner id is `chief`), and `run(..., distributed=role, oracle="HOST:PORT")`
sets it for the duration of the search. The chief runs no trials itself: it
returns when every trial has ended and then writes the results files.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import shutil
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np
from keras_tuner.src.engine import tuner_utils

from kzoo import configs, data, metrics, run_dir
from kzoo.errors import ConfigError, did_you_mean
from kzoo.training import _fill_from_data
from kzoo.tuning.hypermodel import ConfigHyperModel, load

TUNERS = {
    "random": keras_tuner.RandomSearch,
    "grid": keras_tuner.GridSearch,
    "bayesian": keras_tuner.BayesianOptimization,
    "hyperband": keras_tuner.Hyperband,
}
ROLES = ("chief", "worker")
PROJECT = "tuner"  # Keras Tuner's project folder inside the search directory
FILES = ("search.json", "results.csv", "trials.png", "best.yaml")
DEFAULT_DIRECTORY = "runs/tune"


# --- distributed mode -----------------------------------------------------------------


def distributed_env(role: str, oracle: str, tuner_id: str | None = None) -> dict[str, str]:
    """The environment variables Keras Tuner's distributed mode reads.

    Args:
        role: "chief" (serves the oracle) or "worker" (runs trials).
        oracle: "HOST:PORT" where the chief listens.
        tuner_id: a worker's unique name (default: host name and process id); the
            chief's is always "chief".

    >>> env = distributed_env("worker", "127.0.0.1:8000", "w1")
    >>> env["KERASTUNER_ORACLE_IP"], env["KERASTUNER_ORACLE_PORT"], env["KERASTUNER_TUNER_ID"]
    ('127.0.0.1', '8000', 'w1')
    >>> distributed_env("chief", "127.0.0.1:8000")["KERASTUNER_TUNER_ID"]
    'chief'
    """
    if role not in ROLES:
        raise ConfigError(
            f"--distributed must be `chief` or `worker`. Received: {role!r}. "
            f"{did_you_mean(str(role), ROLES)}"
        )
    host, sep, port = str(oracle or "").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            "--oracle must be HOST:PORT, the address where the chief serves the oracle, "
            f"e.g. 10.0.0.1:8000. Received: {oracle!r}."
        )
    if role == "chief":
        if tuner_id not in (None, "chief"):
            raise ConfigError(
                f"The chief's tuner id is always `chief`. Received: --tuner-id {tuner_id!r}; "
                "leave it out for the chief."
            )
        tuner_id = "chief"
    else:
        tuner_id = tuner_id or f"worker-{socket.gethostname()}-{os.getpid()}"
        if "chief" in tuner_id:
            raise ConfigError(
                f"A worker's tuner id must not contain `chief` (Keras Tuner would take it "
                f"for the chief). Received: --tuner-id {tuner_id!r}."
            )
    return {
        "KERASTUNER_ORACLE_IP": host.strip("[]"),
        "KERASTUNER_ORACLE_PORT": port,
        "KERASTUNER_TUNER_ID": tuner_id,
    }


@contextlib.contextmanager
def distributed(
    role: str | None, oracle: str | None = None, tuner_id: str | None = None
) -> Iterator[dict[str, str]]:
    """Sets the distributed-mode environment for the `with` block (nothing when `role` is None)."""
    if role is None:
        if oracle is not None or tuner_id is not None:
            raise ConfigError("--oracle and --tuner-id need --distributed chief|worker.")
        yield {}
        return
    env = distributed_env(role, oracle, tuner_id)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- objective, folds --------------------------------------------------------------------


def objective_names(config: Mapping[str, Any], validation: bool) -> list[str]:
    """The values a search can optimize: the loss and each metric (`val_` ones with validation)."""
    names = ["loss"]
    for spec in config["train"]["metrics"]:
        metric = metrics.get(spec)
        name = metric if isinstance(metric, str) else getattr(metric, "name", None)
        if name is None and isinstance(spec, str):
            name = spec
        if name and name not in names:
            names.append(name)
    return names + [f"val_{n}" for n in names] if validation else names


def make_objective(config: Mapping[str, Any], name: str, validation: bool):
    """A Keras Tuner objective for a logged metric name, minimized for losses and errors."""
    allowed = objective_names(config, validation)
    if name not in allowed:
        hint = (
            ""
            if validation or not name.startswith("val_")
            else " The data leaves no validation split: raise data.validation_split or use --folds."
        )
        raise ConfigError(
            f"--objective must be a value the training logs. Received: {name!r}. "
            f"{did_you_mean(name, allowed)}{hint}"
        )
    direction = "min" if "loss" in name or "error" in name else "max"
    return keras_tuner.Objective(name, direction=direction)


def fold_indices(labels: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified K-fold (train, validation) index pairs, a deterministic function of `seed`.

    >>> pairs = fold_indices(np.array([0, 0, 0, 1, 1, 1]), folds=3, seed=0)
    >>> [len(val) for _, val in pairs], sorted(np.concatenate([v for _, v in pairs]).tolist())
    ([2, 2, 2], [0, 1, 2, 3, 4, 5])
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"--folds must be an integer of at least 2. Received: {folds!r}.")
    if folds > len(labels):
        raise ConfigError(
            f"--folds {folds} exceeds the {len(labels)} training and validation examples. "
            "Use fewer folds."
        )
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(labels), "int64")
    offset = 0
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        # Continue the round-robin across classes so small classes do not pile into fold 0.
        assignment[members] = (np.arange(len(members)) + offset) % folds
        offset += len(members)
    everything = np.arange(len(labels))
    return [(everything[assignment != k], everything[assignment == k]) for k in range(folds)]


# --- the tuner ---------------------------------------------------------------------------


class TrialFailed(RuntimeError):
    """A trial's training diverged: its loss or objective became NaN or infinite."""


class _BestEpochInMemory(keras.callbacks.Callback):
    """Keras Tuner's `SaveBestEpoch`, writing its file once per fit instead of per better epoch.

    The best epoch's weights are copied in memory and written through the wrapped
    callback when training ends: the same file with the same model weights (Hyperband
    resumes from it), at one write per fit. Writing an .h5 file at every improving epoch
    was the largest part of the search's overhead over plain `fit` on small models
    (0.18 s per trial, benchmarks/tuning.py). `best_value` stays the wrapped callback's, so the best epoch
    across a trial's executions still wins. Two differences, neither read by anything:
    the optimizer variables in the file are the last epoch's, and a fit that raises
    writes no file (the trial fails).
    """

    def __init__(self, saver: tuner_utils.SaveBestEpoch):
        super().__init__()
        self.saver = saver
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        objective = self.saver.objective
        if objective.has_value(logs):
            value = objective.get_value(logs)
            if not objective.better_than(value, self.saver.best_value):
                return
            self.saver.best_value = value
        self.best_weights = self.model.get_weights()  # no objective: every epoch, as the saver

    def on_train_end(self, logs=None):
        if self.best_weights is None:
            return
        last = self.model.get_weights()
        self.model.set_weights(self.best_weights)
        self.saver.set_model(self.model)
        self.saver._save_model()  # keeps its handling of non-chief workers
        self.model.set_weights(last)
        self.best_weights = None


class _KzooTuner:
    """Mixed into a Keras Tuner tuner: K-fold trials, NaN checks, one line per trial and
    one best-epoch checkpoint write per fit."""

    def __init__(self, *args, folds=None, fold_data=None, **kwargs):
        self.kzoo_folds = folds
        self.kzoo_fold_data = fold_data
        super().__init__(*args, **kwargs)

    def run_trial(self, trial, *args, **kwargs):
        if self.kzoo_folds:
            results = self._run_folds(trial, **kwargs)
        else:
            results = super().run_trial(trial, *args, **kwargs)
        _check_finite(results, self.oracle.objective)
        return results

    def _run_folds(self, trial, **kwargs):
        x, y, splits = self.kzoo_fold_data
        kwargs.pop("validation_data", None)
        histories = []
        for train_idx, val_idx in splits:
            model = self._try_build(trial.hyperparameters)  # also clears the Keras session
            histories.append(
                self.hypermodel.fit(
                    trial.hyperparameters,
                    model,
                    x[train_idx],
                    y[train_idx],
                    validation_data=(x[val_idx], y[val_idx]),
                    **kwargs,
                )
            )
        return histories

    def _populate_initial_space(self):
        # kzoo's hypermodel registers its whole space from the config, conditional
        # hyperparameters included. Keras Tuner's default builds and compiles a model
        # (one per conditional branch) to discover the space, before any trial.
        hp = self.oracle.get_space()
        self.hypermodel.declare(hp)
        self.oracle.update_space(hp)

    def _build_and_fit_model(self, trial, *args, **kwargs):
        kwargs["callbacks"] = [
            _BestEpochInMemory(c) if isinstance(c, tuner_utils.SaveBestEpoch) else c
            for c in kwargs.get("callbacks", [])
        ]
        return super()._build_and_fit_model(trial, *args, **kwargs)

    def _try_build(self, hp):
        # Keras Tuner clears the Keras session before each model and forces two full garbage
        # collections (its own and clear_session's): about 1.2 s per trial in a process that
        # holds TensorFlow graphs, most of the search's overhead over plain fit
        # (benchmarks/tuning.py). The session is still cleared; freeing is left to Python's
        # collector. kzoo's hypermodel always returns a compiled keras.Model.
        keras.backend.clear_session(free_memory=False)
        return self._build_hypermodel(hp)

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        # Keras Tuner imports tensorboard on the TensorFlow backend even when no
        # TensorBoard callback is there to patch; TensorFlow 2.21 no longer installs it.
        if any(type(c).__name__ == "TensorBoard" for c in callbacks):
            super()._configure_tensorboard_dir(callbacks, trial, execution)

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        print(progress_line(self, self.oracle.get_trial(trial.trial_id)), flush=True)


def _check_finite(results, objective) -> None:
    items = results if isinstance(results, list) else [results]
    for item in items:
        history = getattr(item, "history", None)
        if history is None:
            continue
        for key, values in history.items():
            if "loss" in key and not all(math.isfinite(float(v)) for v in values):
                raise TrialFailed(
                    f"Training diverged: `{key}` became NaN or infinite. Lower the learning "
                    "rate range or add gradient clipping (train.optimizer.global_clipnorm)."
                )
    value = tuner_utils.convert_to_metrics_dict(results, objective).get(objective.name)
    if value is None or not math.isfinite(float(value)):
        raise TrialFailed(f"The objective {objective.name} is {value} (NaN or infinite).")


def progress_line(tuner, trial) -> str:
    """`trial 3/10: val_accuracy=0.91 (args.rnn=lstm, ...)` for a finished trial."""
    model: ConfigHyperModel = tuner.hypermodel
    number = _trial_number(trial.trial_id)
    total = tuner.oracle.max_trials
    head = f"trial {number}/{total}" if total else f"trial {number}"
    values = ", ".join(f"{k}={_short(v)}" for k, v in model.values(trial.hyperparameters).items())
    status = str(trial.status)
    if status == "COMPLETED" and trial.score is not None:
        return f"{head}: {tuner.oracle.objective.name}={trial.score:.4g} ({values})"
    reason = _last_line(trial.message)
    return f"{head}: {status.lower()}{f' ({reason})' if reason else ''} [{values}]"


def _trial_number(trial_id: str) -> int | str:
    return int(trial_id) + 1 if str(trial_id).isdigit() else trial_id


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _last_line(message: str | None) -> str:
    lines = [line.strip() for line in (message or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def make_tuner(
    name: str,
    model: ConfigHyperModel,
    objective,
    *,
    max_trials: int,
    directory: Path,
    seed: int,
    epochs: int,
    max_retries_per_trial: int = 0,
    max_consecutive_failed_trials: int = 3,
    folds: int | None = None,
    fold_data=None,
):
    """A Keras Tuner tuner by name, with kzoo's per-trial reporting and K-fold trials."""
    if name not in TUNERS:
        raise ConfigError(
            f"--tuner must be one of {', '.join(TUNERS)}. Received: {name!r}. "
            f"{did_you_mean(str(name), TUNERS)}"
        )
    if folds and name == "hyperband":
        raise ConfigError(
            "--folds does not combine with --tuner hyperband (Hyperband continues one model "
            "across brackets). Use random, grid or bayesian with --folds."
        )
    if name == "bayesian":
        try:
            import sklearn  # noqa: F401  (Keras Tuner's Gaussian process)
        except ImportError:
            raise ConfigError(
                "--tuner bayesian needs scikit-learn, which is not installed. Install it "
                "(pip install scikit-learn, or keras-tuner[bayesian]) or use --tuner random."
            ) from None
    base = TUNERS[name]
    cls = type(f"Kzoo{base.__name__}", (_KzooTuner, base), {})
    kwargs: dict[str, Any] = {
        "objective": objective,
        "seed": seed,
        "max_retries_per_trial": max_retries_per_trial,
        "max_consecutive_failed_trials": max_consecutive_failed_trials,
        "directory": str(directory),
        "project_name": PROJECT,
        "overwrite": False,
    }
    if name == "hyperband":
        kwargs.update(max_epochs=max(2, epochs), factor=3)
    else:
        kwargs["max_trials"] = max_trials
    tuner = cls(model, folds=folds, fold_data=fold_data, **kwargs)
    if name == "hyperband":
        tuner.oracle.max_trials = max_trials  # Hyperband has no cap of its own
    return tuner


# --- reports -----------------------------------------------------------------------------


def trial_rows(tuner) -> list[dict[str, Any]]:
    """One row per trial: trial number, status, objective, each hyperparameter, error."""
    model: ConfigHyperModel = tuner.hypermodel
    name = tuner.oracle.objective.name
    rows = []
    for trial_id in sorted(tuner.oracle.trials, key=lambda t: (len(t), t)):
        trial = tuner.oracle.trials[trial_id]
        values = model.values(trial.hyperparameters)
        score = trial.score if str(trial.status) == "COMPLETED" else None
        row = {"trial": _trial_number(trial_id), "status": str(trial.status).lower(), name: score}
        for param in model.params:
            value = values.get(param.key)
            row[param.key] = json.dumps(value) if isinstance(value, (list, dict)) else value
        row["error"] = "" if score is not None else _last_line(trial.message)
        rows.append(row)
    return rows


def write_results(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    run_dir.write_text(path, buffer.getvalue())


def plot_trials(path: Path, rows: list[dict[str, Any]], model: ConfigHyperModel, objective) -> None:
    """trials.png: the objective per trial (with the best so far), then against up to
    three hyperparameters (the first keys of the search block)."""
    from matplotlib import ticker
    from matplotlib.figure import Figure  # no pyplot: no global state, nothing to close

    name = objective.name
    pick = max if objective.direction == "max" else min
    params = model.params[:3]
    width, height = 4.2 * (1 + len(params)), 3.4
    fig = Figure(figsize=(width, height))
    # Fixed margins (in inches) rather than tight_layout, which draws the whole figure
    # once more to measure it: half of the report's cost, once per search.
    fig.subplots_adjust(
        left=0.75 / width, right=1 - 0.2 / width, bottom=0.8 / height, top=1 - 0.45 / height,
        wspace=0.35,
    )  # fmt: skip
    axes = np.atleast_1d(fig.subplots(1, 1 + len(params)))
    done = [r for r in rows if r[name] is not None]
    failed = [r for r in rows if r[name] is None]
    axis = axes[0]
    axis.plot([r["trial"] for r in done], [r[name] for r in done], "o", label="trial")
    best, running = None, []
    for r in done:
        best = r[name] if best is None else pick(best, r[name])
        running.append(best)
    axis.step([r["trial"] for r in done], running, where="post", label="best so far")
    if failed and done:
        low = min(r[name] for r in done)
        axis.plot([r["trial"] for r in failed], [low] * len(failed), "rx", label="failed")
    axis.set_xlabel("trial")
    axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axis.set_ylabel(name)
    axis.grid(alpha=0.3)
    axis.legend()
    for axis, param in zip(axes[1:], params):
        points = [(r[param.key], r[name]) for r in done if r[param.key] is not None]
        if param.type in ("choice", "boolean"):
            labels = [
                _short(v) for v in (param.values if param.type == "choice" else [False, True])
            ]
            where = {label: i for i, label in enumerate(labels)}
            xs = [where.get(_short(_maybe_json(v)), -1) for v, _ in points]
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
    fig.suptitle(f"{model.config['model']}: {len(done)} trials done, {len(failed)} failed")
    run_dir.write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=90, format="png"))


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def write_reports(directory: Path, tuner) -> dict[str, Any]:
    """results.csv, trials.png and best.yaml; returns the summary `run` returns."""
    model: ConfigHyperModel = tuner.hypermodel
    objective = tuner.oracle.objective
    rows = trial_rows(tuner)
    columns = ["trial", "status", objective.name, *[p.key for p in model.params], "error"]
    write_results(directory / "results.csv", rows, columns)
    plot_trials(directory / "trials.png", rows, model, objective)
    summary: dict[str, Any] = {
        "directory": str(directory),
        "objective": objective.name,
        "trials": len(rows),
        "completed": sum(r[objective.name] is not None for r in rows),
        "failed": sum(r[objective.name] is None for r in rows),
        "best": None,
    }
    done = [t for t in tuner.oracle.trials.values() if str(t.status) == "COMPLETED"]
    done = [t for t in done if t.score is not None and math.isfinite(t.score)]
    if done:
        # Ties go to the earliest trial, so a reloaded search names the same best one.
        sign = -1.0 if objective.direction == "max" else 1.0
        best = min(done, key=lambda t: (sign * t.score, len(t.trial_id), t.trial_id))
        config = model.trial_config(model.values(best.hyperparameters))
        run_dir.write_text(directory / "best.yaml", configs.dump(config))
        summary["best"] = {
            "trial": _trial_number(best.trial_id),
            objective.name: float(best.score),
            "values": model.values(best.hyperparameters),
            "config": str(directory / "best.yaml"),
        }
    return summary


# --- the runner --------------------------------------------------------------------------


def _prepare_directory(
    directory: Path, record: dict[str, Any], overwrite: bool, shared: bool = False
) -> None:
    marker = directory / "search.json"
    if overwrite:
        shutil.rmtree(directory / PROJECT, ignore_errors=True)
        for name in FILES:
            (directory / name).unlink(missing_ok=True)
    elif marker.exists():
        _repair_interrupted_state(directory / PROJECT)
        previous = json.loads(marker.read_text())
        changed = [k for k in record if previous.get(k) != record[k]]
        if changed:
            raise ConfigError(
                f"{directory} holds a different search (its {', '.join(changed)} differ), so "
                "it cannot be resumed with these settings. Pass --overwrite to start afresh, "
                "or choose another --directory."
            )
    elif (directory / PROJECT).exists() and not shared:  # workers may have started first
        raise ConfigError(
            f"{directory / PROJECT} exists but {marker} does not: it was not written by "
            "`kzoo tune`. Pass --overwrite or choose another --directory."
        )
    directory.mkdir(parents=True, exist_ok=True)
    run_dir.write_json(marker, record)


def _repair_interrupted_state(project: Path) -> None:
    """Makes a search killed mid-write resumable: Keras Tuner writes its JSON in place.

    A half-written trial file loses that trial (it runs again); a half-written oracle or
    tuner file loses the search state, so the trials restart (their results.csv rows are
    rewritten as they finish).
    """
    if not project.is_dir():
        return
    broken = []
    for path in project.rglob("*.json"):
        try:
            json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            broken.append(path)
    for path in broken:
        if path.name == "trial.json":
            print(f"kzoo tune: {path.parent.name} was interrupted while saving; it runs again")
            shutil.rmtree(path.parent, ignore_errors=True)
        else:
            print(f"kzoo tune: {path.name} was interrupted while saving; the search restarts")
            shutil.rmtree(project, ignore_errors=True)
            return


def _positive(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"--{name} must be an integer of at least {minimum}. Received: {value!r}."
        )


def run(
    config: str | Path | Mapping[str, Any],
    *,
    tuner: str = "random",
    max_trials: int = 10,
    source: str | None = None,
    data_dir: str | Path | None = None,
    objective: str = "val_accuracy",
    directory: str | Path = DEFAULT_DIRECTORY,
    overwrite: bool = False,
    epochs: int | None = None,
    folds: int | None = None,
    max_retries_per_trial: int = 0,
    max_consecutive_failed_trials: int = 3,
    verbose: int | str = 0,
    distributed: str | None = None,
    oracle: str | None = None,
    tuner_id: str | None = None,
) -> dict[str, Any]:
    """Searches a config's `search` space with Keras Tuner and writes the results directory.

    Args:
        config: a zoo config name, a YAML path or a loaded config (with a `search` block).
        tuner: "random", "grid", "bayesian" or "hyperband".
        max_trials: how many trials in all (a resumed search counts earlier trials).
        source: a data source replacing `data.source`; data_dir: where TFDS finds data.
        objective: what to optimize: "val_accuracy", "val_loss", any logged metric.
        directory: where results.csv, trials.png, best.yaml and the tuner state go.
        overwrite: discard an earlier search in `directory` (otherwise it is resumed).
        epochs: replaces `train.epochs` for every trial (Hyperband's maximum).
        folds: K-fold cross-validation per trial on training + validation examples.
        max_retries_per_trial, max_consecutive_failed_trials: Keras Tuner's failure policy.
        verbose: Keras's fit verbosity (the one line per trial is always printed).
        distributed, oracle, tuner_id: distributed mode (see the module docstring).

    Returns:
        A summary: trials, completed, failed, best (trial, objective, values, config
        path), directory. A worker returns its role and tuner id.
    """
    directory = Path(directory)
    _positive("max-trials", max_trials)
    _positive("max-retries-per-trial", max_retries_per_trial, minimum=0)
    _positive("max-consecutive-failed-trials", max_consecutive_failed_trials)
    if tuner not in TUNERS:
        raise ConfigError(
            f"--tuner must be one of {', '.join(TUNERS)}. Received: {tuner!r}. "
            f"{did_you_mean(str(tuner), TUNERS)}"
        )
    config = load(config)
    if not config.get("search"):
        raise ConfigError(
            f"{config['source']}: the config has no `search` block, so there is nothing to "
            "tune. Add one, e.g. search: {args.dropout: {type: float, min: 0.0, max: 0.5}}."
        )
    if epochs is not None:
        _positive("epochs", epochs)
        config["train"]["epochs"] = epochs
    if source is not None:
        config["data"]["source"] = str(source)
    if folds is not None:
        _positive("folds", folds, minimum=2)
    with distributed_context(distributed, oracle, tuner_id):
        pass  # validates the distributed arguments before the (slow) data loading
    train = config["train"]
    keras.utils.set_random_seed(int(train["seed"]))
    dataset = data.load(config["data"], train["batch_size"], train["seed"], data_dir=data_dir)
    _fill_from_data(config, dataset)
    configs.validate(config)
    x_train, y_train = dataset.arrays["train"]
    x_val, y_val = dataset.arrays["validation"]
    validation = len(y_val) > 0 or bool(folds)
    goal = make_objective(config, objective, validation)
    fold_data = None
    if folds:
        x_all = np.concatenate([x_train, x_val])
        y_all = np.concatenate([y_train, y_val])
        fold_data = (x_all, y_all, fold_indices(y_all, folds, int(train["seed"])))
        train_size = len(y_all) - len(y_all) // folds
    else:
        train_size = len(y_train)
    model = ConfigHyperModel(config, train_size=train_size)
    record = {
        "config": configs.dump(config),
        "tuner": tuner,
        "objective": objective,
        "folds": folds,
    }
    if distributed != "worker":
        _prepare_directory(directory, record, overwrite, shared=distributed is not None)
    else:
        directory.mkdir(parents=True, exist_ok=True)
    with distributed_context(distributed, oracle, tuner_id) as env:
        search = make_tuner(
            tuner,
            model,
            goal,
            max_trials=max_trials,
            directory=directory,
            seed=int(train["seed"]),
            epochs=train["epochs"],
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            folds=folds,
            fold_data=fold_data,
        )
        fit_kwargs: dict[str, Any] = {"verbose": verbose, "shuffle": True}
        if not folds and len(y_val):
            fit_kwargs["validation_data"] = (x_val, y_val)
        stopped: RuntimeError | None = None
        try:
            search.search(x_train, y_train, **fit_kwargs)
        except RuntimeError as error:
            if "consecutive failures" not in str(error):
                raise
            stopped = error
        if distributed == "worker":
            return {"role": "worker", "tuner_id": env["KERASTUNER_TUNER_ID"]}
    summary = write_reports(directory, search)
    if stopped is not None:
        raise RuntimeError(
            f"The search stopped: {max_consecutive_failed_trials} trials in a row failed "
            f"(last: {_last_line(str(stopped))}). {directory / 'results.csv'} lists every "
            "trial; narrow the search space (e.g. the learning rate range) and run again."
        )
    return summary


distributed_context = distributed  # `run` has an argument of the same name
