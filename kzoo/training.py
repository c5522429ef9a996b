"""The training runner: config -> data -> compiled model -> fit -> run directory.

`train` is what `kzoo train` and `kzoo demo` call; `evaluate` is `kzoo evaluate`.
An interrupted run continues with `resume=True` from its last completed epoch, with
the same weights, optimizer state, schedule position and callback state (newbob).
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import json
import math
import shutil
import time
from pathlib import Path
from typing import Any

import keras
import yaml

from kzoo import callbacks as kzoo_callbacks
from kzoo import configs, data, distribute, presets, recipe, registry, run_dir
from kzoo.errors import ConfigError
from kzoo.models import factory


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class RunCheckpoint(keras.callbacks.Callback):
    """After every epoch: weights and optimizer state, callback state and history, atomically.

    The weights of epoch `e` go to `weights-e.weights.h5` before `state.json` names
    them, and older weights are removed only after, so a kill at any instant leaves a
    consistent pair (losing at most the epoch in progress).
    """

    def __init__(
        self, directory: Path, history_path: Path, stateful: list[keras.callbacks.Callback]
    ):
        super().__init__()
        self.directory = Path(directory)
        self.history_path = Path(history_path)
        self.stateful = stateful
        self.rows: list[dict[str, float]] = []
        self.diverged_at: int | None = None
        self.seconds = 0.0  # training time of the whole run, resumed parts included
        self._started = 0.0

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def restore(self, model: keras.Model) -> int:
        """Loads the last completed epoch's state into `model`; returns the epoch to start at."""
        if not self.state_path.exists():
            return 0
        state = read_checkpoint(self.directory.parent)
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(self.directory / state["weights"])
        except Exception as error:  # h5py and Keras raise several types for a damaged file
            raise ConfigError(_damaged(self.directory / state["weights"], error)) from None
        for callback, saved in zip(self.stateful, state["callbacks"]):
            callback.set_state(saved)
        self.rows = state["history"]
        self.seconds = float(state.get("seconds", 0.0))
        return int(state["epoch"])

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter() - self.seconds

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
        if not all(math.isfinite(v) for v in row.values()):
            self.diverged_at = epoch  # keep the last good checkpoint as it is
            self.model.stop_training = True
            return
        self.rows.append(row)
        self.seconds = time.perf_counter() - self._started
        weights = f"weights-{epoch + 1}.weights.h5"
        run_dir.write_atomic(self.directory / weights, self.model.save_weights)
        state = {
            "epoch": epoch + 1,
            "weights": weights,
            "callbacks": [c.get_state() for c in self.stateful],
            "history": self.rows,
            "seconds": round(self.seconds, 1),
        }
        # Unsorted keys: the history rows keep Keras's column order across a resume.
        run_dir.write_json(self.state_path, state, sort_keys=False)
        run_dir.write_history(self.history_path, self.rows)
        for old in self.directory.glob("weights-*.weights.h5"):
            if old.name != weights:
                old.unlink()


def _damaged(path: Path, error: BaseException) -> str:
    reason = " ".join(str(error).split())[:120] or type(error).__name__
    return (
        f"{path} is damaged and cannot be read ({reason}). The run cannot be resumed from it: "
        "start it again with --overwrite, or train into another --output."
    )


def read_checkpoint(output: Path) -> dict[str, Any]:
    """The checkpoint state of a run directory, checked before anything is written."""
    path = output / "checkpoint" / "state.json"
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ConfigError(_damaged(path, error)) from None
    keys = {"epoch": int, "weights": str, "callbacks": list, "history": list}
    if not isinstance(state, dict) or any(
        not isinstance(state.get(k), t) or isinstance(state.get(k), bool) for k, t in keys.items()
    ):
        raise ConfigError(_damaged(path, ValueError("missing or mistyped keys")))
    weights = path.parent / state["weights"]
    if Path(state["weights"]).name != state["weights"] or not weights.is_file():
        raise ConfigError(_damaged(path, ValueError(f"names a missing file {state['weights']!r}")))
    try:
        import h5py

        with h5py.File(weights, "r"):
            pass
    except Exception as error:  # OSError for a truncated file; h5py's own types otherwise
        raise ConfigError(_damaged(weights, error)) from None
    return state


def default_output(config: dict[str, Any]) -> Path:
    stem = Path(config.get("source", config["model"])).stem
    return Path("runs") / f"{stem}-{datetime.datetime.now():%Y%m%d-%H%M%S}"


