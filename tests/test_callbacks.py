"""kzoo.callbacks: NewBob's rule (hand-computed and SpeechBrain), resuming, the rate logger."""

import csv
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from kzoo import callbacks
from kzoo.callbacks import LearningRateLogger, NewBob
from kzoo.schedules import ExpDecay

GOLDEN = np.load(Path(__file__).with_name("golden") / "speechbrain_schedulers.npz")

# A validation-loss script and NewBob(annealing_factor=0.5, improvement_threshold=0.01,
# patient=1) worked out by hand. Relative improvement r = (prev - cur) / prev:
#   e0 1.0    first epoch, only recorded                     lr 1.0  patience 1
#   e1 0.9    r = 0.1     good                               lr 1.0  patience 1
#   e2 0.895  r = 0.0056  < 0.01, patience 1 -> 0            lr 1.0  patience 0
#   e3 0.85   r = 0.050   good; patience is NOT refilled     lr 1.0  patience 0
#   e4 0.849  r = 0.0012  < 0.01, no patience: anneal        lr 0.5  patience 1
#   e5 0.9    worse, patience 1 -> 0                         lr 0.5  patience 0
#   e6 0.95   worse, no patience: anneal                     lr 0.25 patience 1
#   e7 0.5    good                                           lr 0.25 patience 1
SCRIPT = [1.0, 0.9, 0.895, 0.85, 0.849, 0.9, 0.95, 0.5]
RATE_AFTER = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]  # set at the end of each epoch
PATIENCE_AFTER = [1, 1, 0, 0, 1, 0, 1, 1]
RATE_DURING = [1.0] + RATE_AFTER[:-1]  # what each epoch trained with
HAND = {"annealing_factor": 0.5, "improvement_threshold": 0.01, "patient": 1}


class ScriptedLoss(keras.callbacks.Callback):
    """Puts SCRIPT[epoch] into the logs as `val_loss`, so the trajectory is known exactly."""

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = SCRIPT[epoch]


def tiny_model(learning_rate=1.0, optimizer=None):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=optimizer or keras.optimizers.SGD(learning_rate), loss="mse")
    return model


def tiny_data(n=8):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype("float32")
    return x, (x[:, :2] * 0.5).astype("float32")


def fit(model, cbs, epochs, initial_epoch=0, **kwargs):
    x, y = tiny_data()
    return model.fit(
        x,
        y,
        batch_size=4,
        epochs=epochs,
        initial_epoch=initial_epoch,
        shuffle=False,
        verbose=0,
        callbacks=cbs,
        **kwargs,
    )


# ---------------------------------------------------------------------------
# The rule.


def test_update_follows_the_hand_computed_trajectory():
    newbob = NewBob(**HAND)
    newbob.learning_rate = 1.0
    rates, patience = [], []
    for loss in SCRIPT:
        rates.append(newbob.update(loss)[1])
        patience.append(newbob.current_patient)
    assert rates == pytest.approx(RATE_AFTER)
    assert patience == PATIENCE_AFTER


@pytest.mark.parametrize("case", range(3))
def test_update_matches_speechbrain_newbob_scheduler(case):
    factor, threshold, patient = GOLDEN["newbob_cases"][case]
    newbob = NewBob(
        annealing_factor=float(factor), improvement_threshold=float(threshold), patient=int(patient)
    )
    newbob.learning_rate = float(GOLDEN["newbob_initial"])
    got = [newbob.update(float(m))[1] for m in GOLDEN["newbob_metrics"]]
    np.testing.assert_allclose(got, GOLDEN[f"newbob_{case}"], rtol=1e-12)


def test_mode_max_uses_the_relative_gain():
    newbob = NewBob(monitor="val_accuracy", mode="max")
    newbob.learning_rate = 1.0
    # 0.5 -> 0.6 is +20%; 0.6 -> 0.6005 is +0.083% < 0.25%: anneal
    assert [newbob.update(a)[1] for a in (0.5, 0.6, 0.6005)] == [1.0, 1.0, 0.5]


# ---------------------------------------------------------------------------
# Inside fit.


def test_fit_sets_the_optimizer_rate_each_epoch():
    newbob = NewBob(**HAND)
    model = tiny_model(1.0)
    history = fit(model, [ScriptedLoss(), newbob, LearningRateLogger()], epochs=len(SCRIPT))
    assert history.history["learning_rate"] == pytest.approx(RATE_DURING)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.25)
    assert newbob.metric_values == pytest.approx(SCRIPT)


