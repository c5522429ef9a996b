"""Residual, bottleneck, dense, transition and inverted residual blocks on 1-D and 2-D inputs."""

import keras
import numpy as np
import pytest

from kzoo.layers import (
    BottleneckBlock,
    DenseBlock,
    InstanceNormalization,
    InvertedResidualBlock,
    ResidualBlock,
    TransitionBlock,
)
from kzoo.testing import run_layer_test

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

# (class, kwargs, 1-D input shape, 1-D output shape); 2-D cases add a spatial axis.
CASES = [
    (ResidualBlock, {"filters": 4}, (2, 6, 4), (2, 6, 4)),
    (ResidualBlock, {"filters": 6, "strides": 2, "activation": "gelu"}, (2, 6, 3), (2, 3, 6)),
    (BottleneckBlock, {"filters": 2, "strides": 2}, (2, 6, 3), (2, 3, 8)),
    (
        BottleneckBlock,
        {"filters": 2, "expansion": 2, "normalization": "layer"},
        (2, 5, 4),
        (2, 5, 4),
    ),
    (DenseBlock, {"num_layers": 2, "growth_rate": 3}, (2, 5, 4), (2, 5, 10)),
    (
        DenseBlock,
        {"num_layers": 2, "growth_rate": 2, "bottleneck": True, "normalization": "none"},
        (2, 5, 4),
        (2, 5, 8),
    ),
    (TransitionBlock, {}, (2, 6, 6), (2, 3, 3)),
    (
        TransitionBlock,
        {"compression": 1.0, "pooling": "max", "normalization": "instance"},
        (2, 6, 3),
        (2, 3, 3),
    ),
    (InvertedResidualBlock, {"filters": 4, "expansion": 2}, (2, 6, 4), (2, 6, 4)),
    (
        InvertedResidualBlock,
        {"filters": 5, "strides": 2, "se_ratio": 0.25, "activation": "swish"},
        (2, 6, 4),
        (2, 3, 5),
    ),
    (InvertedResidualBlock, {"filters": 4, "expansion": 1}, (2, 6, 3), (2, 6, 4)),
    # Weight normalization: on the convolutions themselves.
    (ResidualBlock, {"filters": 6, "strides": 2, "normalization": "weight"}, (2, 6, 3), (2, 3, 6)),
    (BottleneckBlock, {"filters": 2, "normalization": "weight"}, (2, 5, 3), (2, 5, 8)),
    (
        DenseBlock,
        {"num_layers": 2, "growth_rate": 2, "normalization": "weight"},
        (2, 5, 4),
        (2, 5, 8),
    ),
    (TransitionBlock, {"normalization": "weight"}, (2, 6, 6), (2, 3, 3)),
    (
        InvertedResidualBlock,
        {"filters": 4, "expansion": 2, "normalization": "weight"},
        (2, 6, 4),
        (2, 6, 4),
    ),
]


def _to_2d(shape):
    return shape[:2] + (shape[1],) + shape[2:]


@pytest.mark.parametrize("cls, kwargs, shape, expected", CASES)
def test_1d(cls, kwargs, shape, expected):
    run_layer_test(cls, kwargs, input_shape=shape, expected_output_shape=expected, atol=1e-5)


@pytest.mark.parametrize("cls, kwargs, shape, expected", CASES[::2])
def test_2d(cls, kwargs, shape, expected):
    run_layer_test(
        cls, kwargs, input_shape=_to_2d(shape), expected_output_shape=_to_2d(expected), atol=1e-5
    )


def test_residual_identity_shortcut_and_projection():
    same = ResidualBlock(4)
    same.build((None, 8, 4))
    assert same.shortcut == []
    projected = ResidualBlock(8)
    projected.build((None, 8, 4))
    assert [layer.name for layer in projected.shortcut] == ["shortcut", "shortcut_norm"]


