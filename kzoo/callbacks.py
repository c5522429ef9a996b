"""Callbacks: metric-driven learning-rate annealing (newbob), rate logging, and callbacks by name.

Schedules that depend only on the step live in `kzoo.schedules`; the ones here react to
validation results at the end of each epoch. A callback that keeps state across epochs
(`NewBob`) has `get_state()` / `set_state(state)`, so the training runner saves that
state with its checkpoint and a resumed run continues the same trajectory.

```yaml
callbacks:
  newbob: {annealing_factor: 0.5, improvement_threshold: 0.0025, patient: 0}
  early_stopping: {patience: 5, restore_best_weights: true}
  lr_logger: {}
  model_checkpoint: {monitor: val_accuracy, mode: max}   # RUN_DIR/best.keras
  csv_logger: {}                                         # RUN_DIR/log.csv
  tensorboard: {histogram_freq: 1}                       # RUN_DIR/tensorboard
```
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from kzoo import specs
from kzoo.errors import check_choice, is_number


def _inner_optimizer(optimizer):
    # A LossScaleOptimizer (mixed precision) holds the real optimizer.
    return getattr(optimizer, "inner_optimizer", optimizer)


def _current_learning_rate(optimizer) -> float:
    """The optimizer's rate for its next update, a schedule evaluated at `iterations`."""
    # Through a tensor: a distributed (MirroredVariable) rate has no float(); and numpy 2
    # warns when handed a TensorFlow variable directly.
    rate = keras.ops.convert_to_tensor(_inner_optimizer(optimizer).learning_rate)
    return float(keras.ops.convert_to_numpy(rate))