def test_interrupted_fit_continues_the_same_trajectory():
    whole = fit(tiny_model(1.0), [ScriptedLoss(), NewBob(**HAND), LearningRateLogger()], 8)

    first = NewBob(**HAND)
    part1 = fit(tiny_model(1.0), [ScriptedLoss(), first, LearningRateLogger()], epochs=3)
    state = json.loads(json.dumps(first.get_state()))  # as the checkpoint stores it
    assert state == {"metric_values": SCRIPT[:3], "current_patient": 0, "learning_rate": 1.0}

    # A fresh process: new model whose optimizer starts again from its configured rate.
    second = NewBob(**HAND)
    second.set_state(state)
    model = tiny_model(0.123)
    part2 = fit(model, [ScriptedLoss(), second, LearningRateLogger()], epochs=8, initial_epoch=3)

    resumed = part1.history["learning_rate"] + part2.history["learning_rate"]
    assert resumed == pytest.approx(whole.history["learning_rate"])
    assert second.metric_values == pytest.approx(SCRIPT)
    assert second.current_patient == PATIENCE_AFTER[-1]
    assert float(model.optimizer.learning_rate) == pytest.approx(RATE_AFTER[-1])


def test_real_validation_loss_replays_through_the_rule():
    x, y = tiny_data()
    newbob = NewBob(improvement_threshold=0.05, annealing_factor=0.3)
    history = fit(
        tiny_model(0.2),
        [newbob, LearningRateLogger()],
        epochs=6,
        validation_data=(x, y),
    )
    replay = NewBob(improvement_threshold=0.05, annealing_factor=0.3)
    replay.learning_rate = 0.2
    expected = [0.2] + [replay.update(v)[1] for v in history.history["val_loss"]][:-1]
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-6)


def test_missing_monitor_names_the_available_keys():
    with pytest.raises(ValueError, match=r"'val_loss'.*Available keys: \['loss'\]"):
        fit(tiny_model(), [NewBob()], epochs=1)


def test_schedule_optimizer_is_refused():
    optimizer = keras.optimizers.SGD(ExpDecay(0.1, 0.1, steps_per_epoch=2))
    with pytest.raises(ValueError, match="needs a float `learning_rate`, not a schedule"):
        fit(tiny_model(optimizer=optimizer), [ScriptedLoss(), NewBob()], epochs=1)


# ---------------------------------------------------------------------------
# State and config.


def test_state_round_trip():
    newbob = NewBob(**HAND)
    newbob.learning_rate = 1.0
    for loss in SCRIPT[:5]:
        newbob.update(loss)
    state = newbob.get_state()
    assert json.loads(json.dumps(state)) == state
    clone = NewBob(**HAND)
    clone.set_state(state)
    assert clone.get_state() == state
    assert [clone.update(v)[1] for v in SCRIPT[5:]] == pytest.approx(RATE_AFTER[5:])


@pytest.mark.parametrize(
    "state, match",
    [
        ({"metric_values": []}, "keys"),
        ([1, 2], "keys"),
        ({"metric_values": [], "current_patient": 5, "learning_rate": 1.0}, "current_patient=5"),
        ({"metric_values": [], "current_patient": 0, "learning_rate": -1.0}, "learning_rate=-1.0"),
    ],
)
def test_bad_state(state, match):
    with pytest.raises(ValueError, match=match):
        NewBob(**HAND).set_state(state)


def test_update_without_a_rate():
    with pytest.raises(ValueError, match="does not know the learning rate"):
        NewBob().update(1.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"annealing_factor": 0.0}, "annealing_factor.*Received: annealing_factor=0.0"),
        ({"annealing_factor": 1.5}, "annealing_factor"),
        ({"improvement_threshold": float("nan")}, "improvement_threshold"),
        ({"patient": -1}, "patient.*non-negative"),
        ({"patient": 1.5}, "patient"),
        ({"mode": "minimum"}, "mode.*Did you mean 'min'"),
        ({"monitor": ""}, "monitor"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NewBob(**kwargs)


@pytest.mark.parametrize(
    "callback",
    [
        NewBob(
            monitor="val_error",
            annealing_factor=0.3,
            improvement_threshold=0.01,
            patient=2,
            mode="max",
        ),
        LearningRateLogger(key="lr"),
    ],
)
def test_config_round_trip(callback):
    config = callback.get_config()
    assert type(callback).from_config(config).get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(callback))
    assert type(restored) is type(callback) and restored.get_config() == config


# ---------------------------------------------------------------------------
# The learning-rate logger.


def test_logger_with_a_schedule_writes_history_csv(tmp_path):
    schedule = ExpDecay(0.1, decay=0.5, steps_per_epoch=2)  # 8 samples, batch 4
    path = tmp_path / "history.csv"
    cbs = [LearningRateLogger(), keras.callbacks.CSVLogger(str(path))]
    history = fit(tiny_model(optimizer=keras.optimizers.SGD(schedule)), cbs, epochs=3)
    expected = 0.1 * np.exp(-0.5 * np.arange(3))
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-6)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    np.testing.assert_allclose([float(r["learning_rate"]) for r in rows], expected, rtol=1e-6)


