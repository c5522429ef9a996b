"""The search's overhead: a kzoo random search against plain `fit` of its trials, per engine.

One side runs `kzoo.tuning.search.run` (a random search over the `mlp` zoo config's
search space on the embedded `vowels` data, with Keras Tuner, then with Optuna and its
default SQLite storage); the other trains the very
hyperparameter values those trials drew, one after another, with `model.fit` on the
same arrays: the same model built from the trial's config, compiled with the same
recipe, with the same epochs (the config's), batch size and validation data. The
difference is what the tuner adds: the hypermodel, the oracle, Keras Tuner's
per-trial state and best-epoch checkpoints (Optuna: its study database, one
transaction per trial and heartbeats), the NaN checks, and the results.csv /
trials.png / best.yaml reports.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import math
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from unittest import mock

import keras

import kzoo
from benchmarks.common import Comparison, comparison_table

CONFIG = "mlp"
TARGET = 1.10  # search time per trial / plain fit time per trial
PRUNING_TARGET = 0.70  # a pruned search's time / the same search's without pruning


def trial_values(directory: Path, engine: str = "keras_tuner") -> list[dict]:
    """The hyperparameter values (the engines' shared encoding) of each trial, in order."""
    if engine == "optuna":
        import optuna

        storage = f"sqlite:///{directory / 'study.db'}"
        study = optuna.load_study(study_name=CONFIG, storage=storage)
        return [t.params for t in study.get_trials(deepcopy=False)]
    paths = sorted(
        (directory / kzoo.tuning.keras_tuner.PROJECT).glob("trial_*/trial.json"),
        key=lambda p: int(p.parent.name.rpartition("_")[2]),
    )
    return [json.loads(p.read_text())["hyperparameters"]["values"] for p in paths]


def run(repeats: int, quick: bool) -> list[str]:
    rows, notes = [], []
    for engine in ("keras_tuner", "optuna"):
        row, note = measure(engine, repeats, quick)
        rows.append(row)
        notes.append(note)
    table = comparison_table("Search overhead", "s per trial", rows, " ".join(notes))
    row, note = pruning(repeats, quick)
    return table + comparison_table("Pruning", "s per search", [row], note)


def pruning(repeats: int, quick: bool) -> tuple[Comparison, str]:
    """An Optuna TPE search over a learning rate spanning 1e-5 to 1 (log), with the median
    pruner against none: the time of the whole search, and the best objective of each."""
    from unittest import mock

    from kzoo import configs, data, tuning

    config = configs.load(CONFIG)
    config["search"] = {
        "train.optimizer.learning_rate": {
            "type": "float", "min": 1e-5, "max": 1.0, "sampling": "log",
        }
    }  # fmt: skip
    trials, epochs = (6, 3) if quick else (20, config["train"]["epochs"])
    train = config["train"]
    dataset = data.load(config["data"], train["batch_size"], train["seed"])
    workdir = Path(tempfile.mkdtemp(prefix="kzoo-bench-pruning-"))
    best = {"median": [], "none": []}

    def search(pruner: str) -> float:
        begin = time.perf_counter()
        with (
            mock.patch.object(data, "load", lambda *args, **kwargs: dataset),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            summary = tuning.search.run(
                config, engine="optuna", sampler="tpe", pruner=pruner, max_trials=trials,
                epochs=epochs, directory=workdir / pruner, overwrite=True,
            )  # fmt: skip
        best[pruner].append(summary["best"]["value"])
        return time.perf_counter() - begin

    ours, theirs = [], []
    try:
        # Whole searches are long: at most two pairs, the order alternating.
        for i in range(max(1, min(repeats, 2))):
            if i % 2:
                theirs.append(search("none"))
                ours.append(search("median"))
            else:
                ours.append(search("median"))
                theirs.append(search("none"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    row = Comparison(
        f"TPE search, {trials} trials x {epochs} epochs of `{CONFIG}` on vowels, learning rate "
        "1e-5 to 1 (log): median pruner vs none",
        ours,
        theirs,
        PRUNING_TARGET,
        digits=1,
    )
    print(row.row(), flush=True)
    note = (
        "Both sides are `kzoo.tuning.search.run(engine='optuna', sampler='tpe')` on the same "
        "arrays, with `pruner='median'` (kzoo's side) and without. Best val_accuracy with "
        f"pruning {_short(statistics.median(best['median']))}, without "
        f"{_short(statistics.median(best['none']))} (median over the searches)."
    )
    return row, note


def measure(engine: str, repeats: int, quick: bool) -> tuple[Comparison, str]:
    from kzoo import configs, data, recipe, tuning
    from kzoo.models import factory

    config = configs.load(CONFIG)
    # The trials run as the config sets them (its epochs). The search's own costs are
    # fixed per trial (the note prints them), so a search of shorter trials pays
    # proportionally more: about 0.3 s against 4 s for a 3-epoch trial of this model.
    trials, epochs = (1, 1) if quick else (3, config["train"]["epochs"])
    config["train"]["epochs"] = epochs
    train = config["train"]
    start = time.perf_counter()
    dataset = data.load(config["data"], train["batch_size"], train["seed"])
    load_seconds = time.perf_counter() - start
    x_train, y_train = dataset.arrays["train"]
    x_val, y_val = dataset.arrays["validation"]
    hypermodel = tuning.hypermodel(config)
    steps = math.ceil(len(y_train) / train["batch_size"])
    workdir = Path(tempfile.mkdtemp(prefix="kzoo-bench-tuning-"))

    # Seconds the search spends in the parts it adds, summed per search: Keras Tuner's
    # clean-up before each model, its best-epoch checkpoints and kzoo's reports.
    parts = {"clear_session": [], "checkpoints": [], "reports": []}

    running = set()  # clear_session calls gc.collect itself: time only the outer call

    def stopwatch(function, part):
        def timed_call(*args, **kwargs):
            if part in running:
                return function(*args, **kwargs)
            running.add(part)
            begin = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                running.discard(part)
                parts[part][-1] += time.perf_counter() - begin

        return timed_call

    def search(trials: int = trials, epochs: int = epochs) -> list[dict]:
        for times in parts.values():
            times.append(0.0)
        # The data is loaded once above for both sides, so the search is served that copy.
        with (
            mock.patch.object(data, "load", lambda *args, **kwargs: dataset),
            mock.patch.object(
                tuning.reports, "write_reports", stopwatch(tuning.reports.write_reports, "reports")
            ),
            mock.patch.object(
                keras.backend,
                "clear_session",
                stopwatch(keras.backend.clear_session, "clear_session"),
            ),
            mock.patch.object(gc, "collect", stopwatch(gc.collect, "clear_session")),
            mock.patch.object(
                keras.Model, "save_weights", stopwatch(keras.Model.save_weights, "checkpoints")
            ),
            contextlib.redirect_stdout(io.StringIO()),  # its one line per trial
        ):
            tuning.search.run(
                config,
                engine=engine,
                max_trials=trials,
                epochs=epochs,
                directory=workdir,
                overwrite=True,
                **({"tuner": "random"} if engine == "keras_tuner" else {"sampler": "random"}),
            )
        return trial_values(workdir, engine)

    def plain_fit(values: list[dict], epochs: int = epochs) -> None:
        for raw in values:
            trial = tuning.best_config(hypermodel, raw)
            model = factory.build(trial)
            recipe.compile_model(model, trial, steps_per_epoch=steps)
            model.fit(
                x_train,
                y_train,
                batch_size=trial["train"]["batch_size"],
                epochs=epochs,
                validation_data=(x_val, y_val),
                shuffle=True,
                verbose=0,
                callbacks=recipe.make_callbacks(trial),
            )

    def timed(step, *args):
        begin = time.perf_counter()
        result = step(*args)
        return (time.perf_counter() - begin) / trials, result

    ours, theirs = [], []
    try:
        plain_fit(search(1, 1), 1)  # warm-up: imports, first traces, matplotlib
        # The seeded search draws the same trials each time. Which side goes first
        # alternates, so that order effects land on both sides alike (the search's
        # clear_session empties TensorFlow's kernel cache for whatever runs next).
        values = None
        for i in range(repeats):
            if i % 2:  # values: drawn by the first (even) repeat
                theirs.append(timed(plain_fit, values)[0])
                seconds, drawn = timed(search)
            else:
                seconds, drawn = timed(search)
                theirs.append(timed(plain_fit, drawn)[0])
            if values is not None and drawn != values:
                raise RuntimeError(f"The seeded search drew {values}, then {drawn}.")
            values = drawn
            ours.append(seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    drawn = "; ".join(
        ", ".join(f"{k}={_short(v)}" for k, v in hypermodel.values(raw).items()) for raw in values
    )
    name = "Keras Tuner" if engine == "keras_tuner" else "Optuna (SQLite study)"
    row = Comparison(
        f"{name} random search, {trials} trials x {epochs} epochs of `{CONFIG}` on vowels "
        f"({len(y_train)} training examples, batch {train['batch_size']}) vs plain fit",
        ours,
        theirs,
        TARGET,
        digits=2,
    )
    print(row.row(), flush=True)
    if engine == "optuna":
        note = (
            "Optuna's side is `kzoo.tuning.search.run(engine='optuna', sampler='random')` "
            "with its default storage (an SQLite study in the search directory, heartbeats "
            "every 60 s), reports included. What it adds, median seconds per trial: "
            + ", ".join(
                f"{part} {statistics.median(times[1:]) / trials:.2f}"
                for part, times in parts.items()
                if part != "checkpoints"
            )
            + f". Its trials: {drawn}."
        )
        return row, note
    note = (
        "Keras Tuner's side is `kzoo.tuning.search.run` (`RandomSearch`, seeded, "
        "objective val_accuracy), reports included; the reference trains the hyperparameter "
        "values the search drew, in one loop of `factory.build` + the config's recipe + "
        "`model.fit` with the same epochs, batch size, validation data and callbacks. What "
        "the search adds, median seconds per trial: "
        + ", ".join(
            f"{part} {statistics.median(times[1:]) / trials:.2f}" for part, times in parts.items()
        )
        + " (the tuner clears the Keras session before each model, without forcing a garbage "
        "collection since kzoo's tuner skips Keras Tuner's two, and writes the best epoch's "
        "weights once per trial, where Keras Tuner writes them at each improving epoch; the "
        "reports are results.csv, trials.png and "
        "best.yaml, once per search). Not timed here: a cleared session makes the next model's "
        "first trace slower (about 0.16 s per trial, measured apart by fitting the same trials "
        "with and without clearing). Few, short trials weigh these most. Loading the data "
        f"({load_seconds:.1f} s, once per search) is left out of both: the search is "
        f"served the same arrays. The trials: {drawn}."
    )
    return row, note


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
