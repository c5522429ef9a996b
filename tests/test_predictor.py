"""kzoo.load and Predictor: run directories, presets, archives, URLs, and their errors."""

from __future__ import annotations

import json
import shutil
import tarfile

import keras
import numpy as np
import pytest

import kzoo
from kzoo import data, predictor, presets, training
from kzoo.data import folders
from tests.helpers import tiny_config, vowel_folders, write_wav


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished one-epoch run on class folders of synthetic vowels (three classes)."""
    root = tmp_path_factory.mktemp("predictor")
    source = vowel_folders(root / "data")
    config = tiny_config(root / "tiny.yaml")
    training.train(str(config), source=str(source), output=root / "run", verbose=0)
    return root / "run"


def test_training_records_labels_front_end_and_versions(run):
    record = json.loads((run / "frontend.json").read_text())
    assert record["labels"] == ["v0", "v1", "v2"]  # the class folders, in label order
    assert record["frontend"]["kind"] == "audio"
    assert record["frontend"]["sample_rate"] == 8000
    assert record["frontend"]["features"]["num_mel_bins"] == 16
    assert record["versions"]["keras"] == keras.__version__
    assert record["versions"]["kzoo"] == kzoo.__version__
    assert data.Frontend.from_config(record["frontend"]).get_config() == record["frontend"]


def test_run_directory_predicts_as_its_training_pipeline_evaluates(run):
    """The predictor's front end is training's: the same probabilities on the test split."""
    clf = kzoo.load(run)
    assert clf.labels == ["v0", "v1", "v2"]
    config = kzoo.configs.load(run / "config.yaml")
    examples = data.examples(config["data"])
    dataset = data.load(config["data"], 8, config["train"]["seed"])
    test = data.split_indices(
        examples.labels,
        config["data"]["validation_split"],
        config["data"]["test_split"],
        config["train"]["seed"],
    )[2]
    paths = [examples.inputs.paths[i] for i in test]
    expected = clf.model.predict(dataset.arrays["test"][0], verbose=0)
    from_files = clf.probabilities(paths, batch_size=3)
    np.testing.assert_allclose(from_files, expected, atol=1e-5)
    waves = [folders.read_wav(p)[1] for p in paths]
    np.testing.assert_allclose(clf.probabilities(waves), expected, atol=1e-5)
    results = clf.predict(paths, top_k=2)
    assert [r["path"] for r in results] == [str(p) for p in paths]
    for result, row in zip(results, expected):
        assert result["label"] == clf.labels[int(np.argmax(row))]
        assert result["probability"] == pytest.approx(float(row.max()), abs=1e-5)
        assert len(result["top_k"]) == 2
        assert result["top_k"][0]["probability"] >= result["top_k"][1]["probability"]


def test_a_directory_is_every_audio_file_under_it(run, tmp_path):
    source = run.parent / "data"
    results = kzoo.load(run).predict(source)
    assert len(results) == len(list(source.rglob("*.wav")))


def test_run_prefers_the_best_checkpoint(run, tmp_path):
    copy = shutil.copytree(run, tmp_path / "run")
    model = keras.saving.load_model(copy / "model.keras")
    for weight in model.trainable_weights:
        weight.assign(weight * 0.0)
    model.save(copy / "best.keras")
    clf = kzoo.load(copy)
    assert clf.manifest["weights"]["file"] == "best.keras"
    probabilities = clf.probabilities([np.ones(800, "float32")])
    np.testing.assert_allclose(probabilities, np.full((1, 3), 1 / 3), atol=1e-6)


def test_save_load_archive_and_url_round_trip(run, tmp_path):
    clf = kzoo.load(run)
    waves = [np.sin(np.arange(900) * 0.3).astype("float32"), np.zeros(700, "float32") + 0.1]
    expected = clf.probabilities(waves)
    saved = clf.save(tmp_path / "preset", license="Apache-2.0")
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["labels"] == clf.labels and manifest["license"] == "Apache-2.0"
    np.testing.assert_allclose(kzoo.load(saved).probabilities(waves), expected, atol=1e-6)
    for name in ("preset.zip", "preset.tar.gz"):
        packed = presets.archive(saved, tmp_path / name)
        np.testing.assert_allclose(kzoo.load(packed).probabilities(waves), expected, atol=1e-6)
    packed = tmp_path / "preset.tar.gz"
    url = packed.resolve().as_uri()
    digest = presets.sha256(packed)
    cache = tmp_path / "cache"
    loaded = kzoo.load(url, sha256=digest, cache_dir=str(cache))
    np.testing.assert_allclose(loaded.probabilities(waves), expected, atol=1e-6)
    with pytest.raises(ValueError, match="does not match the sha256"):
        kzoo.load(url.replace("preset.tar.gz", "preset.zip"), sha256=digest, cache_dir=str(cache))


def test_models_get_loads_a_preset_into_the_zoo_model(run, tmp_path):
    clf = kzoo.load(run)
    saved = clf.save(tmp_path / "preset")
    model = kzoo.models.get("mlp", preset=saved)
    assert model.optimizer is not None  # compiled with the recipe, ready to fine-tune
    x = np.random.default_rng(0).normal(size=(2, *clf.model.input_shape[1:])).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), clf.model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="holds weights of model 'mlp'"):
        kzoo.models.get("cnn_mlp_rnn", preset=saved)


# --- errors -----------------------------------------------------------------------------


def test_unknown_preset_name_suggests_close_matches():
    with pytest.raises(ValueError, match="Unknown preset 'vowel'.*'vowels'.*kzoo list --presets"):
        kzoo.load("vowel")


def test_missing_path_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        kzoo.load(tmp_path / "nowhere")


def test_run_directory_without_a_finished_model(run, tmp_path):
    copy = shutil.copytree(run, tmp_path / "run")
    (copy / "model.keras").unlink()
    with pytest.raises(ValueError, match="not a finished run directory: it has no model.keras"):
        kzoo.load(copy)


def test_checksum_mismatch_missing_weights_and_newer_format(run, tmp_path):
    saved = kzoo.load(run).save(tmp_path / "preset")
    weights = saved / presets.WEIGHTS
    original = weights.read_bytes()
    weights.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(ValueError, match="do not match its manifest"):
        kzoo.load(saved)
    weights.unlink()
    with pytest.raises(ValueError, match="missing its weights file model.weights.h5"):
        kzoo.load(saved)
    weights.write_bytes(original)
    manifest = json.loads((saved / "manifest.json").read_text())
    (saved / "manifest.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(ValueError, match="format version 99.*Upgrade kzoo"):
        kzoo.load(saved)


def test_archive_escaping_its_folder_is_refused(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    (tmp_path / "x").write_text("x")
    with tarfile.open(archive, "w:gz") as t:
        t.add(tmp_path / "x", arcname="../x")
    with pytest.raises(ValueError, match="outside itself"):
        kzoo.load(archive)


def test_unreadable_and_wrong_rate_files_are_named(run, tmp_path):
    clf = kzoo.load(run)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not a wave file")
    good = next((run.parent / "data").rglob("*.wav"))
    with pytest.raises(ValueError, match=f"Cannot read audio file {broken}"):
        clf.predict([good, broken])
    fast = tmp_path / "fast.wav"
    write_wav(fast, np.zeros(1600), sample_rate=16000)
    with pytest.raises(ValueError, match=f"{fast} is sampled at 16000 Hz; this model takes 8000"):
        clf.predict([fast])
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="takes audio files"):
        clf.predict([text])
    with pytest.raises(ValueError, match="does not exist"):
        clf.predict([tmp_path / "absent.wav"])


def test_raw_arrays_of_wrong_rank_or_rate(run):
    clf = kzoo.load(run)
    with pytest.raises(ValueError, match=r"shape \(800,\): wrap one waveform as \[wave\]"):
        clf.predict(np.zeros(800, "float32"))
    with pytest.raises(ValueError, match="2-D array"):
        clf.predict(np.zeros((1, 800, 1), "float32"))
    with pytest.raises(ValueError, match="Waveform 1 has shape"):
        clf.predict([np.zeros(800), np.zeros((2, 2))])
    with pytest.raises(ValueError, match="sampled at 16000 Hz; this model takes 8000 Hz"):
        clf.predict([np.zeros(800)], sample_rate=16000)
    with pytest.raises(ValueError, match="`top_k` must be a positive integer"):
        clf.predict([np.zeros(800)], top_k=0)


def test_predict_command_prints_a_line_per_file(run):
    files = sorted((run.parent / "data").rglob("*.wav"))[:3]
    text = predictor.predict_command(str(run), [str(f) for f in files], top_k=2)
    lines = text.splitlines()
    assert len(lines) == 3
    for line, path in zip(lines, files):
        fields = line.split("\t")
        assert fields[0] == str(path) and len(fields) == 5
        assert fields[1] in ("v0", "v1", "v2") and 0.0 <= float(fields[2]) <= 1.0
    parsed = json.loads(predictor.predict_command(str(run), [str(files[0])], as_json=True))
    assert parsed[0]["path"] == str(files[0]) and "top_k" in parsed[0]


def test_text_run_predicts_strings_and_files_as_it_evaluates(tmp_path):
    """A text run carries its vocabulary: raw strings and .txt files get training's tokens."""
    words = {"pos": "good great fine lovely superb", "neg": "bad awful poor dull boring"}
    rng = np.random.default_rng(0)
    for label, vocabulary in words.items():
        for i in range(12):
            text = " ".join(rng.choice(vocabulary.split(), size=6))
            (tmp_path / "data" / label).mkdir(parents=True, exist_ok=True)
            (tmp_path / "data" / label / f"{i}.txt").write_text(text)
    config = tiny_config(tmp_path / "text.yaml", model="text_classifier")
    training.train(
        str(config),
        source=str(tmp_path / "data"),
        output=tmp_path / "run",
        verbose=0,
    )
    clf = kzoo.load(tmp_path / "run")
    assert clf.labels == ["neg", "pos"] and clf.frontend.kind == "text"
    config = kzoo.configs.load(tmp_path / "run" / "config.yaml")
    dataset = data.load(config["data"], 8, config["train"]["seed"])
    examples = data.examples(config["data"])
    test = data.split_indices(examples.labels, 0.2, 0.2, config["train"]["seed"])[2]
    expected = clf.model.predict(dataset.arrays["test"][0], verbose=0)
    texts = [examples.inputs[i] for i in test]
    np.testing.assert_allclose(clf.probabilities(texts), expected, atol=1e-5)
    files = [tmp_path / "data" / examples.names[i] for i in test]
    np.testing.assert_allclose(clf.probabilities(files), expected, atol=1e-5)
    assert clf.predict("good great fine")[0]["label"] in ("neg", "pos")
    long_review = "good " * 3000  # longer than any file name: raw text, not a path
    assert len(clf.predict([long_review, "bad\x00"])) == 2
    with pytest.raises(ValueError, match="a string or a list of strings"):
        clf.predict([1, 2])


