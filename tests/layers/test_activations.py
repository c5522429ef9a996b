"""Activations by name: values, serialization, bad names."""

import math

import keras
import numpy as np
import pytest

from kzoo.layers import ACTIVATIONS, GELU, Sin, activation
from kzoo.testing import run_layer_test

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

X = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]], "float32")
_erf = np.vectorize(math.erf)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


EXPECTED = {
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.3 * x),
    "prelu": lambda x: np.maximum(x, 0),  # slope starts at 0
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "swish": lambda x: x * _sigmoid(x),
    "silu": lambda x: x * _sigmoid(x),
    "sin": np.sin,
    "linear": lambda x: x,
}


def test_table_is_complete():
    assert set(EXPECTED) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_values_and_reload(name):
    layer = activation(name)
    assert isinstance(layer, keras.layers.Layer)
    got = keras.ops.convert_to_numpy(layer(X))
    np.testing.assert_allclose(got, EXPECTED[name](X), rtol=1e-5, atol=1e-6)
    clone = layer.__class__.from_config(layer.get_config())
    clone.build(X.shape)
    if layer.weights:
        clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(clone(X)), got, atol=1e-6)


@pytest.mark.parametrize(
    "spec, kwargs, expected",
    [
        ("leaky_relu", {"negative_slope": 0.1}, np.where(X > 0, X, 0.1 * X)),
        ("relu", {"max_value": 1.0}, np.clip(X, 0, 1)),
        ("elu", {"alpha": 2.0}, np.where(X > 0, X, 2.0 * np.expm1(X))),
        ({"name": "sin", "frequency": 2.0}, {}, np.sin(2 * X)),
        (
            "GELU",
            {"approximate": True},
            keras.ops.convert_to_numpy(keras.activations.gelu(X, approximate=True)),
        ),
        (None, {}, X),
        ("none", {}, X),
        ("selu", {}, keras.ops.convert_to_numpy(keras.activations.selu(X))),
    ],
)
def test_arguments(spec, kwargs, expected):
    got = keras.ops.convert_to_numpy(activation(spec, **kwargs)(X))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls, kwargs", [(Sin, {"frequency": 3.0}), (GELU, {"approximate": True})])
def test_layer_contract(cls, kwargs):
    run_layer_test(
        cls, kwargs, input_shape=(2, 5, 3), expected_output_shape=(2, 5, 3), supports_masking=True
    )


def test_prelu_is_trainable():
    layer = activation("prelu")
    layer.build((None, 4))
    assert len(layer.trainable_weights) == 1


@pytest.mark.parametrize(
    "name, match",
    [
        ("gleu", "Unknown activation 'gleu'.*Did you mean 'gelu'"),
        ("Leaky-ReLU", "Did you mean 'leaky_relu'"),
        ("softmax", "Unknown activation 'softmax'"),
    ],
)
def test_unknown_names(name, match):
    with pytest.raises(ValueError, match=match):
        activation(name)


def test_bad_arguments():
    with pytest.raises(ValueError, match="'tanh' takes no arguments"):
        activation("tanh", alpha=1.0)
    with pytest.raises(ValueError, match="slope"):
        activation("sin", slope=1.0)
    with pytest.raises(ValueError, match="name or as a mapping"):
        activation(3)
