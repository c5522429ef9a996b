"""The Keras Tuner engine: kzoo's tuner classes, its distributed mode and its trials.

This is the one file that touches Keras Tuner's private API (`keras_tuner.src.*` and
underscored `Tuner` methods); tests/tuning/test_keras_tuner.py pins each touchpoint to
the supported keras-tuner version (`SUPPORTED`), so an upgrade that moves one fails
there first:

- `tuner_utils.SaveBestEpoch` (its `objective`, `best_value`, `_save_model`), wrapped by
  `_BestEpochInMemory` to write the best epoch's checkpoint once per fit;
- `tuner_utils.convert_to_metrics_dict`, to read a trial's objective for the NaN check;
- `Tuner._populate_initial_space`, `_build_and_fit_model`, `_try_build`,
  `_build_hypermodel` and `_configure_tensorboard_dir`, overridden by `_KzooTuner`;
- `keras_tuner.src.config.DEBUG`, off during a search: while on (Keras Tuner's
  default) it prints every failed trial's traceback, where kzoo reports failures in
  results.csv, one progress line per trial and, if every trial fails, one error line.

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
import json
import math
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import keras_tuner
from keras_tuner.src import config as tuner_config
from keras_tuner.src.engine import tuner_utils

from kzoo.errors import ConfigError, did_you_mean
from kzoo.tuning import hparams, reports
from kzoo.tuning.hypermodel import ConfigHyperModel
from kzoo.tuning.space import Objective, TrialFailed, check_finite

SUPPORTED = ("1.4.7", "1.4.8")  # keras-tuner versions whose private API this file was checked on
TUNERS = {
    "random": keras_tuner.RandomSearch,
    "grid": keras_tuner.GridSearch,
    "bayesian": keras_tuner.BayesianOptimization,
    "hyperband": keras_tuner.Hyperband,
}
ROLES = ("chief", "worker")
PROJECT = "tuner"  # Keras Tuner's project folder inside the search directory


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


# --- the tuner ---------------------------------------------------------------------------


def make_objective(objective: Objective) -> keras_tuner.Objective:
    return keras_tuner.Objective(objective.name, direction=objective.direction)


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
    """Mixed into a Keras Tuner tuner: K-fold trials, NaN checks, one line and HParams logs
    per trial and one best-epoch checkpoint write per fit."""

    def __init__(self, *args, folds=None, fold_data=None, hparams_dir=None, **kwargs):
        self.kzoo_folds = folds
        self.kzoo_fold_data = fold_data
        self.kzoo_hparams_dir = hparams_dir
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
        record = to_record(
            self.hypermodel, self.oracle.objective, self.oracle.get_trial(trial.trial_id)
        )
        print(reports.progress_line(record, self.oracle.max_trials), flush=True)
        if self.kzoo_hparams_dir is not None:
            hparams.write_trial(self.kzoo_hparams_dir, record)


def _check_finite(results, objective) -> None:
    items = results if isinstance(results, list) else [results]
    for item in items:
        history = getattr(item, "history", None)
        if history is None:
            continue
        check_finite(history)
    value = tuner_utils.convert_to_metrics_dict(results, objective).get(objective.name)
    if value is None or not math.isfinite(float(value)):
        raise TrialFailed(f"The objective {objective.name} is {value} (NaN or infinite).")


def check_tuner(name: str, folds: int | None = None) -> None:
    """Rejects an unknown tuner, or one that cannot run here (with these folds)."""
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
    hparams_dir: Path | None = None,
):
    """A Keras Tuner tuner by name, with kzoo's per-trial reporting and K-fold trials
    (and HParams logs in `hparams_dir`, a search directory, when given)."""
    check_tuner(name, folds)
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
    tuner = cls(model, folds=folds, fold_data=fold_data, hparams_dir=hparams_dir, **kwargs)
    if name == "hyperband":
        tuner.oracle.max_trials = max_trials  # Hyperband has no cap of its own
    return tuner


# --- trials as records -----------------------------------------------------------------


def to_record(model: ConfigHyperModel, objective, trial) -> reports.TrialRecord:
    status = str(trial.status).lower()
    score = trial.score if status == "completed" else None
    return reports.TrialRecord(
        number=_trial_number(trial.trial_id),
        status=status,
        values=model.values(trial.hyperparameters),
        scores={objective.name: None if score is None else float(score)},
        error="" if score is not None else reports.last_line(trial.message),
    )


def records(tuner) -> list[reports.TrialRecord]:
    """Every trial of a tuner's oracle, in trial order."""
    oracle = tuner.oracle
    ids = sorted(oracle.trials, key=lambda t: (len(t), t))
    return [to_record(tuner.hypermodel, oracle.objective, oracle.trials[i]) for i in ids]


def _trial_number(trial_id: str) -> int | str:
    return int(trial_id) + 1 if str(trial_id).isdigit() else trial_id


def repair_interrupted_state(project: Path) -> None:
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


def search(
    name: str,
    model: ConfigHyperModel,
    objective: Objective,
    x_train,
    y_train,
    *,
    validation_data,
    max_trials: int,
    directory: Path,
    seed: int,
    epochs: int,
    max_retries_per_trial: int,
    max_consecutive_failed_trials: int,
    folds: int | None,
    fold_data,
    verbose: int | str,
    distributed: str | None,
    oracle: str | None,
    tuner_id: str | None,
) -> tuple[list[reports.TrialRecord] | None, Exception | None]:
    """Runs the search; returns its trials (None on a worker) and the error that stopped it
    early (too many failures in a row), if any."""
    with distributed_context(distributed, oracle, tuner_id):
        tuner = make_tuner(
            name,
            model,
            make_objective(objective),
            max_trials=max_trials,
            directory=directory,
            seed=seed,
            epochs=epochs,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            folds=folds,
            fold_data=fold_data,
            hparams_dir=directory if hparams.enabled(model.config) else None,
        )
        fit_kwargs: dict[str, Any] = {"verbose": verbose, "shuffle": True}
        if validation_data is not None:
            fit_kwargs["validation_data"] = validation_data
        stopped: RuntimeError | None = None
        debug, tuner_config.DEBUG = tuner_config.DEBUG, False
        try:
            tuner.search(x_train, y_train, **fit_kwargs)
        except RuntimeError as error:
            if "consecutive failures" not in str(error):
                raise
            stopped = error
        finally:
            tuner_config.DEBUG = debug
        if distributed == "worker":
            return None, stopped
    return records(tuner), stopped


distributed_context = distributed  # `search` has an argument of the same name
