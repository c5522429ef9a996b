"""`kzoo export --raw-input`: a SavedModel or LiteRT file that applies the front end itself."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import kzoo
from kzoo import cli, configs, export, training
from kzoo.data import folders
from tests.helpers import tiny_config, vowel_folders

GOLDEN = Path(__file__).resolve().parent / "golden" / "presets"


def padded(waves):
    lengths = np.array([len(w) for w in waves], "int32")
    batch = np.zeros((len(waves), lengths.max()), "float32")
    for i, wave in enumerate(waves):
        batch[i, : len(wave)] = wave
    return batch, lengths


@pytest.mark.parametrize("name", ["vowels", "fsdd_digits"])
def test_raw_audio_artifact_gives_the_predictors_probabilities(tmp_path, capsys, name):
    code = cli.main(["export", name, "--raw-input", "--output", str(tmp_path / "sm")])
    out, err = capsys.readouterr()
    assert code == 0, err
    rng = np.random.default_rng(0)
    waves = [folders.read_wav(p)[1] for p in sorted(GOLDEN.joinpath(name).glob("*.wav"))]
    waves.append(rng.normal(size=1234).astype("float32") * 0.05)  # another length
    expected = kzoo.load(name).probabilities(waves)
    serve = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    batch, lengths = padded(waves)
    (found,) = serve(waveforms=tf.constant(batch), lengths=tf.constant(lengths)).values()
    np.testing.assert_allclose(found.numpy(), expected, atol=1e-4)


def test_raw_text_artifact_takes_strings(tmp_path):
    rng = np.random.default_rng(0)
    for label, words in {"neg": "bad awful poor dull", "pos": "good great fine superb"}.items():
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(10):
            text = " ".join(rng.choice(words.split(), size=5))
            (tmp_path / "data" / label / f"{i}.txt").write_text(text)
    config = tiny_config(tmp_path / "text.yaml", model="text_classifier")
    training.train(str(config), source=str(tmp_path / "data"), output=tmp_path / "run", verbose=0)
    path = export.export(tmp_path / "run", raw_input=True)
    assert path == tmp_path / "run" / "export" / "saved_model_raw"
    texts = ["good great fine", "awful dull bad poor", "unseen words only"]
    expected = kzoo.load(tmp_path / "run").probabilities(texts)
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    (found,) = serve(texts=tf.constant(texts)).values()
    np.testing.assert_allclose(found.numpy(), expected, atol=1e-6)
    with pytest.raises(ValueError, match="cannot write LiteRT for text"):
        export.export(tmp_path / "run", "litert", raw_input=True)
    assert not (tmp_path / "run" / "export" / "model_raw.tflite").exists()


def _audio_run(root, **data):
    """A one-epoch MLP run on synthetic vowels (fixed-length input: no recurrent ops)."""
    source = vowel_folders(root / "data")
    overrides = [f"data.{key}={value}" for key, value in data.items()]
    config = configs.load(tiny_config(root / "tiny.yaml"), overrides)
    training.train(config, source=str(source), output=root / "run", verbose=0)
    return root / "run"


def test_raw_audio_litert_artifact_gives_the_predictors_probabilities(tmp_path):
    """STFT, log-mel, normalization and cropping convert to LiteRT's built-in ops: the
    stock interpreter (no Flex delegate) runs the artifact."""
    run = _audio_run(tmp_path, max_seconds=0.1)
    path = export.export(run, "litert", raw_input=True)
    assert path == run / "export" / "model_raw.tflite"
    rng = np.random.default_rng(0)
    waves = [folders.read_wav(p)[1] for p in sorted((tmp_path / "data").rglob("*.wav"))[:3]]
    waves.append(rng.normal(size=2000).astype("float32") * 0.05)  # longer than max_seconds
    waves.append(rng.normal(size=500).astype("float32") * 0.05)
    expected = kzoo.load(run).probabilities(waves)
    batch, lengths = padded(waves)
    found = export.run_exported(path, "litert", {"waveforms": batch, "lengths": lengths})
    np.testing.assert_allclose(found, expected, atol=1e-4)


def test_raw_audio_litert_with_silence_trimming_converts(tmp_path):
    """Trimming (float64 levels, one utterance at a time) converts to TensorFlow (Flex)
    ops, which a LiteRT runtime with the Flex delegate runs."""
    run = _audio_run(tmp_path, trim_silence=30)
    path = export.export(run, "litert", tmp_path / "trimmed.tflite", raw_input=True)
    with warnings.catch_warnings():  # tf.lite.Interpreter warns that it moves to ai_edge_litert
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_path=str(path))
    inputs = interpreter.get_signature_list()["serving_default"]["inputs"]
    assert sorted(inputs) == ["lengths", "waveforms"]


def test_raw_input_errors(tmp_path):
    with pytest.raises(ValueError, match="--raw-input cannot write ONNX: for audio, tf2onnx"):
        export.export("vowels", "onnx", tmp_path / "m.onnx", raw_input=True)
    with pytest.raises(ValueError, match="is a .tflite file"):
        export.export("vowels", "litert", tmp_path / "m.bin", raw_input=True)
    with pytest.raises(ValueError, match="needs --output PATH"):
        export.export("vowels", raw_input=True)
    (tmp_path / "taken").mkdir()
    with pytest.raises(ValueError, match="already exists"):
        export.export("vowels", output=tmp_path / "taken", raw_input=True)