def test_residual_adds_its_input():
    # With the last norm's gamma at zero the block is act(x): the skip path alone.
    block = ResidualBlock(3)
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    block(x)
    block.main[-1].gamma.assign(np.zeros(3, "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(block(x)), np.maximum(x, 0), atol=1e-6)


def test_inverted_residual_flags():
    block = InvertedResidualBlock(4, strides=1)
    block.build((None, 8, 8, 4))
    assert block.use_residual and block.se == []
    block = InvertedResidualBlock(4, strides=2, se_ratio=0.5)
    block.build((None, 8, 8, 4))
    assert not block.use_residual and [d.units for d in block.se] == [12, 24]


def test_dense_block_keeps_its_input():
    x = np.random.default_rng(1).standard_normal((1, 4, 2)).astype("float32")
    out = keras.ops.convert_to_numpy(DenseBlock(2, 3)(x))
    np.testing.assert_array_equal(out[..., :2], x)


def test_names_pick_layers():
    block = ResidualBlock(4, normalization="instance", activation="leaky_relu")
    block.build((None, 6, 4))
    assert isinstance(block.main[1], InstanceNormalization)
    assert isinstance(block.main[2], keras.layers.LeakyReLU)
    assert block.main[0].use_bias is False
    plain = ResidualBlock(4, normalization="none")
    plain.build((None, 6, 4))
    assert plain.main[0].use_bias is True


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: ResidualBlock(4, normalization="bacth"),
            "Unknown normalization 'bacth'.*Did you mean 'batch'",
        ),
        (
            lambda: BottleneckBlock(4, activation="rlu"),
            "Unknown activation 'rlu'.*Did you mean 'relu'",
        ),
        (lambda: ResidualBlock(0), "`filters` must be a positive integer"),
        (lambda: DenseBlock(2, 1.5), "`growth_rate` must be a positive integer"),
        (lambda: TransitionBlock(compression=0.0), "`compression` must be in"),
        (lambda: TransitionBlock(pooling="avg"), "pooling.*Did you mean 'average'"),
        (lambda: InvertedResidualBlock(4, se_ratio=1.0), "`se_ratio` must be in"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("cls", [ResidualBlock, DenseBlock, InvertedResidualBlock])
@pytest.mark.parametrize("shape", [(2, 4), (1, 2, 3, 4, 5)])
def test_wrong_rank(cls, shape):
    block = cls(2, 2) if cls is DenseBlock else cls(2)
    with pytest.raises(ValueError, match=r"1-D inputs \(batch, time, channels\) or 2-D"):
        block(np.zeros(shape, "float32"))


@pytest.mark.parametrize(
    "block, shape",
    [
        (ResidualBlock(6, strides=2, normalization="weight"), (2, 6, 3)),
        (BottleneckBlock(2, normalization={"name": "weight", "data_init": True}), (2, 5, 3)),
        (DenseBlock(2, 2, normalization="weight"), (2, 5, 4)),
        (TransitionBlock(normalization="weight_normalization"), (2, 6, 6)),
        (InvertedResidualBlock(4, expansion=2, normalization="weight"), (2, 6, 4, 4)),
        (InvertedResidualBlock(4, se_ratio=0.5, normalization="weight"), (2, 6, 4)),
    ],
)
def test_weight_normalization_wraps_every_convolution(block, shape):
    block(np.ones(shape, "float32"))
    paths = [v.path for v in block.weights]
    # Depthwise convolutions (WeightNormalization does not wrap them) and the squeeze-
    # excitation gates (never normalized) stay plain.
    kernels = [
        p for p in paths if p.endswith("/kernel") and not ("/depthwise/" in p or "/se_" in p)
    ]
    assert kernels and all(p.split("/")[-3].endswith("_weight_norm") for p in kernels), paths
    for kernel in kernels:
        wrapper, conv = kernel.rsplit("/", 2)[:2]
        assert f"{wrapper}/g" in paths and f"{wrapper}/{conv}/bias" in paths, paths
    # No layer normalizes the activations (no BatchNormalization or LayerNormalization).
    assert not any(p.endswith(("/gamma", "/moving_mean")) for p in paths), paths