@keras.saving.register_keras_serializable(package="kzoo")
class NewBob(keras.callbacks.Callback):
    """NewBob annealing: cut the learning rate when the monitored metric stops improving.

    At the end of every epoch, with `prev` the metric of the previous epoch and `cur` this
    epoch's, the relative improvement is `(prev - cur) / prev` (`(cur - prev) / prev` for
    `mode="max"`; 0 when `prev == 0`). When it is below `improvement_threshold`:

    1. if no patience is left, `lr = lr * annealing_factor` and patience refills to
       `patient`;
    2. otherwise one unit of patience is used up.

    A good epoch neither anneals nor refills the patience, and the first epoch only records
    its metric. This is exactly SpeechBrain's `NewBobScheduler`. The new rate is written to
    `optimizer.learning_rate` for the next epoch, so the optimizer needs a float learning
    rate, not a schedule.

    The state (metric history, patience left, current rate) comes out of `get_state()` as
    plain JSON data and goes back with `set_state(state)`; the training runner keeps it
    in its checkpoint so a resumed run anneals as if it had never stopped.

    Reference:
        Ravanelli et al., "SpeechBrain: A General-Purpose Speech Toolkit",
        arXiv:2106.04624, 2021 (`speechbrain.nnet.schedulers.NewBobScheduler`); the
        "newbob" rule of ICSI's QuickNet trainer (Morgan and Bourlard, 1990s hybrid
        HMM/ANN recognizers).

    Args:
        monitor: str, the `logs` key to watch, e.g. `"val_loss"` or `"val_error_rate"`.
        annealing_factor: float in (0, 1], multiplier applied to the rate when annealing.
        improvement_threshold: float, the smallest relative improvement that counts as
            progress (0.0025 is 0.25%).
        patient: int >= 0, how many poor epochs are tolerated before each annealing.
        mode: `"min"` when lower is better (losses, error rates), `"max"` otherwise.

    Example:

    >>> import kzoo
    >>> newbob = kzoo.callbacks.NewBob(annealing_factor=0.5)
    >>> newbob.set_state({"metric_values": [], "current_patient": 0, "learning_rate": 1.0})
    >>> [newbob.update(loss)[1] for loss in (10.0, 2.0, 2.5, 2.4)]
    [1.0, 1.0, 0.5, 0.5]
    """

    def __init__(
        self,
        monitor="val_loss",
        annealing_factor=0.5,
        improvement_threshold=0.0025,
        patient=0,
        mode="min",
    ):
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(
                f"Argument `monitor` of NewBob must be a metric name from the training logs, "
                f"such as 'val_loss'. Received: monitor={monitor!r}."
            )
        if not is_number(annealing_factor) or not 0 < annealing_factor <= 1:
            raise ValueError(
                "Argument `annealing_factor` of NewBob must be in (0, 1]: the rate is "
                f"multiplied by it when the metric stalls. Received: "
                f"annealing_factor={annealing_factor!r}. Use e.g. 0.5."
            )
        if not is_number(improvement_threshold):
            raise ValueError(
                "Argument `improvement_threshold` of NewBob must be a finite number, the "
                "smallest relative improvement that counts as progress. Received: "
                f"improvement_threshold={improvement_threshold!r}. Use e.g. 0.0025."
            )
        if isinstance(patient, bool) or not isinstance(patient, int) or patient < 0:
            raise ValueError(
                "Argument `patient` of NewBob must be a non-negative integer, the number of "
                f"poor epochs tolerated before annealing. Received: patient={patient!r}."
            )
        self.monitor = monitor
        self.annealing_factor = annealing_factor
        self.improvement_threshold = improvement_threshold
        self.patient = patient
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.metric_values: list[float] = []
        self.current_patient = patient
        self.learning_rate: float | None = None  # read from the optimizer at train begin

    # -- the rule ---------------------------------------------------------------

    def update(self, metric_value: float) -> tuple[float, float]:
        """Records one epoch's metric; returns the rate before and after (SpeechBrain's rule)."""
        if self.learning_rate is None:
            raise ValueError(
                "NewBob does not know the learning rate yet: call it inside `fit`, or give "
                "it one with set_state({..., 'learning_rate': 0.001})."
            )
        old = new = self.learning_rate
        if self.metric_values:
            prev = self.metric_values[-1]
            if prev == 0:  # SpeechBrain's guard against dividing by zero
                improvement = 0.0
            elif self.mode == "min":
                improvement = (prev - metric_value) / prev
            else:
                improvement = (metric_value - prev) / prev
            if improvement < self.improvement_threshold:
                if self.current_patient == 0:
                    # 1) out of patience: anneal, and refill the patience
                    new = old * self.annealing_factor
                    self.current_patient = self.patient
                else:
                    # 2) tolerate this poor epoch
                    self.current_patient -= 1
        self.metric_values.append(float(metric_value))
        self.learning_rate = new
        return old, new

    # -- Keras hooks --------------------------------------------------------------

    def on_train_begin(self, logs=None):
        optimizer = _inner_optimizer(self.model.optimizer)
        rate = getattr(optimizer, "_learning_rate", None)
        if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule) or (
            callable(rate) and not isinstance(rate, keras.Variable)
        ):
            raise ValueError(
                "The newbob callback sets the optimizer's learning rate after every epoch, so "
                "the optimizer needs a float `learning_rate`, not a schedule. Received: "
                f"learning_rate={rate!r}. Remove the `schedule` block from the config (give "
                "the optimizer a `learning_rate`), or drop the newbob callback."
            )
        if self.learning_rate is None:
            self.learning_rate = _current_learning_rate(optimizer)
        else:  # resumed: the restored state decides the rate
            optimizer.learning_rate = self.learning_rate

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        if self.monitor not in logs:
            raise ValueError(
                f"The newbob callback monitors {self.monitor!r}, which is not in the epoch's "
                f"logs. Available keys: {sorted(logs)}. Set `monitor` to one of them; "
                "'val_*' keys need `validation_data`."
            )
        _, new = self.update(float(logs[self.monitor]))
        _inner_optimizer(self.model.optimizer).learning_rate = new

    # -- checkpointed state ------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """The metric history, patience left and current rate, as JSON-serializable data."""
        return {
            "metric_values": [float(v) for v in self.metric_values],
            "current_patient": int(self.current_patient),
            "learning_rate": None if self.learning_rate is None else float(self.learning_rate),
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores what `get_state()` returned, e.g. from a training checkpoint."""
        expected = {"metric_values", "current_patient", "learning_rate"}
        if not isinstance(state, Mapping) or set(state) != expected:
            got = sorted(state) if isinstance(state, Mapping) else state
            raise ValueError(
                f"NewBob.set_state expects the mapping that get_state() returns, with keys "
                f"{sorted(expected)}. Received: {got!r}."
            )
        patience = state["current_patient"]
        if (
            isinstance(patience, bool)
            or not isinstance(patience, int)
            or not 0 <= patience <= self.patient
        ):
            raise ValueError(
                f"NewBob state has current_patient={patience!r}; expected an integer from 0 to "
                f"patient={self.patient}. Was the state saved by a callback with other arguments?"
            )
        rate = state["learning_rate"]
        if rate is not None and (not is_number(rate) or rate <= 0):
            raise ValueError(
                f"NewBob state has learning_rate={rate!r}; expected a positive number or None."
            )
        self.metric_values = [float(v) for v in state["metric_values"]]
        self.current_patient = patience
        self.learning_rate = None if rate is None else float(rate)

    def get_config(self):
        return {
            "monitor": self.monitor,
            "annealing_factor": self.annealing_factor,
            "improvement_threshold": self.improvement_threshold,
            "patient": self.patient,
            "mode": self.mode,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="kzoo")
class LearningRateLogger(keras.callbacks.Callback):
    """Adds the learning rate of each epoch to the epoch's logs (and so to `history.csv`).

    The rate is read when the epoch begins, from `optimizer.learning_rate`: a float rate
    as set (by newbob, ReduceLROnPlateau or by hand), a schedule evaluated at
    `optimizer.iterations`, i.e. the rate of the epoch's first update. It is written under
    `key` when the epoch ends, so `History`, `CSVLogger` and TensorBoard see it.

    Args:
        key: str, the logs key, `"learning_rate"` by default.

    Example:

    >>> import keras, numpy as np, kzoo
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    >>> history = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0,
    ...                     callbacks=[kzoo.callbacks.LearningRateLogger()])
    >>> [round(v, 4) for v in history.history["learning_rate"]]
    [0.05, 0.05]
    """

    def __init__(self, key="learning_rate"):
        super().__init__()
        if not isinstance(key, str) or not key:
            raise ValueError(
                f"Argument `key` of LearningRateLogger must be a non-empty string. "
                f"Received: key={key!r}."
            )
        self.key = key
        self._rate: float | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self._rate = _current_learning_rate(self.model.optimizer)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        rate = (
            self._rate if self._rate is not None else _current_learning_rate(self.model.optimizer)
        )
        logs[self.key] = rate
        self._rate = None

    def get_config(self):
        return {"key": self.key}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="kzoo")
class BestModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """Saves the model of the best epoch so far by a monitored metric (Keras's ModelCheckpoint).

    The same as `keras.callbacks.ModelCheckpoint(filepath, save_best_only=True)`, plus
    `get_state()` / `set_state(state)` holding the best value seen, so a resumed run
    replaces the saved model only with a better one.

    Args:
        filepath: str, where the model goes (`.keras`), or its weights
            (`.weights.h5` with `save_weights_only=True`).
        monitor: str, the logs key to watch, `"val_loss"` by default.
        mode: `"auto"`, `"min"` or `"max"`: whether lower or higher is better (`"auto"`
            infers it from the name).
        save_weights_only: bool, save the weights only.
        verbose: 0 or 1, print a line when the model is saved.

    Example:

    >>> import keras, numpy as np, kzoo, tempfile, os
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> path = os.path.join(tempfile.mkdtemp(), "best.keras")
    >>> best = kzoo.callbacks.BestModelCheckpoint(path, monitor="loss")
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0, callbacks=[best])
    >>> os.path.exists(path), best.get_state()["best"] < 10
    (True, True)
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        mode="auto",
        save_weights_only=False,
        verbose=0,
    ):
        check_choice("mode", mode, ("auto", "min", "max"))
        super().__init__(
            filepath,
            monitor=monitor,
            verbose=verbose,
            save_best_only=True,
            save_weights_only=save_weights_only,
            mode=mode,
        )

    def get_state(self) -> dict[str, Any]:
        best = float(self.best)
        return {"best": best if math.isfinite(best) else None}

    def set_state(self, state: Mapping[str, Any]) -> None:
        if state.get("best") is not None:
            self.best = float(state["best"])

    def get_config(self):
        return {
            "filepath": self.filepath,
            "monitor": self.monitor,
            "mode": self.mode,
            "save_weights_only": self.save_weights_only,
            "verbose": self.verbose,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


# config name -> callback class (Keras's own where they exist).
CALLBACKS: dict[str, Any] = {
    "newbob": NewBob,
    "early_stopping": keras.callbacks.EarlyStopping,
    "reduce_lr_on_plateau": keras.callbacks.ReduceLROnPlateau,
    "lr_logger": LearningRateLogger,
    "learning_rate_logger": LearningRateLogger,
    "terminate_on_nan": keras.callbacks.TerminateOnNaN,
    "tensorboard": keras.callbacks.TensorBoard,
    "model_checkpoint": BestModelCheckpoint,
    "csv_logger": keras.callbacks.CSVLogger,
}

# Callbacks that write files: the argument naming the file, and its default inside a run
# directory. A relative path given in a config is taken relative to the run directory too.
RUN_FILES: dict[str, tuple[str, str]] = {
    "tensorboard": ("log_dir", "tensorboard"),
    "model_checkpoint": ("filepath", "best.keras"),
    "csv_logger": ("filename", "log.csv"),
}


def _with_run_file(item: dict[str, Any], directory) -> dict[str, Any]:
    name = str(item.get("name", "")).lower()
    if name not in RUN_FILES:
        return item
    argument, default = RUN_FILES[name]
    if directory is None:
        if argument not in item:
            raise ValueError(
                f"Callback {name!r} writes files: give it `{argument}` (a path), or let "
                "`kzoo train` put it in the run directory."
            )
        return item
    path = Path(str(item.get(argument, default))).expanduser()
    item = {**item, argument: str(path if path.is_absolute() else Path(directory) / path)}
    if name == "csv_logger":
        item.setdefault("append", True)  # a resumed run continues the same file
    return item


def from_config(
    block: Mapping[str, Any] | list | None, directory: str | os.PathLike | None = None
) -> list[keras.callbacks.Callback]:
    """`{early_stopping: {patience: 3}, newbob: {}}` -> the callbacks, in order.

    A list of specs (`["lr_logger", {name: newbob, patient: 1}]`) works too. With a run
    `directory`, the callbacks that write files (`tensorboard`, `model_checkpoint`,
    `csv_logger`) write there by default (`tensorboard/`, `best.keras`, `log.csv`).

    >>> import kzoo
    >>> callbacks = kzoo.callbacks.from_config({"newbob": {"patient": 1}, "lr_logger": None})
    >>> [type(c).__name__ for c in callbacks], callbacks[0].patient
    (['NewBob', 'LearningRateLogger'], 1)
    >>> [c.filepath for c in kzoo.callbacks.from_config(["model_checkpoint"], "run")]
    ['run/best.keras']
    """
    if block is None:
        return []
    if isinstance(block, Mapping):
        items = []
        for name, kwargs in block.items():
            if kwargs is not None and not isinstance(kwargs, Mapping):
                raise ValueError(
                    f"The arguments of callback {name!r} must be a mapping such as "
                    f"{{patience: 3}}, or empty. Received: {name}={kwargs!r}."
                )
            items.append({"name": name, **(kwargs or {})})
    elif isinstance(block, (list, tuple)):
        items = list(block)
    else:
        raise ValueError(
            "The `callbacks` block must map callback names to their arguments, e.g. "
            f"{{early_stopping: {{patience: 3}}, newbob: {{}}}}. Received: {block!r}."
        )
    built = []
    for item in items:
        name, kwargs = specs.split(item, "callback")
        spec = _with_run_file({"name": name, **kwargs}, directory)
        built.append(specs.build(spec, CALLBACKS, "callback"))
    return built
