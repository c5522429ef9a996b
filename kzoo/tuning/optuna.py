"""The Optuna engine: a zoo config's search space as an Optuna study shared by any number
of workers through a database, with pruning and several objectives.

```
kzoo tune mlp --engine optuna --sampler tpe --max-trials 50        # an SQLite study in --directory
kzoo tune mlp --engine optuna --storage postgresql://user@db/kzoo --study mlp-v1 --max-trials 200
kzoo tune mlp --engine optuna --pruner median --max-trials 50
kzoo tune mlp --engine optuna --sampler nsga2 --objective val_accuracy --objective params:min
```

The search block maps onto Optuna's distributions: `choice` and `boolean` are
categorical (lists and mappings as JSON strings), `int` / `float` are ranges with their
`step` and `log` sampling (a stepped log range is the categorical of its values, as
Keras Tuner draws them); conditional hyperparameters are suggested only while their
parent takes one of `parent_values`. `reverse_log` sampling has no Optuna counterpart.

Storage: by default an SQLite file, DIRECTORY/study.db; any SQLAlchemy URL
(`postgresql://`, `mysql://`, with its driver installed) for workers on many machines;
`journal:PATH` for Optuna's journal file on a shared file system. Running the same
command again, on any machine, joins the study: `--max-trials` counts its trials across
all workers (each worker checks before starting one, so concurrent workers overshoot
by at most one trial each). Each worker writes results.csv, trials.png and best.yaml
in its own --directory when the study is done.

Fault tolerance: a trial that raises or diverges (NaN) is recorded as failed with its
error, and the worker goes on (`max_retries_per_trial` re-runs its parameters,
`max_consecutive_failed_trials` failures in a row stop the worker). With a database
storage each running trial sends a heartbeat (`heartbeat` seconds); a trial whose
worker was killed is marked failed after three missed heartbeats and queued again with
the same parameters, up to `optuna_storage.STALE_RETRIES` times, and workers wait for the running
trials of the others before they finish. The journal storage has no heartbeat: a
killed worker's trial stays `running` in results.csv and is not retried.

Pruning (`median`, `hyperband`, `successive_halving`) reads the first objective after
every epoch (`PruningCallback`); pruned trials appear as `pruned`. Multi-objective
searches (`nsga2`, `tpe`, `random` or `grid`) also write pareto.png and one config per
trial on the Pareto front; `params` (the parameter count) and `latency` (the median
seconds per example of a fixed batch, on the machine that ran the trial) are
objectives measured on the trained model.

This module holds the options, the study and the worker loop; `optuna_trial` the
distributions, the objective function and the pruning callback; `optuna_storage` the
storages.

In Python, `study(...)` and `objective(...)` give the same pieces for any Optuna
sampler, pruner or storage:

```python
study = kzoo.tuning.study("mlp", storage="sqlite:///mlp.db")
study.optimize(kzoo.tuning.objective("mlp", objectives=["val_accuracy"]), n_trials=20)
```
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from kzoo import configs
from kzoo.errors import ConfigError, did_you_mean
from kzoo.tuning import hparams, reports
from kzoo.tuning.inputs import Prepared, positive, prepare_directory, raise_stopped
from kzoo.tuning.optuna_storage import (
    DEFAULT_STORAGE_FILE,
    HEARTBEAT,
    JOURNAL_PREFIX,
    make_storage,
    mask,
    quiet,
    storage_url,
)
from kzoo.tuning.optuna_trial import PruningCallback, TrialObjective, candidates
from kzoo.tuning.space import Objective, SearchSpace, load, parse_objective, require_search

SAMPLERS = ("tpe", "random", "grid", "cmaes", "nsga2")
SINGLE_OBJECTIVE_SAMPLERS = ("cmaes",)
PRUNERS = ("none", "median", "hyperband", "successive_halving")
STATUS = {
    TrialState.COMPLETE: "completed",
    TrialState.FAIL: "failed",
    TrialState.PRUNED: "pruned",
    TrialState.RUNNING: "running",
    TrialState.WAITING: "waiting",
}
__all__ = ["PruningCallback", "objective", "run_search", "study"]


# --- options -----------------------------------------------------------------------------


def check_options(sampler: str, pruner: str, objectives: Sequence[Objective]) -> None:
    """Rejects unknown samplers and pruners, and combinations Optuna cannot run."""
    for flag, value, choices in (("--sampler", sampler, SAMPLERS), ("--pruner", pruner, PRUNERS)):
        if value not in choices:
            raise ConfigError(
                f"{flag} must be one of {', '.join(choices)}. Received: {value!r}. "
                f"{did_you_mean(str(value), choices)}"
            )
    if len(objectives) > 1:
        names = ", ".join(o.name for o in objectives)
        if sampler in SINGLE_OBJECTIVE_SAMPLERS:
            raise ConfigError(
                f"--sampler {sampler} optimizes one objective; this search has "
                f"{len(objectives)} ({names}). Use --sampler nsga2 (or tpe, random, grid) "
                "for a Pareto front, or give one --objective."
            )
        if pruner != "none":
            raise ConfigError(
                f"--pruner {pruner} needs a single objective (Optuna prunes on one reported "
                f"value); this search has {len(objectives)} ({names}). Drop --pruner or "
                "give one --objective."
            )


def check_space(space: SearchSpace, sampler: str) -> None:
    """What the search block asks that Optuna (or the grid sampler) cannot draw."""
    for param in space.params:
        if param.sampling == "reverse_log":
            raise ConfigError(
                f"{space.source}: search key {param.key!r} uses reverse_log sampling, which "
                "Optuna has no counterpart for. Use log or linear sampling, or --engine "
                "keras_tuner."
            )
        if sampler == "grid" and param.type == "float" and param.step is None:
            raise ConfigError(
                f"{space.source}: --sampler grid needs a finite set of values, but search key "
                f"{param.key!r} is a continuous float range. Give it a `step`, or use "
                "--sampler tpe or random."
            )


def make_sampler(name: str, space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if name == "grid":
        grid = {p.key: [p.encode(v) for v in candidates(p)] for p in space.params}
        return optuna.samplers.GridSampler(grid, seed=seed)
    try:
        import cmaes  # noqa: F401  (Optuna's CMA-ES sampler runs on it)
    except ImportError:
        raise ConfigError(
            "--sampler cmaes needs the `cmaes` package, which is not installed. Install it "
            "(pip install cmaes) or use --sampler tpe."
        ) from None
    # Categorical hyperparameters are drawn at random by CMA-ES; that is expected here.
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1))
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1)
    return optuna.pruners.NopPruner()


# --- the study -----------------------------------------------------------------------


def _fingerprint(space: SearchSpace, objectives: Sequence[Objective]) -> dict[str, Any]:
    return {
        "kzoo_space": json.dumps(space.config.get("search"), sort_keys=True, default=str),
        "kzoo_objectives": [f"{o.name}:{o.direction}" for o in objectives],
    }


def study(
    config: str | Path | Mapping[str, Any] | SearchSpace,
    *,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    objectives: Sequence[str] = ("val_accuracy",),
    sampler: str | optuna.samplers.BaseSampler = "tpe",
    pruner: str | optuna.pruners.BasePruner = "none",
    directory: str | Path = ".",
    heartbeat: int = HEARTBEAT,
    seed: int | None = None,
) -> optuna.Study:
    """Creates (or joins) the Optuna study of a zoo config's search space.

    The study's directions follow `objectives` (`METRIC[:min|max]`); it records the search
    block and objectives, so joining a study of another space or direction is an error.

    Args:
        config: a zoo config name, a YAML path, a loaded config or a `SearchSpace`.
        storage: an SQLAlchemy URL, `journal:PATH`, an Optuna storage, or None for
            DIRECTORY/study.db.
        study_name: default: the config's name.
        objectives: what to optimize; `params` and `latency` are measured on the model.
        sampler, pruner: names (`SAMPLERS`, `PRUNERS`) or Optuna objects.
        heartbeat: seconds between a running trial's heartbeats (database storages).
        seed: the sampler's seed (default: the config's seed plus the process id, so that
            workers draw different trials).

    Example:

    >>> import tempfile, kzoo
    >>> s = kzoo.tuning.study("mlp", directory=tempfile.mkdtemp())
    >>> s.study_name, s.direction.name
    ('mlp', 'MAXIMIZE')
    """
    space = config if isinstance(config, SearchSpace) else SearchSpace(_load(config))
    parsed = [_parse(space.config, spec) for spec in objectives]
    sampler_name = sampler if isinstance(sampler, str) else "tpe"
    pruner_name = pruner if isinstance(pruner, str) else "none"
    check_options(sampler_name, pruner_name, parsed)
    if isinstance(sampler, str):
        check_space(space, sampler)
        base = int(space.config["train"]["seed"]) if seed is None else seed
        sampler = make_sampler(sampler, space, base if seed is not None else base + os.getpid())
    if isinstance(pruner, str):
        pruner = make_pruner(pruner, int(space.config["train"]["epochs"]))
    url = None
    if storage is None or isinstance(storage, str):
        url = storage_url(storage, Path(directory))
        if storage is None:
            Path(directory).mkdir(parents=True, exist_ok=True)
        storage = make_storage(url, heartbeat)
    name = study_name or _default_name(space.config)
    directions = ["maximize" if o.direction == "max" else "minimize" for o in parsed]
    with quiet():
        result = optuna.create_study(
            storage=storage,
            sampler=sampler,
            pruner=pruner,
            study_name=name,
            directions=directions,
            load_if_exists=True,
        )
    _check_same_search(result, space, parsed, url)
    return result


make_study = study  # `run_search` has an argument named `study`


def _check_same_search(result: optuna.Study, space, objectives, url) -> None:
    where = f"Study {result.study_name!r}" + (f" in {mask(url)}" if url else "")
    wanted = [o.direction for o in objectives]
    found = [
        "max" if d == optuna.study.StudyDirection.MAXIMIZE else "min" for d in result.directions
    ]
    if found != wanted:
        raise ConfigError(
            f"{where} exists with directions {found}, but this search asks for {wanted} "
            f"({', '.join(o.name for o in objectives)}). Give another --study name, or the "
            "objectives that study was created with."
        )
    fingerprint = _fingerprint(space, objectives)
    attrs = result.user_attrs
    for key, value in fingerprint.items():
        if key not in attrs:
            result.set_user_attr(key, value)
        elif attrs[key] != value:
            what = "search space" if key == "kzoo_space" else "objectives"
            raise ConfigError(
                f"{where} exists with another {what} ({_shorten(attrs[key])}; this search: "
                f"{_shorten(value)}). Give another --study name to search this space, or "
                "--overwrite to discard that study."
            )


def _shorten(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _default_name(config: Mapping[str, Any]) -> str:
    source = str(config.get("source", config["model"]))
    return Path(source).stem if source.endswith((".yaml", ".yml")) else source


def _load(config) -> dict[str, Any]:
    loaded = load(config)
    require_search(loaded)
    return loaded


def _parse(config: Mapping[str, Any], spec: str) -> Objective:
    return parse_objective(config, spec, validation=True, pseudo=True)


def objective(
    config: str | Path | Mapping[str, Any],
    *,
    objectives: Sequence[str] = ("val_accuracy",),
    source: str | None = None,
    data_dir: str | Path | None = None,
    epochs: int | None = None,
    folds: int | None = None,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    verbose: int | str = 0,
) -> TrialObjective:
    """An Optuna objective function built from a zoo config (the data is loaded once here).

    `study.optimize(objective("mlp"), n_trials=20)` searches the config's `search` block;
    the trial's `params` hold the search keys (choice lists and mappings as JSON), and
    `kzoo.tuning.best_config("mlp", study.best_params)` is the best trial's config.

    Args:
        config: a zoo config name, a YAML path or a loaded config (with a `search` block).
        objectives: `METRIC[:min|max]`, the pseudo-metrics `params` and `latency` too;
            several make a multi-objective function returning a tuple.
        source, data_dir, epochs, folds, overrides: as `kzoo tune`.
    """
    prepared = Prepared(
        config, source=source, data_dir=data_dir, epochs=epochs, folds=folds,
        overrides=overrides, hypermodel=False,
    ).load()  # fmt: skip
    return TrialObjective(prepared, prepared.objectives(list(objectives), pseudo=True), verbose)


# --- the worker loop ----------------------------------------------------------------------------


def _retried(trials) -> set[int]:
    return {n for t in trials for n in t.system_attrs.get("retry_history", [])}


def budget(optuna_study: optuna.Study) -> tuple[int, int, int]:
    """(trials counted against --max-trials, waiting, running): a failed trial queued again
    counts once, through its retry."""
    trials = optuna_study.get_trials(deepcopy=False)
    retried = _retried(trials)
    counted = [t for t in trials if t.number not in retried]
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    running = sum(t.state == TrialState.RUNNING for t in trials)
    return len(counted), waiting, running


def record(
    trial: optuna.trial.FrozenTrial,
    space: SearchSpace,
    objectives: Sequence[Objective],
    retried_as: int | None = None,
) -> reports.TrialRecord:
    """An Optuna trial as a report row (`retried_as`: the trial that re-ran it)."""
    scores = {}
    if trial.state == TrialState.COMPLETE and trial.values is not None:
        scores = {o.name: float(v) for o, v in zip(objectives, trial.values)}
    error = trial.user_attrs.get("error", "")
    if trial.state == TrialState.FAIL and not error:
        error = "its worker stopped (no heartbeat)"
    if trial.state == TrialState.PRUNED:
        steps = sorted(trial.intermediate_values)
        error = f"after epoch {steps[-1] + 1}" if steps else ""
    if retried_as is not None:
        error = f"{error}; retried as trial {retried_as + 1}".lstrip("; ")
    return reports.TrialRecord(
        number=trial.number + 1,
        status=STATUS.get(trial.state, trial.state.name.lower()),
        values=space.decode(trial.params),
        scores=scores,
        error=error,
    )


def records(optuna_study: optuna.Study, space: SearchSpace, objectives) -> list:
    """Every trial of the study, in trial order."""
    trials = optuna_study.get_trials(deepcopy=False)
    retried_as = {}
    for t in trials:
        history = t.system_attrs.get("retry_history", [])
        if history:
            retried_as[history[-1]] = t.number
    return [record(t, space, objectives, retried_as.get(t.number)) for t in trials]


def run_search(
    config: str | Path | Mapping[str, Any],
    *,
    directory: Path,
    objectives: Sequence[str],
    max_trials: int,
    source: str | None = None,
    data_dir: str | Path | None = None,
    overwrite: bool = False,
    epochs: int | None = None,
    folds: int | None = None,
    max_retries_per_trial: int = 0,
    max_consecutive_failed_trials: int = 3,
    verbose: int | str = 0,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    sampler: str = "tpe",
    pruner: str = "none",
    storage: str | None = None,
    study: str | None = None,
    timeout: float | None = None,
    heartbeat: int = HEARTBEAT,
    seed: int | None = None,
) -> dict[str, Any]:
    """`kzoo tune --engine optuna`: one worker of a (possibly shared) study; see the module
    docstring. `seed` seeds the sampler (default: `train.seed` plus the process id).
    Returns the summary of `kzoo.tuning.search.run`."""
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
    ):
        raise ConfigError(f"--timeout must be a positive number of seconds. Received: {timeout!r}.")
    positive("heartbeat", heartbeat)
    prepared = Prepared(
        config, source=source, data_dir=data_dir, epochs=epochs, folds=folds,
        overrides=overrides, hypermodel=False,
    )  # fmt: skip
    # Everything that can be checked before the (slow) data loading is checked first.
    early = [parse_early(prepared.config, spec) for spec in objectives]
    check_options(sampler, pruner, early)
    if pruner != "none" and folds:
        raise ConfigError(
            f"--pruner {pruner} does not combine with --folds (a trial's folds are trained "
            "one after another). Drop one of them."
        )
    url = storage_url(storage, directory)
    name = study or _default_name(prepared.config)
    if storage is not None:
        make_storage(url, heartbeat)  # a wrong URL or a missing driver fails now
    prepared.load()
    goal = prepared.objectives(objectives, pseudo=True)
    check_space(prepared.space, sampler)
    record = {
        "config": configs.dump(prepared.config),
        "engine": "optuna",
        "sampler": sampler,
        "objective": [f"{o.name}:{o.direction}" for o in goal],
        "folds": folds,
        "storage": mask(storage) if storage else None,
        "study": name,
    }
    reset = ("pareto", hparams.FOLDER) + ((DEFAULT_STORAGE_FILE,) if storage is None else ())
    prepare_directory(directory, record, overwrite, shared=True, reset=reset)
    if overwrite and storage is not None:
        with quiet(), contextlib.suppress(KeyError):
            optuna.delete_study(study_name=name, storage=make_storage(url, heartbeat))
    optuna_study = make_study(
        prepared.space,
        storage=url,
        study_name=name,
        objectives=[f"{o.name}:{o.direction}" for o in goal],
        sampler=sampler,
        pruner=pruner,
        directory=directory,
        heartbeat=heartbeat,
        seed=seed,
    )
    function = TrialObjective(prepared, goal, verbose)
    stopped = _work(
        optuna_study,
        function,
        max_trials=max_trials,
        timeout=timeout,
        max_retries_per_trial=max_retries_per_trial,
        max_consecutive_failed_trials=max_consecutive_failed_trials,
        heartbeats=not url.startswith(JOURNAL_PREFIX),
        heartbeat=heartbeat,
        hparams_dir=directory if hparams.enabled(prepared.config) else None,
    )
    summary = reports.write_reports(
        directory, records(optuna_study, prepared.space, goal), prepared.space, goal
    )
    summary["study"] = name
    summary["storage"] = mask(url)
    if stopped is not None:
        raise_stopped(max_consecutive_failed_trials, stopped, directory)
    return summary


def parse_early(config: Mapping[str, Any], spec: str) -> Objective:
    """An objective checked before the data is loaded (validation assumed available)."""
    return _parse(config, spec)


def _work(
    optuna_study: optuna.Study,
    function: TrialObjective,
    *,
    max_trials: int,
    timeout: float | None,
    max_retries_per_trial: int,
    max_consecutive_failed_trials: int,
    heartbeats: bool,
    heartbeat: int,
    hparams_dir: Path | None = None,
) -> BaseException | None:
    """Runs trials until the study has `max_trials` (or the time is up); returns the error
    that stopped this worker early, if any. Each trial it ran writes HParams logs in
    `hparams_dir` (a search directory) when given."""
    deadline = None if timeout is None else time.monotonic() + timeout
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback
    state = {"failures": 0, "last": None}

    def after(done_study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        row = record(trial, function.space, function.objectives)
        print(reports.progress_line(row, max_trials), flush=True)
        if hparams_dir is not None:
            hparams.write_trial(hparams_dir, row)
        if trial.state == TrialState.FAIL:
            state["failures"] += 1
            state["last"] = RuntimeError(row.error)
            if max_retries_per_trial:
                retry(max_retry=max_retries_per_trial)(done_study, trial)
        else:
            state["failures"] = 0

    grid = isinstance(optuna_study.sampler, optuna.samplers.GridSampler)
    with quiet():
        while True:
            if heartbeats:
                optuna.storages.fail_stale_trials(optuna_study)
            counted, waiting, running = budget(optuna_study)
            exhausted = grid and optuna_study.sampler.is_exhausted(optuna_study)
            if (counted >= max_trials or exhausted) and not waiting:
                if running and heartbeats and (deadline is None or time.monotonic() < deadline):
                    time.sleep(min(heartbeat, 5))  # another worker's trial may be stale
                    continue
                return None
            if deadline is not None and time.monotonic() >= deadline:
                return None
            if state["failures"] >= max_consecutive_failed_trials:
                return state["last"]
            try:
                optuna_study.optimize(
                    function, n_trials=1, catch=(Exception,), callbacks=[after],
                    gc_after_trial=False,
                )  # fmt: skip
            except Exception:
                # Another worker took this trial for one whose worker died (its heartbeats
                # came late on a busy machine), failed it and queued it again: Optuna then
                # cannot record the result here. The retry counts instead.
                number = getattr(function, "last_trial", None)
                trials = optuna_study.get_trials(deepcopy=False)
                if number is None or trials[number].state != TrialState.FAIL:
                    raise
                print(f"trial {number + 1}: failed as stale by another worker; its retry "
                      "runs instead", flush=True)  # fmt: skip
