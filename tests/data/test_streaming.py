"""Class folders streamed from disk, per-epoch work in tf.data, features cached once."""

import numpy as np
import pytest

from kzoo import data
from kzoo.data import folders, pipeline, store
from kzoo.errors import ConfigError
from tests.helpers import data_block, vowel_folders, write_wav


def _epochs(dataset, count=2):
    return [x.numpy() for _ in range(count) for x, _ in dataset.train]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return vowel_folders(tmp_path_factory.mktemp("vowels"))


def test_audio_folders_are_listed_not_read(root):
    examples = data.examples(data_block(root))
    assert isinstance(examples.inputs, folders.WavFiles)
    assert len(examples.inputs) == 27 and examples.inputs.num_samples.min() > 0
    rate, wave = folders.read_wav(examples.inputs.paths[0])
    np.testing.assert_array_equal(examples.inputs[0], wave)


def test_waveform_augmentation_is_deterministic_with_the_seed(root):
    augment = {"noise": {"snr_db": [5, 20]}, "time_stretch": 0.1, "spec_augment": {}}
    block = data_block(root, augment=augment)

    def epochs(seed):
        dataset = data.load(block, batch_size=4, seed=seed, variable_length=True)
        return [[x.numpy() for x, _ in dataset.train] for _ in range(2)]

    first, again, other = epochs(0), epochs(0), epochs(1)
    for a, b in zip(first[0] + first[1], again[0] + again[1]):
        np.testing.assert_array_equal(a, b)
    assert not all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first[0], first[1])
    )  # a new draw every epoch
    assert not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first[0], other[0]))


@pytest.mark.parametrize("variable_length", [False, True])
def test_features_cached_on_disk_are_the_ones_in_memory(root, tmp_path, variable_length):
    block = data_block(root, augment={"spec_augment": {}, "time_stretch": 0.1})
    memory = data.load({**block, "cache": "memory"}, 4, variable_length=variable_length)
    disk = data.load({**block, "cache": str(tmp_path / "c")}, 4, variable_length=variable_length)
    assert len(list((tmp_path / "c").glob("kzoo-cache-*"))) == 2  # features and clips
    for a, b in zip(_epochs(memory), _epochs(disk)):
        np.testing.assert_array_equal(a, b)
    for split in ("validation", "test"):
        for (a, _), (b, _) in zip(getattr(memory, split), getattr(disk, split)):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(memory.arrays["train"][0], disk.arrays["train"][0])


def test_large_data_spills_to_disk():
    writer = store.Writer("auto", budget=1000)
    writer.add(np.ones((300, 1), "float32"))
    writer.add(np.ones((5, 1), "float32"))
    spilled = writer.finish()
    assert spilled.on_disk and spilled.lengths.tolist() == [300, 5]
    batch, lengths = spilled.gather(np.array([1, 0]), 6)
    assert batch.numpy().shape == (2, 6, 1) and lengths.numpy().tolist() == [5, 6]
    assert np.all(batch.numpy()[1] == 1) and batch.numpy()[0, :, 0].tolist() == [1] * 5 + [0]


def test_one_clip_at_a_time_is_never_all_clips(root):
    # The training split's clips are kept (for waveform augmentation), the others not.
    block = data_block(root, augment={"noise": {"snr_db": [10, 20]}})
    examples = data.examples(block)
    frontend = data.Frontend.from_config(block, kind="audio", sample_rate=8000)
    keep = np.zeros(len(examples), bool)
    keep[::3] = True
    features, waves, lengths = pipeline._compute(examples, frontend, "memory", keep)
    assert len(features) == len(examples) and len(waves) == keep.sum()
    assert waves.lengths.tolist() == lengths[keep].tolist()


# --- bad input -------------------------------------------------------------------------


def test_a_file_unreadable_between_listing_and_reading_is_named(root, tmp_path):
    for path in sorted(root.rglob("*.wav"))[:9]:
        write_wav(tmp_path / path.parent.name / path.name, folders.read_wav(path)[1])
    block = data_block(tmp_path)
    examples = data.examples(block)  # listed, headers checked
    broken = examples.inputs.paths[4]
    broken.write_bytes(b"RIFF\x00\x00not a wav any more")
    with pytest.raises(ConfigError) as error:
        pipeline.prepare(examples, block, batch_size=4, seed=0)
    message = str(error.value)
    assert str(broken) in message and "\n" not in message and "Traceback" not in message
    broken.unlink()
    with pytest.raises(ConfigError, match=f"Cannot read audio file {broken}"):
        pipeline.prepare(examples, block, batch_size=4, seed=0)


def test_a_bad_header_fails_before_anything_is_decoded(tmp_path):
    write_wav(tmp_path / "a" / "1.wav", np.zeros(100))
    (tmp_path / "a" / "2.wav").write_bytes(b"RIFF")
    with pytest.raises(ConfigError, match="2.wav"):
        data.examples(data_block(tmp_path))


@pytest.mark.parametrize("make", ["file", "file_parent"])
def test_an_unwritable_cache_directory(root, tmp_path, make):
    (tmp_path / "f").write_text("a file, not a directory")
    cache = tmp_path / "f" if make == "file" else tmp_path / "f" / "cache"
    with pytest.raises(ConfigError, match=f"`data.cache` directory {cache} is not writable"):
        data.load(data_block(root, cache=str(cache)), batch_size=4)


@pytest.mark.parametrize("value", [3, "", ["memory"]])
def test_a_bad_cache_setting(root, value):
    with pytest.raises(ConfigError, match="`data.cache` must be `auto`"):
        data.load(data_block(root, cache=value), batch_size=4)