def _check_output(output: Path, resume: bool, overwrite: bool) -> None:
    """Whether `output` may be written as asked. Reads only: nothing is created or deleted."""
    if output.exists() and not output.is_dir():
        raise ConfigError(f"--output {output} is a file; the run directory must be a directory.")
    if resume:
        if not (output / "checkpoint" / "state.json").exists():
            raise ConfigError(
                f"Cannot resume: {output} holds no checkpoint of an earlier run. Start a new "
                "run without --resume, or point --output at the run to continue."
            )
        read_checkpoint(output)
    elif output.exists() and run_dir.holds_files(output):
        if not overwrite:
            raise ConfigError(
                f"Output directory {output} already holds files. Pass --resume to continue "
                "that run, --overwrite to replace it, or choose another --output."
            )
        if not run_dir.is_run(output):
            raise ConfigError(
                f"--overwrite replaces only a run directory written by `kzoo train`, and "
                f"{output} is not one (it has no {run_dir.MARKER} marker). Choose another "
                "--output, or empty that directory yourself."
            )


def _check_data_apart(output: Path, source: Any) -> None:
    """A run directory never lies inside the data it reads, nor the data inside it."""
    if isinstance(source, str) and Path(source).is_dir() and run_dir.overlaps(output, source):
        raise ConfigError(
            f"--output {output} and the data directory {source} overlap; a run written there "
            "would mix with (or replace) the data set. Choose an --output outside the data."
        )


@contextlib.contextmanager
def _claim(output: Path, resume: bool, overwrite: bool):
    """Creates, locks and (for --overwrite) clears the run directory; yields while held.

    The checks of `_check_output` run again under the lock, since another process may
    have written the directory since.
    """
    created = [p for p in (output, *output.parents) if not p.exists()]
    output.mkdir(parents=True, exist_ok=True)
    lock = run_dir.Lock(output)
    try:
        lock.acquire()
        _check_output(output, resume, overwrite)
    except BaseException:
        lock.release()
        _remove_created(created)
        raise
    try:
        if resume:
            for directory in (output, output / "checkpoint"):  # what a killed write left
                run_dir.remove_temporaries(directory)
        elif overwrite and run_dir.is_run(output):
            run_dir.clear(output)
        else:  # a new run, in a folder that may hold what a killed first write left
            run_dir.remove_temporaries(output)
        if not (output / run_dir.MARKER).exists():  # new runs, and older unmarked ones
            run_dir.mark(output, presets.versions())
        yield
    except BaseException as error:
        # A new run that failed before its first checkpoint (a full or read-only disk, an
        # interrupt, data the model cannot take) has nothing to resume: it leaves nothing.
        first_epoch = not (output / "checkpoint" / "state.json").exists()
        if created and first_epoch and not isinstance(error, TrainingDiverged):
            shutil.rmtree(output, ignore_errors=True)
            _remove_created(created[1:])
        raise
    finally:
        lock.release()


def _remove_created(created: list[Path]) -> None:
    """Removes the folders a call created (deepest first), each only if it is empty."""
    for path in created:
        with contextlib.suppress(OSError):
            path.rmdir()


