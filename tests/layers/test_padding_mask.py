"""PaddingMask: real frames of a zero-padded batch, pooled as the model pools time."""

import keras
import numpy as np
import pytest

from kzoo.layers import PaddingMask


def _batch(lengths, frames=12, features=3):
    x = np.zeros((len(lengths), frames, features), "float32")
    for i, n in enumerate(lengths):
        x[i, :n] = np.random.default_rng(i).standard_normal((n, features)) + 3.0
    return x


def test_mask_marks_the_real_frames():
    mask = keras.ops.convert_to_numpy(PaddingMask()(_batch([12, 5, 1])))
    expected = np.arange(12)[None, :] < np.array([12, 5, 1])[:, None]
    np.testing.assert_array_equal(mask, expected)


@pytest.mark.parametrize("pool_size, num_pools", [(2, 1), (2, 2), (3, 2)])
def test_mask_follows_max_pooling_with_same_padding(pool_size, num_pools):
    lengths = np.array([12, 7, 2, 1])
    mask = keras.ops.convert_to_numpy(PaddingMask(pool_size, num_pools)(_batch(lengths)))
    # What the model's own MaxPooling1D(padding="same") steps make of the real frames.
    real = (np.arange(12)[None, :] < lengths[:, None]).astype("float32")[..., None]
    for _ in range(num_pools):
        real = keras.layers.MaxPooling1D(pool_size, padding="same")(real)
    expected = keras.ops.convert_to_numpy(real)[..., 0] > 0
    assert mask.shape == expected.shape == (4, -(-12 // pool_size**num_pools))
    np.testing.assert_array_equal(mask, expected)
    if pool_size == 2:  # even lengths: a pooled frame is real when any frame it covers is
        np.testing.assert_array_equal(mask[:, -1], lengths > 12 - pool_size**num_pools)


def test_zero_frames_inside_an_utterance_stay_real():
    x = _batch([10, 6], frames=12)
    x[0, 0] = 0.0  # a shifted example: zeros before the speech
    x[0, 4:6] = 0.0  # a SpecAugment time mask
    x[1, 2] = 0.0
    mask = keras.ops.convert_to_numpy(PaddingMask()(x))
    np.testing.assert_array_equal(mask, np.arange(12)[None, :] < np.array([10, 6])[:, None])


def test_an_all_zero_example_keeps_its_first_frame():
    x = _batch([0, 3], frames=6)
    mask = keras.ops.convert_to_numpy(PaddingMask()(x))
    np.testing.assert_array_equal(mask[0], [True] + [False] * 5)
    pooled = keras.layers.GlobalAveragePooling1D()(x, mask=mask)
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(pooled)))


def test_config_round_trip_and_symbolic_shape():
    layer = PaddingMask(pool_size=2, num_pools=3, name="m")
    clone = PaddingMask.from_config(layer.get_config())
    assert (clone.pool_size, clone.num_pools) == (2, 3)
    out = clone(keras.Input((50, 4)))
    assert out.shape == (None, 7) and out.dtype == "bool"
    assert clone(keras.Input((None, 4))).shape == (None, None)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pool_size": 0}, "pool_size"),
        ({"num_pools": -1}, "num_pools"),
        ({"pool_size": 2.0}, "pool_size"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(
        ValueError, match=f"Argument `{match}` must be an integer.*e.g. PaddingMask"
    ):
        PaddingMask(**kwargs)