def test_run_without_its_record_says_to_train_again(run, tmp_path):
    copy = shutil.copytree(run, tmp_path / "run")
    (copy / "frontend.json").unlink()
    with pytest.raises(ValueError, match="does not record its labels and front end"):
        kzoo.load(copy)


def test_arrays_of_a_model_without_front_end(tmp_path):
    """Images and rows pass through; their shape is checked against the model's input."""
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(
        inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inputs))
    )
    manifest = {"name": "tiny", "model": "none", "args": {}}
    clf = predictor.Predictor(model, ["a", "b"], data.Frontend("image"), manifest)
    x = np.random.default_rng(0).normal(size=(5, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(
        clf.probabilities(x, batch_size=2), model.predict(x, verbose=0), atol=1e-6
    )
    assert [r["label"] for r in clf.predict(x)] == [
        ["a", "b"][i] for i in np.argmax(model.predict(x, verbose=0), axis=1)
    ]
    with pytest.raises(ValueError, match=r"takes arrays of shape \(None, 4, 4, 3\)"):
        clf.predict(x[0])
    with pytest.raises(ValueError, match="gives 2 values per example but 3 class names"):
        predictor.Predictor(model, ["a", "b", "c"], None, manifest)


def test_damaged_manifest_and_archive_without_a_preset(tmp_path):
    saved = kzoo.presets.SHIPPED / "vowels"
    copy = shutil.copytree(saved, tmp_path / "vowels")
    (copy / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="Cannot read .*manifest.json.*damaged"):
        kzoo.load(copy)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no preset here")
    packed = shutil.make_archive(str(tmp_path / "empty"), "zip", tmp_path, "empty")
    with pytest.raises(ValueError, match="holds no manifest.json: it is not a preset"):
        kzoo.load(packed)
    with pytest.raises(ValueError, match="is a file but not a preset archive"):
        kzoo.load(tmp_path / "empty" / "notes.txt")
    with pytest.raises(ValueError, match="must name a .zip or .tar.gz archive"):
        kzoo.load("https://example.invalid/preset")
