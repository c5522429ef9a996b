"""The training runner: config -> data -> compiled model -> fit -> run directory.

`train` is what `kzoo train` and `kzoo demo` call; `evaluate` is `kzoo evaluate`.
An interrupted run continues with `resume=True` from its last completed epoch, with
the same weights, optimizer state, schedule position and callback state (newbob).
"""

from __future__ import annotations

import datetime
import json
import math
import shutil
import time
from pathlib import Path
from typing import Any

import keras

from kzoo import configs, data, distribute, recipe, registry, run_dir
from kzoo.errors import ConfigError


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

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def restore(self, model: keras.Model) -> int:
        """Loads the last completed epoch's state into `model`; returns the epoch to start at."""
        if not self.state_path.exists():
            return 0
        state = json.loads(self.state_path.read_text())
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(self.directory / state["weights"])
        for callback, saved in zip(self.stateful, state["callbacks"]):
            callback.set_state(saved)
        self.rows = state["history"]
        return int(state["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
        if not all(math.isfinite(v) for v in row.values()):
            self.diverged_at = epoch  # keep the last good checkpoint as it is
            self.model.stop_training = True
            return
        rate = keras.ops.convert_to_tensor(self.model.optimizer.learning_rate)
        row.setdefault("learning_rate", float(keras.ops.convert_to_numpy(rate)))
        self.rows.append(row)
        weights = f"weights-{epoch + 1}.weights.h5"
        run_dir.write_atomic(self.directory / weights, self.model.save_weights)
        state = {
            "epoch": epoch + 1,
            "weights": weights,
            "callbacks": [c.get_state() for c in self.stateful],
            "history": self.rows,
        }
        run_dir.write_json(self.state_path, state)
        run_dir.write_history(self.history_path, self.rows)
        for old in self.directory.glob("weights-*.weights.h5"):
            if old.name != weights:
                old.unlink()


def default_output(config: dict[str, Any]) -> Path:
    stem = Path(config.get("source", config["model"])).stem
    return Path("runs") / f"{stem}-{datetime.datetime.now():%Y%m%d-%H%M%S}"


def _prepare_output(output: Path, resume: bool, overwrite: bool) -> None:
    checkpoint = output / "checkpoint" / "state.json"
    if output.exists() and not output.is_dir():
        raise ConfigError(f"--output {output} is a file; the run directory must be a directory.")
    if resume:
        if not checkpoint.exists():
            raise ConfigError(
                f"Cannot resume: {output} holds no checkpoint of an earlier run. Start a new "
                "run without --resume, or point --output at the run to continue."
            )
        for directory in (output, checkpoint.parent):  # what a killed write left behind
            run_dir.remove_temporaries(directory)
        return
    if output.exists() and any(output.iterdir()):
        if not overwrite:
            raise ConfigError(
                f"Output directory {output} already holds files. Pass --resume to continue "
                "that run, --overwrite to replace it, or choose another --output."
            )
        shutil.rmtree(output)


def _fill_from_data(config: dict[str, Any], dataset: data.Dataset) -> None:
    """Input shape, classes (and vocabulary size) come from the data, not the config."""
    accepted = registry.builder_arguments(config["model"])
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
    output = Path(output) if output else default_output(config)
    _prepare_output(output, resume, overwrite)
    if resume:
        config = configs.load(output / "config.yaml")
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ConfigError(f"--epochs must be a positive integer. Received: {epochs!r}.")
        config["train"]["epochs"] = epochs
    if source is not None:
        config["data"]["source"] = str(source)
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
        model = registry.build(config)
    except (ValueError, TypeError) as error:  # TypeError: an `args` value of the wrong type
        raise ConfigError(
            f"{config['source']}: cannot build model {config['model']!r}: {error}"
        ) from None
    steps = max(1, -(-dataset.sizes["train"] // train_block["batch_size"]))
    recipe.compile_model(model, config, steps_per_epoch=steps)
    callbacks = recipe.make_callbacks(config)

    # Nothing is written before the config, data and model have all been accepted.
    output.mkdir(parents=True, exist_ok=True)
    run_dir.write_text(output / "config.yaml", configs.dump(config))
    stateful = [c for c in callbacks if hasattr(c, "get_state") and hasattr(c, "set_state")]
    checkpoint = RunCheckpoint(output / "checkpoint", output / "history.csv", stateful)
    initial_epoch = checkpoint.restore(model) if resume else 0
    started = time.perf_counter()
    if initial_epoch < train_block["epochs"]:
        model.fit(
            dataset.train,
            validation_data=dataset.validation,
            epochs=train_block["epochs"],
            initial_epoch=initial_epoch,
            callbacks=[*callbacks, keras.callbacks.TerminateOnNaN(), checkpoint],
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
    seconds = time.perf_counter() - started
    results = run_dir.summarize(checkpoint.rows)
    results["seconds"] = round(seconds, 1)
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


def evaluate(
    run: str | Path,
    source: str | None = None,
    data_dir: str | None = None,
    split: str = "test",
    verbose: int | str = 0,
) -> dict[str, float]:
    """Evaluates the model of a run directory on a data source; writes metrics.json there.

    Args:
        run: a directory written by `train`.
        source: the data (default: the run's own `data.source`).
        split: "test" (the split the run held out: the same seed gives the same split)
            or "all" (every example of the source, for a new data set).
    """
    run = Path(run)
    for name in ("model.keras", "config.yaml"):
        if not (run / name).exists():
            raise ConfigError(
                f"{run} is not a finished run directory: it has no {name}. Pass a directory "
                "written by `kzoo train`."
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
    dataset = data.load(
        block,
        config["train"]["batch_size"],
        config["train"]["seed"],
        source,
        data_dir,
        variable_length=variable,
        steps=None if variable or not shape else shape[0],  # as the model was trained
    )
    expected = config["args"].get("num_classes")
    if expected is not None and dataset.num_classes != expected:
        raise ConfigError(
            f"The model of {run} predicts {expected} classes but the data has "
            f"{dataset.num_classes} ({', '.join(dataset.class_names[:6])}...). Evaluate on "
            "data with the classes it was trained on."
        )
    model = keras.saving.load_model(run / "model.keras")
    split_data = dataset.train if split == "all" else dataset.test
    if split_data is None:
        raise ConfigError(f"The data source leaves no {split} examples to evaluate on.")
    metrics = model.evaluate(split_data, return_dict=True, verbose=verbose)
    metrics = {k: float(v) for k, v in metrics.items()}
    previous = (
        json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").exists() else {}
    )
    source_name = source or config["data"]["source"]
    previous.setdefault("evaluations", {})[f"{source_name}:{split}"] = metrics
    run_dir.write_json(run / "metrics.json", previous)
    return metrics


__all__ = ["TrainingDiverged", "evaluate", "train"]
