import numpy as np
import pytest

import kzoo
from kzoo import configs, data
from kzoo.data import features, folders, pipeline
from kzoo.errors import ConfigError
from tests.conftest import require_shared
from tests.helpers import vowel_folders, write_wav


def _block(**overrides):
    block = configs.load("mlp")["data"]
    block.update(overrides)
    return block


def test_folder_source_pads_and_splits(tmp_path):
    root = vowel_folders(tmp_path / "d")
    dataset = data.load(
        _block(source=str(root), features={"type": "logmel", "num_mel_bins": 16}), batch_size=4
    )
    assert dataset.class_names == ["v0", "v1", "v2"]
    assert dataset.num_classes == 3
    assert sum(dataset.sizes.values()) == 27
    x, y = next(iter(dataset.train))
    assert tuple(x.shape[1:]) == dataset.input_shape and dataset.input_shape[1] == 16
    assert x.shape[0] == 4 and y.dtype.name == "int32"


def test_training_order_is_a_new_permutation_of_the_whole_split_every_epoch():
    # Sources list examples class by class (one folder after another). 6,000 examples
    # sorted by class: a shuffle buffer smaller than the split handed the model a
    # first half of one class and a second half of the other (IMDB from folders
    # trained to chance this way).
    n = 6000
    examples = data.Examples(
        kind="tabular",
        inputs=np.arange(n, dtype="float32")[:, None],  # each example is its own index
        labels=(np.arange(n) >= n // 2).astype("int32"),
        class_names=["neg", "pos"],
    )
    dataset = pipeline.prepare(examples, _block(validation_split=0.1, test_split=0.1), 64, 0)
    epochs = [np.concatenate([x.numpy()[:, 0] for x, _ in dataset.train]) for _ in range(2)]
    train = np.sort(dataset.arrays["train"][0][:, 0])
    for order in epochs:
        np.testing.assert_array_equal(np.sort(order), train)  # each example once
        halves = examples.labels[order.astype(int)].reshape(2, -1).mean(axis=1)
        np.testing.assert_allclose(halves, 0.5, atol=0.03)  # both classes throughout
    assert not np.array_equal(epochs[0], epochs[1])


def test_splits_are_deterministic_stratified_and_disjoint():
    labels = np.repeat(np.arange(3), 20)
    a = data.split_indices(labels, 0.2, 0.1, seed=3)
    b = data.split_indices(labels, 0.2, 0.1, seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    train, val, test = a
    assert len(set(train) | set(val) | set(test)) == 60
    assert np.bincount(labels[val]).tolist() == [4, 4, 4]
    assert np.bincount(labels[test]).tolist() == [2, 2, 2]


def test_test_pattern_fixes_the_test_split(tmp_path):
    root = vowel_folders(tmp_path / "d")
    examples = folders.load(root, test_pattern=r"_[0-1]\.wav$")
    assert examples.test_mask.sum() == 6  # indices 0 and 1 of three classes
    dataset = data.load(_block(source=str(root), test_pattern=r"_[0-1]\.wav$"), batch_size=4)
    assert dataset.sizes["test"] == 6


def test_padded_frames_are_zero_and_lengths_kept():
    audio = np.random.default_rng(0).standard_normal((2, 800)).astype("float32")
    audio[1, 400:] = 0
    spec = features.resolve({"type": "logmel", "num_mel_bins": 8})
    feats, frames = features.extract(audio, np.array([800, 400]), 8000, spec)
    assert frames.tolist() == [feats.shape[1], 1 + 400 // 80]
    assert np.all(feats[1, frames[1] :] == 0) and np.any(feats[1, : frames[1]] != 0)


@pytest.mark.parametrize("kind, dims", [("raw", 1), ("logmel", 20), ("mfcc", 13)])
def test_feature_types(kind, dims):
    audio = np.random.default_rng(0).standard_normal((3, 1600)).astype("float32")
    spec = features.resolve({"type": kind, "num_mel_bins": 20} if kind != "raw" else kind)
    feats, _ = features.extract(audio, np.array([1600] * 3), 8000, spec)
    assert feats.shape[0] == 3 and feats.shape[2] == dims
    assert abs(float(feats.mean())) < 1e-3  # utterance normalization


def test_mfcc_is_the_dct_of_log_mel():
    audio = np.random.default_rng(1).standard_normal((1, 1600)).astype("float32")
    base = {"num_mel_bins": 20, "normalize": None}
    mel, _ = features.extract(
        audio, np.array([1600]), 8000, features.resolve({"type": "logmel", **base})
    )
    mfcc, _ = features.extract(
        audio, np.array([1600]), 8000, features.resolve({"type": "mfcc", "num_mfcc": 20, **base})
    )
    # An orthonormal DCT preserves energy per frame.
    np.testing.assert_allclose((mel**2).sum(-1), (mfcc**2).sum(-1), rtol=1e-4)


def test_log_mel_floor_is_per_utterance():
    rng = np.random.default_rng(2)
    quiet = (1e-4 * rng.standard_normal(1600)).astype("float32")
    quiet[800:] *= 1e-4  # its second half: near-digital silence
    loud = (10.0 * rng.standard_normal(1600)).astype("float32")
    spec = features.resolve({"type": "logmel", "num_mel_bins": 8, "top_db": 40, "normalize": None})
    lengths = np.array([1600, 1600])
    alone, _ = features.extract(quiet[None], lengths[:1], 8000, spec)
    together, _ = features.extract(np.stack([quiet, loud]), lengths, 8000, spec)
    np.testing.assert_allclose(together[0], alone[0], atol=1e-4)  # the loud clip changes nothing
    assert np.isclose(alone.min(), alone.max() - 40.0, atol=1e-3)  # floored 40 dB below its peak


def test_trim_silence_cuts_quiet_ends_only(tmp_path):
    rng = np.random.default_rng(3)
    speech = np.sin(np.arange(2400) / 3.0).astype("float32")
    wave = np.concatenate(
        [1e-3 * rng.standard_normal(1200), speech, 1e-3 * rng.standard_normal(800)]
    )
    trimmed = pipeline.trim_silence(wave.astype("float32"), 8000, 30)
    assert 2400 <= len(trimmed) <= 2400 + 2 * 80  # the tone, give or take a 10 ms frame each side
    start = int(np.flatnonzero(wave == trimmed[0])[0])
    np.testing.assert_array_equal(trimmed, wave[start : start + len(trimmed)])  # a slice of it
    assert len(pipeline.trim_silence(wave, 8000, 80)) > len(
        trimmed
    )  # a deeper threshold keeps more
    for label in ("a", "b"):
        for i in range(3):
            write_wav(tmp_path / label / f"{i}.wav", 0.5 * wave)
    block = _block(source=str(tmp_path), features="raw", test_split=0.0, validation_split=0.0)
    assert data.load(block, batch_size=2).input_shape[0] == len(wave)
    assert data.load({**block, "trim_silence": 30}, batch_size=2).input_shape[0] == len(trimmed)


@pytest.mark.parametrize("value", [0, -5, "loud", True])
def test_bad_trim_silence(value):
    with pytest.raises(
        ConfigError, match="`data.trim_silence` must be a positive number of decibels"
    ):
        data.load(_block(trim_silence=value), batch_size=8)


def test_trim_silence_on_text_is_an_error(tmp_path):
    for label in ("pos", "neg"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "0.txt").write_text(f"{label} words")
    with pytest.raises(ConfigError, match="`data.trim_silence` applies to audio"):
        data.load(_block(source=str(tmp_path), trim_silence=30, test_split=0.0), batch_size=2)


def test_vowels_source_tasks():
    vowel = data.examples(_block(task="vowel"))
    speaker = data.examples(_block(), source="vowels:speaker")
    assert len(vowel.class_names) == 12 and len(speaker.class_names) == 9
    assert vowel.sample_rate == 8000


# --- bad input: one clear error each ------------------------------------------------


def test_missing_directory(tmp_path):
    with pytest.raises(kzoo.ConfigError, match="does not exist"):
        data.examples(_block(), source=str(tmp_path / "nope"))


def test_directory_without_class_folders(tmp_path):
    write_wav(tmp_path / "a.wav", np.zeros(100))
    with pytest.raises(kzoo.ConfigError, match="no class sub-folders"):
        data.examples(_block(), source=str(tmp_path))


def test_empty_data_set(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(kzoo.ConfigError, match="empty"):
        data.examples(_block(), source=str(tmp_path))


def test_wrong_sample_rate(tmp_path):
    write_wav(tmp_path / "a" / "1.wav", np.zeros(100), 8000)
    write_wav(tmp_path / "a" / "2.wav", np.zeros(100), 16000)
    with pytest.raises(kzoo.ConfigError, match="16000 Hz; expected 8000 Hz"):
        data.examples(_block(), source=str(tmp_path))


def test_config_sample_rate_is_checked(tmp_path):
    write_wav(tmp_path / "a" / "1.wav", np.zeros(100), 8000)
    with pytest.raises(kzoo.ConfigError, match="8000 Hz; expected 16000"):
        data.examples(_block(sample_rate=16000), source=str(tmp_path))


def test_corrupt_wav(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "bad.wav").write_bytes(b"RIFF\x00\x00not a wav")
    with pytest.raises(kzoo.ConfigError, match="bad.wav"):
        data.examples(_block(), source=str(tmp_path))


def test_mixed_file_kinds(tmp_path):
    write_wav(tmp_path / "a" / "1.wav", np.zeros(100))
    (tmp_path / "a" / "notes.csv").write_text("x")
    with pytest.raises(kzoo.ConfigError, match="unsupported files"):
        data.examples(_block(), source=str(tmp_path))


def test_unknown_feature_type_and_key():
    with pytest.raises(kzoo.ConfigError, match="'logmel'"):
        features.resolve({"type": "logmell"})
    with pytest.raises(kzoo.ConfigError, match="num_mel_bins"):
        features.resolve({"type": "logmel", "num_mel_bin": 3})


def test_unknown_vowels_task():
    with pytest.raises(kzoo.ConfigError, match="'speaker'"):
        data.examples(_block(), source="vowels:speakr")


def test_text_folders(tmp_path):
    for label, words in (("pos", "good great fine"), ("neg", "bad awful poor")):
        for i in range(4):
            (tmp_path / label).mkdir(exist_ok=True)
            (tmp_path / label / f"{i}.txt").write_text(words)
    dataset = data.load(_block(source=str(tmp_path), test_split=0.0), batch_size=2)
    assert dataset.vocab_size > 2 and dataset.input_shape == (200,)


# --- TensorFlow Datasets, on the prepared offline copy in ../shared/data ------------------


def test_tfds_spoken_digit_offline():
    root = require_shared("tfds", "spoken_digit")
    examples = data.examples(_block(), source="tfds:spoken_digit:train[:40]", data_dir=root.parent)
    assert examples.kind == "audio" and examples.sample_rate == 8000
    assert len(examples) == 40 and examples.class_names[:2] == ["0", "1"]
    assert -1.0 <= min(float(x.min()) for x in examples.inputs) < 0
    assert max(float(abs(x).max()) for x in examples.inputs) > 0.01  # 16-bit full scale


def test_tfds_missing_split(tmp_path):
    root = require_shared("tfds", "spoken_digit")
    with pytest.raises(kzoo.ConfigError, match="no prepared split 'validation'"):
        data.examples(_block(), source="tfds:spoken_digit:validation", data_dir=root.parent)