def _resume_config(
    output: Path, given: dict[str, Any], source: str | None, epochs: int | None
) -> dict[str, Any]:
    """The config to continue with: the run's own, refusing a `given` one that differs.

    What the command line does not say comes from the run (its data source, its
    epochs); only `--epochs` may change, and only upward.
    """
    saved = configs.load(output / "config.yaml")
    config = copy.deepcopy(given)
    config["data"]["source"] = saved["data"]["source"] if source is None else str(source)
    planned = saved["train"]["epochs"]
    if epochs is not None and epochs < planned:
        raise ConfigError(
            f"Cannot resume {output} with --epochs {epochs}: the run was planned for {planned} "
            f"epochs, and a resume may only add epochs. Pass --epochs {planned} or more."
        )
    config["train"]["epochs"] = planned
    for key, value in saved["args"].items():  # shapes and classes the data filled in
        config["args"].setdefault(key, value)
    changed = _differences(_comparable(saved), _comparable(config))
    if changed:
        shown = ", ".join(changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        raise ConfigError(
            f"Cannot resume {output}: the config differs from the run's in {shown}. Resume with "
            f"the run's own config (kzoo train {output / 'config.yaml'} --output {output} "
            "--resume), or start a new run in another --output."
        )
    return config


def _comparable(config: dict[str, Any]) -> dict[str, Any]:
    """What decides a run's result: the config less its text and search space."""
    keep = {k: v for k, v in config.items() if k in ("model", "args", "train", "data")}
    return yaml.safe_load(yaml.safe_dump(keep))  # tuples and lists compare alike


def _differences(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested mappings."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in [*a, *(k for k in b if k not in a)]:
            out += _differences(a.get(key), b.get(key), f"{prefix}{key}.")
        return out
    return [] if a == b else [prefix.rstrip(".")]


def _fill_from_data(config: dict[str, Any], dataset: data.Dataset) -> None:
    """Input shape, classes (and vocabulary size) come from the data, not the config."""
    accepted = registry.builder_arguments(config["model"])
    if not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        needed = ["input_shape"]
        if config["data"]["targets"] == "labels":
            needed.append("num_classes")
        missing = [key for key in needed if key not in accepted]
        if missing:
            given = dataset.builder_arguments()
            raise ConfigError(
                f"{config['source']}: model {config['model']!r} cannot be fitted to the data: "
                f"its builder ({registry.builder(config['model']).__qualname__}) takes no "
                f"{' or '.join(f'`{key}`' for key in missing)} argument, and the data has "
                + ", ".join(f"{key}={given[key]!r}" for key in missing)
                + ". Add those keyword arguments to the builder's signature and build the "
                "model's input and output from them."
            )
    for key, value in dataset.builder_arguments().items():
        if key in accepted:
            config["args"][key] = list(value) if isinstance(value, tuple) else value


def train(
    config: dict[str, Any] | str,
    *,
    source: str | None = None,
    data_dir: str | None = None,
    epochs: int | None = None,
    output: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    verbose: int | str = 1,
    distribute_mode: str = "none",
) -> dict[str, Any]:
    """Trains the model a config describes and writes its run directory.

    Args:
        config: a loaded config, or a config name / path.
        source: a data source replacing `data.source` (`vowels`, `tfds:NAME[:split]`, a directory).
        data_dir: where TFDS finds prepared data sets.
        epochs: replaces `train.epochs`.
        output: the run directory (default: runs/<config>-<time>).
        resume: continue the interrupted run in `output`.
        overwrite: replace what `output` holds.
        verbose: Keras's fit verbosity (1: progress bar).
        distribute_mode: "none", "mirrored", "multi_worker" or "tpu" (see kzoo.distribute).

    Returns:
        The metrics written to metrics.json, with `run_dir` added.
    """
    with distribute.scope(distribute_mode):  # build, compile and fit under one placement
        return _train(config, source, data_dir, epochs, output, resume, overwrite, verbose)


def _train(config, source, data_dir, epochs, output, resume, overwrite, verbose) -> dict[str, Any]:
    if isinstance(config, (str, Path)):
        config = configs.load(config)
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ConfigError(f"--epochs must be a positive integer. Received: {epochs!r}.")
    output = Path(output) if output else default_output(config)
    _check_output(output, resume, overwrite)
    run_dir.check_unlocked(output)
    if resume:
        config = _resume_config(output, config, source, epochs)
    if epochs is not None:
        config["train"]["epochs"] = epochs
    if source is not None:
        config["data"]["source"] = str(source)
    _check_data_apart(output, config["data"]["source"])
    train_block = config["train"]
    keras.utils.set_random_seed(int(train_block["seed"]))

    dataset = data.load(
        config["data"],
        train_block["batch_size"],
        train_block["seed"],
        data_dir=data_dir,
        variable_length=data.variable_length(config),
    )
    _fill_from_data(config, dataset)
    configs.validate(config)
    try:
        model = factory.build(config)
    except (ValueError, TypeError) as error:  # TypeError: an `args` value of the wrong type
        raise ConfigError(
            f"{config['source']}: cannot build model {config['model']!r}: {error}"
        ) from None
    steps = max(1, -(-dataset.sizes["train"] // train_block["batch_size"]))
    recipe.compile_model(model, config, steps_per_epoch=steps)
    callbacks = recipe.make_callbacks(config, output)

    # Nothing is written (or, for --overwrite, deleted) before the config, data and model
    # have all been accepted; from here on the run directory is this process's alone.
    with _claim(output, resume, overwrite):
        return _fit(model, config, dataset, callbacks, output, resume, verbose)


def _fit(model, config, dataset, callbacks, output, resume, verbose) -> dict[str, Any]:
    train_block = config["train"]
    run_dir.write_text(output / "config.yaml", configs.dump(config))
    presets.record_run(output, dataset)  # labels, front end, versions: for kzoo.load(run)
    stateful = [c for c in callbacks if hasattr(c, "get_state") and hasattr(c, "set_state")]
    checkpoint = RunCheckpoint(output / "checkpoint", output / "history.csv", stateful)
    initial_epoch = checkpoint.restore(model) if resume else 0
    if initial_epoch:  # a kill between state.json and history.csv left the csv an epoch behind
        run_dir.write_history(output / "history.csv", checkpoint.rows)
    if initial_epoch < train_block["epochs"]:
        model.fit(
            dataset.train,
            validation_data=dataset.validation,
            epochs=train_block["epochs"],
            initial_epoch=initial_epoch,
            callbacks=[
                *callbacks,
                keras.callbacks.TerminateOnNaN(),
                # the rate each epoch's first step used, after every callback has set it
                kzoo_callbacks.LearningRateLogger(),
                checkpoint,
            ],
            verbose=verbose,
            shuffle=False,  # the tf.data pipeline shuffles
        )
    if checkpoint.diverged_at is not None:
        if checkpoint.restore(model):
            run_dir.write_atomic(output / "model.keras", model.save)
        raise TrainingDiverged(
            f"Training diverged (the loss became NaN or infinite) in epoch "
            f"{checkpoint.diverged_at + 1}. The last good checkpoint is in {output / 'checkpoint'}"
            " (and model.keras); lower the learning rate or add gradient clipping "
            "(train.optimizer.global_clipnorm) and resume."
        )
    results = run_dir.summarize(checkpoint.rows)
    results["seconds"] = round(checkpoint.seconds, 1)
    results["sizes"] = dataset.sizes
    if dataset.test is not None:
        results["test"] = model.evaluate(dataset.test, return_dict=True, verbose=0)
    run_dir.write_atomic(output / "model.keras", model.save)
    run_dir.write_json(output / "metrics.json", results)
    run_dir.plot_curves(
        output / "curves.png", checkpoint.rows, f"{config['model']} ({config['data']['source']})"
    )
    results["run_dir"] = str(output)
    return results


# `kzoo evaluate --checkpoint`: which model of a run directory.
CHECKPOINTS = {"final": "model.keras", "best": "best.keras"}


def evaluate(
    run: str | Path,
    source: str | None = None,
    data_dir: str | None = None,
    split: str = "test",
    verbose: int | str = 0,
    checkpoint: str = "final",
) -> dict[str, float]:
    """Evaluates the model of a run directory on a data source; writes metrics.json there.

    Args:
        run: a directory written by `train`.
        source: the data (default: the run's own `data.source`).
        split: "test" (the split the run held out: the same seed gives the same split)
            or "all" (every example of the source, for a new data set).
        checkpoint: "final" (model.keras, the last epoch) or "best" (best.keras, the best
            epoch kept by the `model_checkpoint` callback).
    """
    run = Path(run)
    for name in ("model.keras", "config.yaml"):
        if not (run / name).exists():
            raise ConfigError(
                f"{run} is not a finished run directory: it has no {name}. Pass a directory "
                "written by `kzoo train`."
            )
    if checkpoint not in CHECKPOINTS:
        raise ConfigError(f"--checkpoint must be `final` or `best`. Received: {checkpoint!r}.")
    model_path = run / CHECKPOINTS[checkpoint]
    if not model_path.exists():
        raise ConfigError(
            f"{run} has no {model_path.name}: the best epoch is kept only by runs trained "
            "with the `model_checkpoint` callback (train.callbacks: {model_checkpoint: "
            "{monitor: val_accuracy, mode: max}}). Evaluate the final model instead."
        )
    if split not in ("test", "all"):
        raise ConfigError(f"--split must be `test` or `all`. Received: {split!r}.")
    config = configs.load(run / "config.yaml")
    block = dict(config["data"])
    if split == "all":
        block.update(validation_split=0.0, test_split=0.0, test_pattern=None)
    block["augment"] = {}  # evaluation never augments
    variable = data.variable_length(config, trained=True)
    shape = config["args"].get("input_shape")
    # Output i is the run's i-th class: the data's classes are matched to them by name
    # (runs written before kzoo recorded its labels rely on the folder order).
    record = presets.read_run_record(run)
    labels = record["labels"] if record and block.get("targets", "labels") == "labels" else None
    # Token i is the run's i-th word: new texts are read with its vocabulary, not their own.
    vocabulary = ((record or {}).get("frontend") or {}).get("vocabulary")
    if vocabulary is not None:
        block["vocabulary"] = vocabulary
    dataset = data.load(
        block,
        config["train"]["batch_size"],
        config["train"]["seed"],
        source,
        data_dir,
        variable_length=variable,
        steps=None if variable or not shape else shape[0],  # as the model was trained
        class_names=labels,
    )
    expected = config["args"].get("num_classes")
    if expected is not None and dataset.num_classes != expected:
        raise ConfigError(
            f"The model of {run} predicts {expected} classes but the data has "
            f"{dataset.num_classes} ({', '.join(dataset.class_names[:6])}...). Evaluate on "
            "data with the classes it was trained on."
        )
    model = run_dir.load_model(model_path)
    split_data = dataset.train if split == "all" else dataset.test
    if split_data is None:
        raise ConfigError(f"The data source leaves no {split} examples to evaluate on.")
    metrics = model.evaluate(split_data, return_dict=True, verbose=verbose)
    metrics = {k: float(v) for k, v in metrics.items()}
    previous = (
        json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").exists() else {}
    )
    source_name = source or config["data"]["source"]
    key = f"{source_name}:{split}" + (":best" if checkpoint == "best" else "")
    previous.setdefault("evaluations", {})[key] = metrics
    run_dir.write_json(run / "metrics.json", previous)
    return metrics


__all__ = ["TrainingDiverged", "evaluate", "train"]
