"""Instance, local response and weight normalization; the normalization factory."""

from pathlib import Path

import keras
import numpy as np
import pytest

from kzoo.layers import (
    GroupNormalization,
    InstanceNormalization,
    LocalResponseNormalization,
    WeightNormalization,
    normalization,
)
from kzoo.testing import run_layer_test

# Keras's TF backend saves variables with np.array(variable), which NumPy 2 flags;
# not ours to fix (belongs in pyproject's filterwarnings).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

GOLDEN = np.load(Path(__file__).parent / "golden" / "normalization.npz")


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _close(got, want):
    np.testing.assert_array_less(np.abs(got - want).max(), 1e-5 * max(1.0, np.abs(want).max()))


# --- InstanceNormalization -------------------------------------------------------------


@pytest.mark.parametrize("case", ["instance1d", "instance2d"])
def test_instance_matches_torch(case):
    x = GOLDEN[f"{case}/x"]
    layer = InstanceNormalization()
    layer.build(x.shape)
    layer.gamma.assign(GOLDEN[f"{case}/gamma"])
    layer.beta.assign(GOLDEN[f"{case}/beta"])
    _close(_np(layer(x)), GOLDEN[f"{case}/y"])


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({}, (2, 9, 3)),
        ({"center": False, "scale": False, "epsilon": 1e-3}, (2, 4, 5, 3)),
        ({"axis": 1}, (2, 3, 4, 5)),
    ],
)
def test_instance_contract(kwargs, shape):
    run_layer_test(
        InstanceNormalization,
        kwargs,
        input_shape=shape,
        expected_output_shape=shape,
        supports_masking=len(shape) == 3,
        atol=1e-5,
    )


def test_instance_channels_first_axis():
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5)).astype("float32")
    first = _np(InstanceNormalization(axis=1, center=False, scale=False)(x))
    last = _np(InstanceNormalization(center=False, scale=False)(x.transpose(0, 2, 3, 1)))
    np.testing.assert_allclose(first, last.transpose(0, 3, 1, 2), atol=1e-5)


def test_instance_mask_ignores_padding():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 10, 3)).astype("float32")
    padded = x.copy()
    padded[:, 6:] = 100.0
    mask = np.arange(10)[None] < 6
    layer = InstanceNormalization()
    full = _np(layer(x[:, :6]))
    masked = _np(layer(padded, mask=mask))
    np.testing.assert_allclose(masked[:, :6], full, atol=1e-5)


def test_instance_bad_input():
    with pytest.raises(ValueError, match="rank >= 3"):
        InstanceNormalization()(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="out of range.*axis=4"):
        InstanceNormalization(axis=4)(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="batch axis"):
        InstanceNormalization(axis=0)(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="epsilon"):
        InstanceNormalization(epsilon=0)


# --- LocalResponseNormalization --------------------------------------------------------


@pytest.mark.parametrize("case", ["lrn_defaults", "lrn_alexnet", "lrn_wide"])
def test_lrn_matches_tensorflow(case):
    radius, bias, alpha, beta = GOLDEN[f"{case}/args"]
    layer = LocalResponseNormalization(int(radius), float(bias), float(alpha), float(beta))
    _close(_np(layer(GOLDEN[f"{case}/x"])), GOLDEN[f"{case}/y"])


def test_lrn_any_rank():
    x = GOLDEN["lrn_defaults/x"]
    layer = LocalResponseNormalization()
    flat = _np(layer(x.reshape(-1, x.shape[-1])))
    _close(flat.reshape(x.shape), GOLDEN["lrn_defaults/y"])
    run_layer_test(
        LocalResponseNormalization,
        {"depth_radius": 2, "bias": 2.0, "alpha": 1e-4, "beta": 0.75},
        input_shape=(2, 5, 6),
        expected_output_shape=(2, 5, 6),
    )


def test_lrn_bad_input():
    with pytest.raises(ValueError, match="`depth_radius` must be a non-negative integer"):
        LocalResponseNormalization(depth_radius=-1)
    with pytest.raises(ValueError, match="rank >= 2"):
        LocalResponseNormalization()(np.zeros((3,), "float32"))


