"""The search runner end to end on a tiny class-folder data set."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import yaml

import kzoo
from kzoo import configs
from kzoo.tuning import keras_tuner as kt_engine
from kzoo.tuning import search
from tests.helpers import conditional_search, vowel_folders


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return vowel_folders(tmp_path_factory.mktemp("vowels"), num_speakers=2, repetitions=3)


def tiny_search_config(path, **search_block):
    config = {
        "model": "mlp",
        "args": {"units": [8], "dropout": 0.0, "normalization": None},
        "train": {"epochs": 1, "batch_size": 8},
        "data": {
            "features": {"type": "logmel", "num_mel_bins": 8},
            "validation_split": 0.3,
            "test_split": 0.0,
        },
        "search": search_block
        or {
            "args.units": {"type": "choice", "values": [[8], [4, 4]]},
            "train.optimizer.learning_rate": {
                "type": "float",
                "min": 1e-4,
                "max": 1e-2,
                "sampling": "log",
            },
        },
    }
    path.write_text(yaml.safe_dump(config))
    return path


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_random_search_writes_results_and_resumes(tmp_path, folders, capsys):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    out = tmp_path / "tune"
    summary = search.run(
        str(config), tuner="random", max_trials=2, source=str(folders), directory=out
    )
    printed = capsys.readouterr().out
    assert "trial 1/2: val_accuracy=" in printed and "args.units=" in printed
    assert summary["trials"] == 2 and summary["completed"] == 2
    for name in ("results.csv", "trials.png", "best.yaml", "search.json"):
        assert (out / name).stat().st_size > 0, name
    rows = read_rows(out / "results.csv")
    assert [r["trial"] for r in rows] == ["1", "2"]
    assert {"status", "val_accuracy", "args.units", "train.optimizer.learning_rate"} <= set(rows[0])
    assert all(r["status"] == "completed" for r in rows)
    best = configs.load(out / "best.yaml")
    assert best["data"]["source"] == str(folders)
    assert best["args"]["num_classes"] == 3
    assert best["args"]["units"] == summary["best"]["values"]["args.units"]

    # The same call again continues: a finished search trains nothing.
    again = search.run(
        str(config), tuner="random", max_trials=2, source=str(folders), directory=out
    )
    assert "trial " not in capsys.readouterr().out
    assert again["trials"] == 2 and again["best"] == summary["best"]
    # A larger budget adds trials to the same search.
    more = search.run(str(config), tuner="random", max_trials=3, source=str(folders), directory=out)
    assert more["trials"] == 3
    assert "trial 3/3" in capsys.readouterr().out

    # Another search in the same directory needs --overwrite.
    with pytest.raises(kzoo.ConfigError, match="different search"):
        search.run(str(config), tuner="grid", max_trials=2, source=str(folders), directory=out)
    fresh = search.run(
        str(config),
        tuner="grid",
        max_trials=1,
        source=str(folders),
        directory=out,
        overwrite=True,
    )
    assert fresh["trials"] == 1


def test_failed_trials_are_recorded_and_the_search_goes_on(tmp_path, folders, capsys):
    config = tiny_search_config(
        tmp_path / "tiny.yaml",
        **{
            # a huge learning rate with no normalization diverges to NaN
            "train.optimizer.learning_rate": {"type": "choice", "values": [0.001, 1.0e30]},
        },
    )
    summary = search.run(
        str(config),
        tuner="grid",
        max_trials=2,
        source=str(folders),
        directory=tmp_path / "tune",
        objective="val_loss",
    )
    rows = read_rows(tmp_path / "tune" / "results.csv")
    assert [r["status"] for r in rows] == ["completed", "failed"]
    assert "NaN" in rows[1]["error"]
    assert summary["failed"] == 1 and summary["best"]["values"] == {
        "train.optimizer.learning_rate": 0.001
    }
    assert "trial 2/2: failed" in capsys.readouterr().out


def test_k_fold_search_averages_folds(tmp_path, folders):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    summary = search.run(
        str(config), max_trials=1, source=str(folders), directory=tmp_path / "t", folds=2
    )
    assert summary["completed"] == 1
    assert 0.0 <= summary["best"]["val_accuracy"] <= 1.0


def test_fold_indices_are_stratified_and_cover_everything():
    labels = np.array([0] * 6 + [1] * 4)
    pairs = search.fold_indices(labels, 2, seed=3)
    for train_idx, val_idx in pairs:
        assert set(train_idx).isdisjoint(val_idx)
        assert np.bincount(labels[val_idx]).tolist() == [3, 2]
    assert sorted(np.concatenate([v for _, v in pairs]).tolist()) == list(range(10))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tuner": "annealing"}, "--tuner must be one of"),
        ({"max_trials": 0}, "--max-trials"),
        ({"folds": 1}, "--folds"),
        ({"objective": "val_acuracy"}, "Did you mean 'val_accuracy'"),
        ({"distributed": "boss", "oracle": "h:1"}, "--distributed must be"),
        ({"distributed": "worker", "oracle": "nohost"}, "HOST:PORT"),
        ({"oracle": "h:1"}, "need --distributed"),
        ({"tuner": "hyperband", "folds": 2}, "does not combine"),
    ],
)
def test_bad_arguments_are_clear_errors(tmp_path, folders, kwargs, match):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    with pytest.raises(kzoo.ConfigError, match=match):
        search.run(str(config), source=str(folders), directory=tmp_path / "t", **kwargs)


def test_config_without_search_block_is_an_error(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump({"model": "mlp"}))
    with pytest.raises(kzoo.ConfigError, match="no `search` block"):
        search.run(str(path), directory=tmp_path / "t")


def test_distributed_env_roles():
    env = kt_engine.distributed_env("chief", "127.0.0.1:8123")
    assert env == {
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": "8123",
        "KERASTUNER_TUNER_ID": "chief",
    }
    assert kt_engine.distributed_env("worker", "10.0.0.1:9", "w1")["KERASTUNER_TUNER_ID"] == "w1"
    assert kt_engine.distributed_env("worker", "10.0.0.1:9")["KERASTUNER_TUNER_ID"].startswith(
        "worker-"
    )
    with pytest.raises(kzoo.ConfigError, match="must not contain `chief`"):
        kt_engine.distributed_env("worker", "10.0.0.1:9", "chief2")
    with pytest.raises(kzoo.ConfigError, match="always `chief`"):
        kt_engine.distributed_env("chief", "10.0.0.1:9", "w1")
    with kt_engine.distributed("worker", "10.0.0.1:9", "w1"):
        import os

        assert os.environ["KERASTUNER_TUNER_ID"] == "w1"
    assert "KERASTUNER_TUNER_ID" not in os.environ


def test_best_epoch_checkpoint_is_written_once_with_the_best_weights(tmp_path):
    import keras
    import keras_tuner
    from keras_tuner.src.engine import tuner_utils

    scores = [0.1, 0.9, 0.5]  # epoch 1 is the best; the saver's objective reads logs["score"]

    class Score(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = scores[epoch]
            seen.append(self.model.get_weights())

    seen = []
    path = tmp_path / "checkpoint.weights.h5"
    saver = tuner_utils.SaveBestEpoch(keras_tuner.Objective("score", "max"), str(path))
    writes = []
    original_save = saver._save_model
    saver._save_model = lambda: (writes.append(1), original_save())
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    model.fit(
        x,
        x[:, :2],
        epochs=3,
        verbose=0,
        callbacks=[Score(), kt_engine._BestEpochInMemory(saver)],
    )
    assert len(writes) == 1 and saver.best_value == 0.9
    for last, now in zip(seen[2], model.get_weights()):
        np.testing.assert_array_equal(last, now)  # the model keeps its last weights
    model.load_weights(str(path))
    for best, loaded in zip(seen[1], model.get_weights()):
        np.testing.assert_array_equal(best, loaded)


def test_a_search_writes_each_trials_checkpoint_once(tmp_path, folders, monkeypatch):
    from keras_tuner.src.engine import tuner_utils

    calls = {"epoch": 0, "write": 0}
    on_epoch_end, save = (
        tuner_utils.SaveBestEpoch.on_epoch_end,
        tuner_utils.SaveBestEpoch._save_model,
    )

    def counted_epoch(self, *args, **kwargs):
        calls["epoch"] += 1
        return on_epoch_end(self, *args, **kwargs)

    def counted_save(self):
        calls["write"] += 1
        return save(self)

    monkeypatch.setattr(tuner_utils.SaveBestEpoch, "on_epoch_end", counted_epoch)
    monkeypatch.setattr(tuner_utils.SaveBestEpoch, "_save_model", counted_save)
    config = tiny_search_config(tmp_path / "tiny.yaml")
    search.run(
        str(config),
        tuner="random",
        max_trials=2,
        epochs=3,
        source=str(folders),
        directory=tmp_path / "tune",
    )
    # Keras Tuner's saver is wrapped: its per-epoch hook never runs, one write per trial.
    assert calls == {"epoch": 0, "write": 2}


def test_hyperband_continues_trials_from_their_best_epoch_checkpoint(tmp_path, folders):
    # With 3 epochs Hyperband trains 3 models for 1 epoch, then continues the best one
    # from its checkpoint for the remaining 2: the file must be there after each fit.
    config = tiny_search_config(tmp_path / "tiny.yaml")
    out = tmp_path / "tune"
    summary = search.run(
        str(config),
        tuner="hyperband",
        max_trials=4,
        epochs=3,
        source=str(folders),
        directory=out,
    )
    assert summary["completed"] == 4, summary
    continued = [t for t in json_trials(out) if "tuner/trial_id" in t["hyperparameters"]["values"]]
    assert continued, "Hyperband continued no trial"


def json_trials(out):
    import json

    return [json.loads(p.read_text()) for p in sorted(out.glob("**/trial_*/trial.json"))]


def test_the_tuner_learns_the_space_without_building_a_model(tmp_path, monkeypatch):
    from kzoo.models import factory
    from kzoo.tuning.hypermodel import ConfigHyperModel
    from kzoo.tuning.space import Objective

    config = configs.load(
        {
            "model": "mlp",
            "args": {"input_shape": [6], "num_classes": 3, "units": [8], "dropout": 0.2},
            "search": conditional_search(),
        }
    )
    builds = []
    monkeypatch.setattr(factory, "build", lambda *a, **k: builds.append(1))
    model = ConfigHyperModel(config)
    objective = kt_engine.make_objective(Objective("val_accuracy", "max"))
    tuner = kt_engine.make_tuner(
        "random", model, objective, max_trials=1, directory=tmp_path, seed=0, epochs=1
    )
    assert builds == []
    space = {hp.name: hp for hp in tuner.oracle.get_space().space}
    assert set(space) == {"args.normalization", "args.dropout"}
    assert space["args.dropout"].conditions  # registered with its condition, inactive
