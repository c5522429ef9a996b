"""SincConv1D: SpeechBrain parity, shapes, mixed precision, serialization, bad input."""

from pathlib import Path

import keras
import numpy as np
import pytest

from kzoo.layers import SincConv1D
from kzoo.layers.sinc_conv import sinc_init
from kzoo.testing import run_layer_test

# Keras's TF backend saves variables with np.array(variable), which NumPy 2 flags;
# not ours to fix (belongs in pyproject's filterwarnings).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

GOLDEN = np.load(Path(__file__).parent / "golden" / "sinc_conv.npz")
CASES = sorted({key.split("/")[0] for key in GOLDEN.files})


@pytest.mark.parametrize("case", CASES)
def test_matches_speechbrain(case):
    filters, k, sr, _, _, stride = (int(v) for v in GOLDEN[f"{case}/args"])
    layer = SincConv1D(
        filters=filters,
        kernel_size=k,
        sample_rate=sr,
        strides=stride,
        padding=str(GOLDEN[f"{case}/padding"]),
        padding_mode=str(GOLDEN[f"{case}/padding_mode"]),
    )
    x = GOLDEN[f"{case}/x"]
    layer.build(x.shape)
    layer.low_hz.assign(GOLDEN[f"{case}/low_hz"])
    layer.band_hz.assign(GOLDEN[f"{case}/band_hz"])
    got = keras.ops.convert_to_numpy(layer(x))
    want = GOLDEN[f"{case}/y"]
    assert got.shape == want.shape
    np.testing.assert_array_less(np.abs(got - want).max(), 1e-5 * np.abs(want).max())


@pytest.mark.parametrize(
    "kwargs, shape, expected",
    [
        ({"filters": 4, "kernel_size": 11}, (2, 40), (2, 40, 4)),
        (
            {"filters": 4, "kernel_size": 11, "padding": "valid", "strides": 2},
            (2, 40, 1),
            (2, 15, 4),
        ),
        (
            {"filters": 6, "kernel_size": 9, "padding": "causal", "init": "sincnet"},
            (2, 30, 2),
            (2, 30, 6),
        ),
        (
            {"filters": 4, "kernel_size": 7, "padding_mode": "reflect", "strides": 3},
            (2, 20, 1),
            (2, 7, 4),
        ),
    ],
)
def test_layer_contract(kwargs, shape, expected):
    run_layer_test(SincConv1D, kwargs, input_shape=shape, expected_output_shape=expected, atol=1e-5)


def test_dynamic_time_axis():
    layer = SincConv1D(filters=4, kernel_size=11, strides=2)
    inputs = keras.Input((None, 1))
    assert tuple(layer(inputs).shape) == (None, None, 4)
    model = keras.Model(inputs, layer(inputs))
    assert model(np.zeros((1, 33, 1), "float32")).shape == (1, 17, 4)


def test_input_shorter_than_kernel_is_zero_padded():
    layer = SincConv1D(filters=4, kernel_size=51)
    x = np.zeros((1, 5, 1), "float32")
    x[0, 2, 0] = 1.0  # an impulse: the output is the centre of each kernel
    out = keras.ops.convert_to_numpy(layer(x))
    kernel = keras.ops.convert_to_numpy(layer.sinc_kernel())
    np.testing.assert_allclose(out[0, :, :], kernel[:, 23:28][:, ::-1].T, rtol=1e-6)


def test_kernel_centre_tap_and_symmetry():
    layer = SincConv1D(filters=5, kernel_size=31)
    layer.build((1, 100, 1))
    kernel = keras.ops.convert_to_numpy(layer.sinc_kernel())
    assert np.isfinite(kernel).all()
    np.testing.assert_allclose(kernel[:, 15], 1.0)
    np.testing.assert_array_equal(kernel, kernel[:, ::-1])


def test_groups_filter_their_own_channel():
    layer = SincConv1D(filters=4, kernel_size=5)
    x = np.random.default_rng(0).standard_normal((1, 20, 2)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(x))
    silenced = x.copy()
    silenced[..., 1] = 0.0
    out2 = keras.ops.convert_to_numpy(layer(silenced))
    np.testing.assert_allclose(out[..., :2], out2[..., :2], rtol=1e-6)  # channel 0's group
    np.testing.assert_allclose(out2[..., 2:], 0.0)


def test_mixed_precision_kernel_is_float32_then_cast():
    layer = SincConv1D(filters=4, kernel_size=11, dtype="mixed_float16")
    out = layer(np.ones((1, 30, 1), "float32"))
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert layer.low_hz.dtype == "float32"
    assert keras.backend.standardize_dtype(layer.sinc_kernel().dtype) == "float32"


def test_inits():
    low, band = sinc_init(10, 16000, 50, 50, "mel")
    assert low[0] == pytest.approx(50) and low[-1] + band[-1] == pytest.approx(7900, rel=1e-5)
    low, band = sinc_init(10, 16000, 50, 50, "sincnet")
    assert low[0] == pytest.approx(30) and low[-1] + band[-1] == pytest.approx(7900, rel=1e-5)
    assert (np.diff(low) > 0).all() and (band > 0).all()


@pytest.mark.parametrize("kernel_size", [50, 2])
def test_even_kernel_size(kernel_size):
    with pytest.raises(
        ValueError, match=f"must be odd.*kernel_size={kernel_size}.*Try {kernel_size + 1}"
    ):
        SincConv1D(filters=4, kernel_size=kernel_size)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"filters": 0, "kernel_size": 5}, "`filters` must be a positive integer"),
        ({"filters": 4, "kernel_size": 5, "strides": 1.5}, "`strides` must be a positive integer"),
        ({"filters": 4, "kernel_size": 5, "padding": "sam"}, "padding.*Did you mean 'same'"),
        ({"filters": 4, "kernel_size": 5, "padding_mode": "reflection"}, "Did you mean 'reflect'"),
        ({"filters": 4, "kernel_size": 5, "init": "mell"}, "Did you mean 'mel'"),
        ({"filters": 4, "kernel_size": 5, "sample_rate": 0}, "sample_rate"),
        ({"filters": 4, "kernel_size": 5, "min_low_hz": -1}, "non-negative"),
        ({"filters": 4, "kernel_size": 5, "sample_rate": 100}, "Nyquist"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SincConv1D(**kwargs)


def test_filters_not_a_multiple_of_channels():
    with pytest.raises(ValueError, match="multiple of the number of input channels.*channels=3"):
        SincConv1D(filters=4, kernel_size=5)(np.zeros((1, 10, 3), "float32"))


@pytest.mark.parametrize("shape", [(10,), (1, 10, 1, 1)])
def test_wrong_rank(shape):
    with pytest.raises(ValueError, match=r"\(batch, time\) or \(batch, time, channels\)"):
        SincConv1D(filters=4, kernel_size=5)(np.zeros(shape, "float32"))


def test_valid_padding_too_short():
    with pytest.raises(ValueError, match="at least `kernel_size`"):
        SincConv1D(filters=4, kernel_size=11, padding="valid")(np.zeros((1, 5, 1), "float32"))


def test_reflect_padding_too_short():
    with pytest.raises(ValueError, match="reflect.*longer than the padding"):
        SincConv1D(filters=4, kernel_size=11, padding_mode="reflect")(np.zeros((1, 5), "float32"))