# --- WeightNormalization ---------------------------------------------------------------


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: keras.layers.Dense(4, activation="tanh"), (3, 5)),
        (lambda: keras.layers.Conv1D(4, 3, padding="causal", dilation_rate=2), (2, 9, 3)),
        (lambda: keras.layers.Conv2D(4, 3, strides=2, padding="same"), (2, 8, 8, 3)),
    ],
)
def test_weight_norm_starts_as_the_wrapped_layer(make, shape):
    x = np.random.default_rng(3).standard_normal(shape).astype("float32")
    inner = make()
    plain = _np(inner(x))
    wrapped = WeightNormalization(inner)
    np.testing.assert_allclose(_np(wrapped(x)), plain, atol=1e-5)
    # w = g v / ||v|| per output unit.
    wrapped.g.assign(np.arange(1, 5, dtype="float32"))
    kernel = _np(wrapped.normalized_kernel())
    norms = np.sqrt((kernel.reshape(-1, 4) ** 2).sum(0))
    np.testing.assert_allclose(norms, np.arange(1, 5), rtol=1e-5)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: keras.layers.Dense(4), (3, 5)),
        (lambda: keras.layers.Conv1D(4, 3, padding="same"), (2, 9, 3)),
        (lambda: keras.layers.Conv2D(2, 3, use_bias=False), (2, 6, 6, 3)),
    ],
)
def test_weight_norm_contract(make, shape):
    run_layer_test(WeightNormalization, {"layer": make()}, input_shape=shape, atol=1e-5)


def test_weight_norm_data_init():
    rng = np.random.default_rng(4)
    x = (5.0 + 3.0 * rng.standard_normal((64, 6))).astype("float32")
    layer = WeightNormalization(keras.layers.Dense(3), data_init=True)
    y = _np(layer(x, training=True))
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(0), 1.0, atol=1e-3)
    # Later training calls keep the first batch's statistics.
    y2 = _np(layer(2.0 * x, training=True))
    assert np.abs(y2.mean(0)).max() > 0.5
    run_layer_test(
        WeightNormalization,
        {"layer": keras.layers.Conv1D(3, 3), "data_init": True},
        input_shape=(4, 8, 2),
        atol=1e-5,
    )


def test_weight_norm_data_init_inside_fit():
    rng = np.random.default_rng(5)
    x = (5.0 + 3.0 * rng.standard_normal((32, 6))).astype("float32")
    layer = WeightNormalization(keras.layers.Dense(3), data_init=True)
    inputs = keras.Input((6,))
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    model.fit(x, np.zeros((32, 3), "float32"), batch_size=32, epochs=1, verbose=0)
    assert float(_np(layer.initialized)) == 1.0
    y = _np(model(x))
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-4)


def test_weight_norm_bad_layer():
    with pytest.raises(ValueError, match="wraps one of: Dense.*Received: layer=LSTM"):
        WeightNormalization(keras.layers.LSTM(3))


# --- factory -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, cls",
    [
        ("batch", keras.layers.BatchNormalization),
        ("layer", keras.layers.LayerNormalization),
        ("group", GroupNormalization),
        ("instance", InstanceNormalization),
        ("lrn", LocalResponseNormalization),
        ("Instance_Normalization", InstanceNormalization),
        ("none", keras.layers.Identity),
        (None, keras.layers.Identity),
    ],
)
def test_factory(name, cls):
    assert type(normalization(name)) is cls


def test_factory_kwargs_and_specs():
    assert normalization("group", groups=2).groups == 2
    assert normalization({"name": "lrn", "depth_radius": 2}).depth_radius == 2
    wrapped = normalization("weight", layer=keras.layers.Dense(2), data_init=True)
    assert isinstance(wrapped, WeightNormalization) and wrapped.data_init


def test_factory_errors():
    with pytest.raises(ValueError, match="Unknown normalization 'batchnorm'.*Did you mean 'batch'"):
        normalization("batchnorm")
    with pytest.raises(ValueError, match="wraps a layer.*`layer=`"):
        normalization("weight")
    with pytest.raises(ValueError, match="groups"):
        normalization("instance", groups=3)
