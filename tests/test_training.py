import json
import os
import shutil

import keras
import numpy as np
import pytest

import kzoo
from kzoo import cli, configs, run_dir, training
from tests.helpers import tiny_config, vowel_folders


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return vowel_folders(tmp_path_factory.mktemp("vowel_folders"))


def test_train_writes_a_complete_run_directory(tmp_path, folder):
    config = configs.load(tiny_config(tmp_path / "c.yaml"))
    results = training.train(config, source=str(folder), output=tmp_path / "run", verbose=0)
    run = tmp_path / "run"
    for name in ("model.keras", "config.yaml", "history.csv", "metrics.json", "curves.png"):
        assert (run / name).stat().st_size > 0, name
    # no temporary files left behind, only the marker (the lock goes with its process)
    assert [p.name for p in run.glob(".*")] == [run_dir.MARKER]
    umask = os.umask(0)
    os.umask(umask)
    assert (run / "model.keras").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) >= {"final", "best", "test", "epochs"}
    assert 0 <= metrics["test"]["accuracy"] <= 1
    resolved = configs.load(run / "config.yaml")
    assert resolved["args"]["num_classes"] == 3  # taken from the data
    assert resolved["data"]["source"] == str(folder)
    model = keras.saving.load_model(run / "model.keras")
    assert model.output.shape[-1] == 3
    assert results["run_dir"] == str(run)
    history = (run / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,") and "learning_rate" in history[0] and len(history) == 2


def test_resume_continues_from_the_last_epoch(tmp_path, folder):
    path = tiny_config(tmp_path / "c.yaml")
    run = tmp_path / "run"
    training.train(configs.load(path), source=str(folder), output=run, verbose=0)
    weights_after_one = keras.saving.load_model(run / "model.keras").get_weights()
    results = training.train(
        configs.load(path), source=str(folder), output=run, resume=True, epochs=3, verbose=0
    )
    assert results["epochs"] == 3
    rows = (run / "history.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["0", "1", "2"]
    # The resumed run started from the saved weights, not from scratch.
    resumed = keras.saving.load_model(run / "model.keras").get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(weights_after_one, resumed))


def test_existing_output_is_never_overwritten(tmp_path, folder):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("mine")
    config = configs.load(tiny_config(tmp_path / "c.yaml"))
    with pytest.raises(kzoo.ConfigError, match="already holds files.*--resume.*--overwrite"):
        training.train(config, source=str(folder), output=tmp_path / "run", verbose=0)
    with pytest.raises(kzoo.ConfigError, match="replaces only a run directory"):
        training.train(config, source=str(folder), output=tmp_path / "run", overwrite=True)
    assert (tmp_path / "run" / "keep.txt").read_text() == "mine"


def test_resume_without_checkpoint(tmp_path, folder):
    with pytest.raises(kzoo.ConfigError, match="no checkpoint"):
        training.train(
            configs.load(tiny_config(tmp_path / "c.yaml")), output=tmp_path / "none", resume=True
        )


def test_bad_input_leaves_no_run_directory(tmp_path):
    config = configs.load(tiny_config(tmp_path / "c.yaml"))
    with pytest.raises(kzoo.ConfigError, match="does not exist"):
        training.train(config, source=str(tmp_path / "missing"), output=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()


def test_evaluate_writes_metrics(tmp_path, folder):
    run = tmp_path / "run"
    training.train(
        configs.load(tiny_config(tmp_path / "c.yaml")), source=str(folder), output=run, verbose=0
    )
    metrics = training.evaluate(run, source=str(folder), split="all")
    assert 0 <= metrics["accuracy"] <= 1
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["evaluations"][f"{folder}:all"]["accuracy"] == pytest.approx(metrics["accuracy"])
    with pytest.raises(kzoo.ConfigError, match=r"has no best.keras.*model_checkpoint"):
        training.evaluate(run, source=str(folder), checkpoint="best")


def test_evaluate_matches_the_data_classes_to_the_runs_labels_by_name(tmp_path, folder, capsys):
    """Output i is the run's i-th class whatever classes the evaluation data holds."""
    run = tmp_path / "run"
    training.train(
        configs.load(tiny_config(tmp_path / "c.yaml")), source=str(folder), output=run, verbose=0
    )
    # Only v1 and v2: in folder order they would be labels 0 and 1, the run's v0 and v1.
    subset = tmp_path / "subset"
    for name in ("v1", "v2"):
        shutil.copytree(folder / name, subset / name)
    metrics = training.evaluate(run, source=str(subset), split="all")
    clf = kzoo.load(run)
    files = sorted(subset.rglob("*.wav"))
    probabilities = clf.probabilities(files)
    by_name = np.array([clf.labels.index(p.parent.name) for p in files])
    by_order = np.array([["v1", "v2"].index(p.parent.name) for p in files])
    rows = np.arange(len(files))
    assert metrics["loss"] == pytest.approx(-np.log(probabilities[rows, by_name]).mean(), abs=1e-4)
    assert metrics["loss"] != pytest.approx(-np.log(probabilities[rows, by_order]).mean(), abs=1e-2)
    predicted = probabilities.argmax(axis=1)
    assert metrics["accuracy"] == pytest.approx(np.mean(predicted == by_name))

    # A class the run never saw: one line, exit 2, metrics.json untouched.
    shutil.copytree(folder / "v0", subset / "v9")
    before = (run / "metrics.json").read_bytes()
    code = cli.main(["evaluate", str(run), "--data", str(subset), "--split", "all"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("kzoo: error: The data has class(es) ['v9']")
    assert "its classes, in label order, are ['v0', 'v1', 'v2']" in err
    assert (run / "metrics.json").read_bytes() == before


def test_evaluate_reads_new_texts_with_the_runs_own_vocabulary(tmp_path):
    """Token ids mean the words of the training vocabulary, whatever texts are evaluated."""
    rng = np.random.default_rng(0)

    def texts(root, words):
        for label, vocabulary in words.items():
            (root / label).mkdir(parents=True)
            for i in range(10):
                text = " ".join(rng.choice(vocabulary.split(), size=6))
                (root / label / f"{i}.txt").write_text(text)
        return root

    train = texts(tmp_path / "train", {"neg": "bad awful poor dull", "pos": "good great fine"})
    # Other word frequencies: a vocabulary adapted to these texts would number them anew.
    new = texts(tmp_path / "new", {"neg": "dull dull poor unseen", "pos": "fine fine other"})
    config = configs.load(tiny_config(tmp_path / "text.yaml", model="text_classifier"))
    training.train(config, source=str(train), output=tmp_path / "run", verbose=0)
    metrics = training.evaluate(tmp_path / "run", source=str(new), split="all")
    clf = kzoo.load(tmp_path / "run")
    files = sorted(new.rglob("*.txt"))
    probabilities = clf.probabilities(files)
    truth = [clf.labels.index(p.parent.name) for p in files]
    loss = -np.log(probabilities[np.arange(len(files)), truth]).mean()
    assert metrics["loss"] == pytest.approx(loss, abs=1e-4)


def test_evaluate_rejects_a_non_run(tmp_path):
    with pytest.raises(kzoo.ConfigError, match="not a finished run directory"):
        training.evaluate(tmp_path)


def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path, folder):
    path = tiny_config(tmp_path / "c.yaml", epochs=2)
    config = configs.load(path, ["train.optimizer.learning_rate=1e30"])
    with pytest.raises(training.TrainingDiverged, match="diverged"):
        training.train(config, source=str(folder), output=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_autoencoder_trains_on_its_inputs(tmp_path, folder):
    config = configs.load(
        "autoencoder",
        [
            "train.epochs=1",
            "train.batch_size=8",
            "data.features={type: logmel, num_mel_bins: 16}",
            "args.units=[16]",
            "args.latent_dim=4",
        ],
    )
    results = training.train(config, source=str(folder), output=tmp_path / "run", verbose=0)
    assert set(results["test"]) == {"loss", "mae"}
    assert configs.load(tmp_path / "run" / "config.yaml")["data"]["targets"] == "inputs"


def test_bad_targets(tmp_path):
    with pytest.raises(kzoo.ConfigError, match="data.targets"):
        configs.load("mlp", ["data.targets=input"])


def _tensorboard_tags(directory) -> set[str]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(directory))
    accumulator.Reload()
    return set(accumulator.Tags()["tensors"]) | set(accumulator.Tags()["scalars"])


def test_tensorboard_best_checkpoint_and_csv_logger(tmp_path, folder):
    callbacks = {"model_checkpoint": {"monitor": "val_accuracy", "mode": "max"}, "csv_logger": {}}
    path = tiny_config(tmp_path / "c.yaml", epochs=2, callbacks=callbacks)
    run = tmp_path / "run"
    training.train(configs.load(path), source=str(folder), output=run, verbose=0)
    # TensorBoard by default: losses, metrics and the learning rate of every epoch.
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"} <= _tensorboard_tags(
        run / "tensorboard" / "train"
    )
    assert "epoch_val_accuracy" in _tensorboard_tags(run / "tensorboard" / "validation") or (
        "epoch_accuracy" in _tensorboard_tags(run / "tensorboard" / "validation")
    )
    best = keras.saving.load_model(run / "best.keras")
    assert best.output.shape[-1] == 3
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    best_seen = max(r["val_accuracy"] for r in state["history"])
    assert {"best": pytest.approx(best_seen)} in state["callbacks"]
    assert len((run / "log.csv").read_text().splitlines()) == 3  # header + 2 epochs
    training.train(
        configs.load(path), source=str(folder), output=run, resume=True, epochs=3, verbose=0
    )
    rows = (run / "log.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["0", "1", "2"]  # appended, not restarted
    best_metrics = training.evaluate(run, source=str(folder), split="all", checkpoint="best")
    saved = json.loads((run / "metrics.json").read_text())["evaluations"]
    assert saved[f"{folder}:all:best"] == pytest.approx(best_metrics)


def test_tensorboard_can_be_turned_off(tmp_path, folder):
    path = tiny_config(tmp_path / "c.yaml", tensorboard=False)
    training.train(configs.load(path), source=str(folder), output=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run" / "tensorboard").exists()
    with pytest.raises(kzoo.ConfigError, match=r"train.tensorboard.*Received: 'often'"):
        configs.load(path, ["train.tensorboard=often"])
