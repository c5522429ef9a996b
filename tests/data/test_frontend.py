import json

import numpy as np
import pytest
import tensorflow as tf

from kzoo import configs, data
from kzoo.data import folders
from kzoo.data.frontend import Frontend
from kzoo.errors import ConfigError
from tests.helpers import vowel_folders


def _wave(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal(n) * np.hanning(n)).astype("float32")


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "raw"},
        {"type": "logmel", "num_mel_bins": 16},
        {"type": "mfcc", "num_mel_bins": 20, "num_mfcc": 8, "normalize": "cmvn"},
    ],
)
def test_an_utterance_has_the_same_features_alone_and_in_any_padded_batch(spec):
    frontend = Frontend("audio", sample_rate=8000, features=spec)
    wave = _wave(1234)
    alone, frames = frontend(wave[None])
    for padding in (1, 80, 500):
        batch = np.zeros((2, len(wave) + padding), "float32")
        batch[0, : len(wave)] = wave
        batch[1] = _wave(len(wave) + padding, seed=1)
        together, counts = frontend(batch, np.array([len(wave), len(wave) + padding]))
        assert int(counts[0]) == int(frames[0])
        np.testing.assert_allclose(together[0, : frames[0]], alone[0], atol=1e-5)
        assert np.all(together.numpy()[0, frames[0] :] == 0.0)  # padded frames exactly zero


def test_config_is_json_and_round_trips():
    block = configs.load("digits_fsdd")["data"]
    frontend = Frontend.from_config(block, kind="audio", sample_rate=8000)
    config = json.loads(json.dumps(frontend.get_config()))
    assert config["features"]["type"] == "mfcc" and config["trim_silence"] == 40
    again = Frontend.from_config(config)
    assert again.get_config() == frontend.get_config()
    wave = _wave(3000)
    clipped = frontend.clip(wave)
    np.testing.assert_array_equal(again.clip(wave), clipped)
    np.testing.assert_array_equal(again(clipped[None])[0], frontend(clipped[None])[0])


def test_clip_crops_to_max_seconds():
    frontend = Frontend("audio", sample_rate=8000, max_seconds=0.1)
    assert frontend.max_samples == 800
    assert frontend.clip(_wave(2000)).shape == (800,) and frontend.clip(_wave(300)).shape == (300,)
    assert frontend.frames(800) == 800 and frontend.dims == 1


def test_text_tokens_round_trip():
    frontend = Frontend("text", sequence_length=6).adapt(["good great fine", "bad awful poor"])
    tokens, lengths = frontend(["good bad unseen"])
    assert tokens.shape == (1, 6) and lengths.numpy().tolist() == [3]
    assert tokens.numpy()[0, 2] == 1  # out of vocabulary
    again = Frontend.from_config(json.loads(json.dumps(frontend.get_config())))
    np.testing.assert_array_equal(again(["good bad unseen"])[0], tokens)
    assert again.vocab_size == frontend.vocab_size == 8


def test_the_vectorizer_is_the_layer_the_front_end_applies():
    """Export tracks `vectorizer`: it must be the very layer that tokenizes for training."""
    frontend = Frontend.from_config({"kind": "text", "vocabulary": ["", "[UNK]", "good", "bad"]})
    vectorizer = frontend.vectorizer
    assert vectorizer is frontend.vectorizer and vectorizer.built
    assert vectorizer.get_vocabulary() == ["", "[UNK]", "good", "bad"]
    tokens, _ = frontend(["bad good unseen"])
    np.testing.assert_array_equal(vectorizer(tf.constant(["bad good unseen"])), tokens)
    assert tokens.numpy()[0, :4].tolist() == [3, 2, 1, 0]
    with pytest.raises(ValueError, match="Only a text front end has a vectorizer"):
        _ = Frontend("audio", sample_rate=8000).vectorizer


def test_the_pipeline_feeds_a_model_what_the_front_end_computes(tmp_path):
    root = vowel_folders(tmp_path / "d")
    block = configs.load("mlp")["data"]
    block.update(
        source=str(root),
        features={"type": "logmel", "num_mel_bins": 16},
        trim_silence=30,
        validation_split=0.3,
        test_split=0.0,
    )
    dataset = data.load(block, batch_size=4)
    frontend = Frontend.from_config(dataset.frontend.get_config())  # as a predictor would
    examples = data.examples(block)
    _, val_idx, _ = data.split_indices(examples.labels, 0.3, 0.0, 0)
    x = np.concatenate([b.numpy() for b, _ in dataset.validation])
    for row, i in zip(x, val_idx):
        wave = frontend.clip(folders.read_wav(examples.inputs.paths[i])[1])
        expected, frames = frontend(wave[None])
        np.testing.assert_allclose(row[: frames[0]], expected[0], atol=1e-5)
        assert np.all(row[frames[0] :] == 0.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "video"}, "Unknown kind of data 'video'"),
        ({"kind": "text", "trim_silence": 30}, "applies to audio"),
        ({"kind": "audio", "sample_rate": 8000, "max_seconds": 0}, "`data.max_seconds`"),
        ({"kind": "audio", "sample_rate": None}, "positive integer sample rate"),
        ({"kind": "audio", "sample_rate": 8000, "features": "fbank"}, "features.type"),
    ],
)
def test_bad_front_end_settings(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        Frontend(**kwargs)


def test_text_without_vocabulary_says_how_to_get_one():
    with pytest.raises(ValueError, match="adapt"):
        Frontend("text")(tf.constant(["a"]))
