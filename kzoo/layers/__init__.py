"""Layers Keras lacks: SincNet's SincConv, Li-GRU, normalizations, attention, blocks."""

from kzoo.layers.sinc_conv import SincConv1D
from kzoo.layers.li_gru import LiGRU, SLiGRU
from kzoo.layers.normalization import (
    NORMALIZATIONS,
    GroupNormalization,
    InstanceNormalization,
    LocalResponseNormalization,
    WeightNormalization,
    normalization,
)
from kzoo.layers.activations import ACTIVATIONS, GELU, Sin, activation
from kzoo.layers.blocks import (
    BottleneckBlock,
    DenseBlock,
    InvertedResidualBlock,
    ResidualBlock,
    TransitionBlock,
)