def test_logger_bad_key():
    with pytest.raises(ValueError, match="key"):
        LearningRateLogger(key="")


# ---------------------------------------------------------------------------
# By name.


def test_from_config_builds_every_name():
    block = {
        "newbob": {"patient": 2},
        "early_stopping": {
            "monitor": "val_loss",
            "patience": 3,
            "min_delta": 0.01,
            "restore_best_weights": True,
            "start_from_epoch": 2,
        },
        "reduce_lr_on_plateau": {"factor": 0.5, "patience": 1},
        "lr_logger": None,
        "learning_rate_logger": {"key": "lr"},
        "terminate_on_nan": {},
        "tensorboard": {"histogram_freq": 1},
        "model_checkpoint": {"monitor": "val_accuracy", "mode": "max"},
        "csv_logger": {},
    }
    built = callbacks.from_config(block, "run")
    assert [type(c).__name__ for c in built] == [
        "NewBob",
        "EarlyStopping",
        "ReduceLROnPlateau",
        "LearningRateLogger",
        "LearningRateLogger",
        "TerminateOnNaN",
        "TensorBoard",
        "BestModelCheckpoint",
        "CSVLogger",
    ]
    stop = built[1]
    assert (stop.patience, stop.min_delta, stop.restore_best_weights, stop.start_from_epoch) == (
        3,
        0.01,
        True,
        2,
    )
    assert set(block) == set(callbacks.CALLBACKS)


def test_from_config_list_and_empty():
    built = callbacks.from_config(["lr_logger", {"name": "newbob", "patient": 1}])
    assert [type(c).__name__ for c in built] == ["LearningRateLogger", "NewBob"]
    assert callbacks.from_config(None) == [] and callbacks.from_config({}) == []


def test_from_config_callbacks_run_in_fit():
    block = {
        "lr_logger": {},
        "early_stopping": {"monitor": "loss", "patience": 1},
        "terminate_on_nan": {},
    }
    history = fit(tiny_model(0.1), callbacks.from_config(block), epochs=2)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1])


@pytest.mark.parametrize(
    "block, match",
    [
        ({"new_bob": {}}, "Unknown callback 'new_bob'.*'newbob'"),
        ({"early_stoping": {}}, "Did you mean 'early_stopping'"),
        ({"newbob": 3}, "arguments of callback 'newbob' must be a mapping"),
        ("newbob", "must map callback names"),
        ({"newbob": {"patience": 2}}, "Bad arguments for callback 'newbob'"),
    ],
)
def test_from_config_bad_input(block, match):
    with pytest.raises(ValueError, match=match):
        callbacks.from_config(block)


def test_file_callbacks_write_into_the_run_directory(tmp_path):
    block = {
        "tensorboard": {},
        "model_checkpoint": {"monitor": "loss", "filepath": "keep/best.keras"},
        "csv_logger": {"filename": str(tmp_path / "elsewhere.csv")},
    }
    tensorboard, checkpoint, logger = callbacks.from_config(block, tmp_path / "run")
    assert tensorboard.log_dir == str(tmp_path / "run" / "tensorboard")
    assert checkpoint.filepath == str(tmp_path / "run" / "keep" / "best.keras")
    assert logger.filename == str(tmp_path / "elsewhere.csv") and logger.append
    with pytest.raises(ValueError, match=r"'model_checkpoint' writes files: give it `filepath`"):
        callbacks.from_config(["model_checkpoint"])
    with pytest.raises(ValueError, match=r"Unknown callback 'tensor_board'.*'tensorboard'"):
        callbacks.from_config({"tensor_board": {}}, tmp_path)
    with pytest.raises(ValueError, match=r"Did you mean 'model_checkpoint'"):
        callbacks.from_config({"model_checkpont": {}}, tmp_path)


def test_best_model_checkpoint_keeps_its_best_across_a_resume(tmp_path):
    path = tmp_path / "best.keras"
    first = callbacks.BestModelCheckpoint(str(path), monitor="loss")
    fit(tiny_model(0.1), [first], epochs=2)
    state = first.get_state()
    assert path.exists() and state["best"] is not None
    saved_at = path.stat().st_mtime_ns
    resumed = callbacks.BestModelCheckpoint(str(path), monitor="loss")
    resumed.set_state({"best": -1.0})  # nothing can beat a loss of -1: the file stays
    fit(tiny_model(0.1), [resumed], epochs=1)
    assert path.stat().st_mtime_ns == saved_at
    assert callbacks.BestModelCheckpoint.from_config(first.get_config()).monitor == "loss"
    with pytest.raises(ValueError, match=r"`mode`.*Received: mode='best'"):
        callbacks.BestModelCheckpoint(str(path), mode="best")
