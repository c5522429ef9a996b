"""Layers Keras lacks: SincNet's SincConv, Li-GRU, normalizations, attention, blocks."""

from kzoo.layers.activations import ACTIVATIONS, GELU, Sin, activation
from kzoo.layers.attention import (
    ATTENTIONS,
    AdditiveAttention,
    MultiHeadAttention,
    ScaledDotProductAttention,
    SelfAttention,
    attention,
)
from kzoo.layers.blocks import (
    BottleneckBlock,
    DenseBlock,
    InvertedResidualBlock,
    ResidualBlock,
    TransitionBlock,
)
from kzoo.layers.li_gru import LiGRU, SLiGRU
from kzoo.layers.normalization import (
    NORMALIZATIONS,
    GroupNormalization,
    InstanceNormalization,
    LocalResponseNormalization,
    WeightNormalization,
    normalization,
)
from kzoo.layers.padding_mask import PaddingMask
from kzoo.layers.sinc_conv import SincConv1D

__all__ = [
    "ACTIVATIONS",
    "ATTENTIONS",
    "AdditiveAttention",
    "MultiHeadAttention",
    "ScaledDotProductAttention",
    "SelfAttention",
    "attention",
    "NORMALIZATIONS",
    "BottleneckBlock",
    "DenseBlock",
    "GELU",
    "GroupNormalization",
    "InstanceNormalization",
    "InvertedResidualBlock",
    "LiGRU",
    "LocalResponseNormalization",
    "PaddingMask",
    "ResidualBlock",
    "SLiGRU",
    "Sin",
    "SincConv1D",
    "TransitionBlock",
    "WeightNormalization",
    "activation",
    "normalization",
]
