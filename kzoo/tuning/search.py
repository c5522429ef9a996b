"""The search runner behind `kzoo tune`: one config, one engine, one results directory.

`run` loads the data once, searches the config's `search` block with one of two
engines and writes the same files whichever ran:

- `engine="keras_tuner"` (the default): a Keras Tuner tuner, `random`, `grid`,
  `bayesian` or `hyperband` (`kzoo.tuning.keras_tuner`, which also holds Keras Tuner's
  chief / worker distributed mode);
- `engine="optuna"`: an Optuna study with the `tpe`, `random`, `grid`, `cmaes` or
  `nsga2` sampler, an optional pruner, several objectives, and a study kept in a
  database that any number of workers share (`kzoo.tuning.optuna`).

It prints one line per trial (`trial 3/10: val_accuracy=0.91 (args.rnn=lstm, ...)`).
The directory it writes:

```
DIRECTORY/
  search.json   what was searched (config, engine, objective, folds): a resume must match
  results.csv   one row per trial: trial, status, each objective, each hyperparameter, error
  trials.png    the objective per trial, and against the main hyperparameters
  best.yaml     the best trial's config (`kzoo train best.yaml` trains it)
  pareto.png, pareto/trial_N.yaml   with several objectives: the front and its configs
  tensorboard/  trial_N/: each trial's HParams logs (`tensorboard --logdir DIRECTORY`;
                `train.tensorboard: false` turns them off)
  tuner/        Keras Tuner's own state (trials, checkpoints, oracle)
  study.db      Optuna's default storage (an SQLite file)
```

Running the same call again continues the search where it stopped (a finished
search runs no trial again; a larger `max_trials` adds trials); `overwrite=True`
starts afresh. A trial that raises, or whose loss or objective is NaN, is recorded
as failed and the search goes on: it is retried `max_retries_per_trial` times, and
the search stops after `max_consecutive_failed_trials` failures in a row.

With `folds=K` every trial trains K models on stratified folds of the training
plus validation examples and scores the mean of their objectives (K-fold
cross-validation, `kzoo.tuning.folds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kzoo import configs
from kzoo.errors import ConfigError, did_you_mean
from kzoo.tuning import hparams, keras_tuner, reports
from kzoo.tuning.folds import fold_indices
from kzoo.tuning.inputs import (
    Prepared,
    positive,
    prepare_directory,
    raise_stopped,
    require_a_completed_trial,
)

ENGINES = ("keras_tuner", "optuna")
DEFAULT_DIRECTORY = "runs/tune"
# Options only one engine reads, as (run's argument, the CLI flag): giving one to the
# other engine is an error rather than silently ignored.
ENGINE_OPTIONS = {
    "keras_tuner": {
        "tuner": "--tuner",
        "distributed": "--distributed",
        "oracle": "--oracle",
        "tuner_id": "--tuner-id",
    },
    "optuna": {
        "sampler": "--sampler",
        "pruner": "--pruner",
        "storage": "--storage",
        "study": "--study",
        "timeout": "--timeout",
        "heartbeat": "--heartbeat",
    },
}

__all__ = ["DEFAULT_DIRECTORY", "ENGINES", "fold_indices", "prepare", "run"]


def check_engine(engine: str, given: Mapping[str, Any]) -> None:
    """Rejects an unknown engine, and options of the other engine among `given`."""
    if engine not in ENGINES:
        raise ConfigError(
            f"--engine must be one of {', '.join(ENGINES)}. Received: {engine!r}. "
            f"{did_you_mean(str(engine), ENGINES)}"
        )
    for other, options in ENGINE_OPTIONS.items():
        if other == engine:
            continue
        used = [flag for name, flag in options.items() if given.get(name) is not None]
        if used:
            raise ConfigError(
                f"{', '.join(used)} belong{'s' if len(used) == 1 else ''} to the {other} "
                f"engine, but the search runs with --engine {engine}. Add --engine {other}, "
                f"or leave {'it' if len(used) == 1 else 'them'} out."
            )


def with_seed(
    overrides: Sequence[str] | Mapping[str, Any] | None, seed: int
) -> list[str] | dict[str, Any]:
    """`overrides` that also replace `train.seed` (`--seed`; the config's rules check it)."""
    if isinstance(overrides, Mapping):
        return {**overrides, "train.seed": seed}
    return [*(overrides or []), f"train.seed={seed}"]


def prepare(config, **kwargs) -> Prepared:
    """The config, data and search space of a search (`Prepared(...).load()`)."""
    return Prepared(config, **kwargs).load()


def run(
    config: str | Path | Mapping[str, Any],
    *,
    engine: str = "keras_tuner",
    tuner: str | None = None,
    max_trials: int = 10,
    source: str | None = None,
    data_dir: str | Path | None = None,
    objective: str | Sequence[str] = "val_accuracy",
    directory: str | Path = DEFAULT_DIRECTORY,
    overwrite: bool = False,
    epochs: int | None = None,
    folds: int | None = None,
    max_retries_per_trial: int = 0,
    max_consecutive_failed_trials: int = 3,
    verbose: int | str = 0,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    seed: int | None = None,
    distributed: str | None = None,
    oracle: str | None = None,
    tuner_id: str | None = None,
    sampler: str | None = None,
    pruner: str | None = None,
    storage: str | None = None,
    study: str | None = None,
    timeout: float | None = None,
    heartbeat: int | None = None,
) -> dict[str, Any]:
    """Searches a config's `search` space and writes the results directory.

    Args:
        config: a zoo config name, a YAML path or a loaded config (with a `search` block).
        engine: "keras_tuner" (default) or "optuna".
        tuner: Keras Tuner's "random" (default), "grid", "bayesian" or "hyperband".
        max_trials: how many trials in all (a resumed search counts earlier trials; with
            Optuna, the trials of every worker sharing the study).
        source: a data source replacing `data.source`; data_dir: where TFDS finds data.
        objective: what to optimize: "val_accuracy", "val_loss", any logged metric, with an
            optional ":min" or ":max". Optuna takes several (a list), and the pseudo-metrics
            "params" and "latency".
        directory: where results.csv, trials.png, best.yaml and the engine's state go.
        overwrite: discard an earlier search in `directory` (otherwise it is resumed).
        epochs: replaces `train.epochs` for every trial (Hyperband's maximum).
        folds: K-fold cross-validation per trial on training + validation examples.
        max_retries_per_trial, max_consecutive_failed_trials: the failure policy.
        verbose: Keras's fit verbosity (the one line per trial is always printed).
        overrides: `--set` style overrides applied to the config before searching.
        seed: replaces `train.seed` (data split, initial weights, Keras Tuner's draws) and
            seeds Optuna's sampler with it; without it the sampler's seed is `train.seed`
            plus the process id, so that workers sharing a study draw different trials.
        distributed, oracle, tuner_id: Keras Tuner's distributed mode
            (`kzoo.tuning.keras_tuner`).
        sampler, pruner, storage, study, timeout, heartbeat: the Optuna engine's options
            (`kzoo.tuning.optuna.search`).

    Returns:
        A summary: trials, completed, failed, pruned, best (trial, objective value, values,
        config path), top (the best five), pareto (several objectives), directory. A Keras
        Tuner worker returns its role and tuner id.
    """
    directory = Path(directory)
    given = {
        "tuner": tuner, "distributed": distributed, "oracle": oracle, "tuner_id": tuner_id,
        "sampler": sampler, "pruner": pruner, "storage": storage, "study": study,
        "timeout": timeout, "heartbeat": heartbeat,
    }  # fmt: skip
    check_engine(engine, given)
    positive("max-trials", max_trials)
    positive("max-retries-per-trial", max_retries_per_trial, minimum=0)
    positive("max-consecutive-failed-trials", max_consecutive_failed_trials)
    specs = [objective] if isinstance(objective, str) else list(objective)
    if seed is not None:
        overrides = with_seed(overrides, seed)
    if not specs:
        raise ConfigError("--objective needs at least one value, e.g. val_accuracy.")
    if engine == "optuna":
        from kzoo.tuning import optuna

        summary = optuna.run_search(
            config,
            directory=directory,
            objectives=specs,
            max_trials=max_trials,
            source=source,
            data_dir=data_dir,
            overwrite=overwrite,
            epochs=epochs,
            folds=folds,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            verbose=verbose,
            overrides=overrides,
            sampler=sampler or "tpe",
            pruner=pruner or "none",
            storage=storage,
            study=study,
            timeout=timeout,
            seed=seed,
            heartbeat=optuna.HEARTBEAT if heartbeat is None else heartbeat,
        )
        return require_a_completed_trial(summary, directory)
    if len(specs) > 1:
        raise ConfigError(
            f"The keras_tuner engine optimizes one --objective. Received: {specs}. Use "
            "--engine optuna for several (a Pareto front), or give one."
        )
    tuner = tuner or "random"
    keras_tuner.check_tuner(tuner, folds)
    with keras_tuner.distributed(distributed, oracle, tuner_id):
        pass  # validates the distributed arguments before the (slow) data loading
    prepared = prepare(config, source=source, data_dir=data_dir, epochs=epochs, folds=folds,
                       overrides=overrides)  # fmt: skip
    goal = prepared.objectives(specs)
    record = {
        "config": configs.dump(prepared.config),
        "tuner": tuner,
        "objective": specs[0],
        "folds": folds,
    }
    if distributed != "worker":
        prepare_directory(
            directory,
            record,
            overwrite,
            shared=distributed is not None,
            reset=(keras_tuner.PROJECT, "pareto", hparams.FOLDER),
            repair=lambda d: keras_tuner.repair_interrupted_state(d / keras_tuner.PROJECT),
        )
    else:
        directory.mkdir(parents=True, exist_ok=True)
    trials, stopped = keras_tuner.search(
        tuner,
        prepared.space,
        goal[0],
        prepared.x_train,
        prepared.y_train,
        validation_data=prepared.validation_data,
        max_trials=max_trials,
        directory=directory,
        seed=int(prepared.config["train"]["seed"]),
        epochs=prepared.config["train"]["epochs"],
        max_retries_per_trial=max_retries_per_trial,
        max_consecutive_failed_trials=max_consecutive_failed_trials,
        folds=folds,
        fold_data=prepared.fold_data,
        verbose=verbose,
        distributed=distributed,
        oracle=oracle,
        tuner_id=tuner_id,
    )
    if trials is None:
        return {"role": "worker", "tuner_id": keras_tuner.distributed_env(
            distributed, oracle, tuner_id)["KERASTUNER_TUNER_ID"]}  # fmt: skip
    summary = reports.write_reports(directory, trials, prepared.space, goal)
    if stopped is not None:
        raise_stopped(max_consecutive_failed_trials, stopped, directory)
    return require_a_completed_trial(summary, directory)
