"""Small residual-style convolutional networks: ResNet, DenseNet, MobileNetV2.

Each works in 1-D (time, channels) or 2-D (height, width, channels): by default
the rank of `input_shape` decides (two axes -> 1-D convolutions over time, three ->
2-D); `conv_dims=2` reads a two-axis input such as a (frames, mel bins) spectrogram
as a one-channel image instead. The blocks are `kzoo.layers.ResidualBlock`,
`BottleneckBlock`, `DenseBlock`, `TransitionBlock` and `InvertedResidualBlock`.
"""

from __future__ import annotations

import keras

from kzoo import layers as kzoo_layers
from kzoo.errors import check_choice
from kzoo.models import heads, parts
from kzoo.models.convolutional import image_input
from kzoo.registry import register

_CONV = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D}


def _inputs(input_shape, conv_dims, model: str):
    """The Input, the tensor the convolutions read, and their rank (1 or 2)."""
    if conv_dims not in (None, 1, 2):
        raise ValueError(
            "Argument `conv_dims` must be 1 (convolve over time), 2 (over height and width) "
            f"or None (from the rank of `input_shape`). Received: conv_dims={conv_dims!r}."
        )
    try:
        rank = len(input_shape)
    except TypeError:
        rank = None
    if conv_dims is None:
        conv_dims = {2: 1, 3: 2}.get(rank)
        if conv_dims is None:
            raise ValueError(
                f"Model {model!r} takes inputs of shape (time, channels) for 1-D convolutions "
                f"or (height, width, channels) for 2-D ones. Received: input_shape="
                f"{input_shape!r}. Change `input_shape` (a waveform is (samples, 1))."
            )
    if conv_dims == 2:
        inputs, x = image_input(input_shape, model)
        return inputs, x, 2
    shape = heads.check_input_shape(input_shape, 2, model, "(time, channels) with conv_dims=1")
    inputs = keras.Input(shape, name="inputs")
    return inputs, inputs, 1


def _stem(x, rank, filters, kernel_size, strides, normalization, activation):
    conv = _CONV[rank](
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=parts.uses_bias(normalization),
        name="stem",
    )
    x = parts.normalized(conv, normalization, "stem_norm")(x)
    return kzoo_layers.activation(activation, name="stem_act")(x)


def _per_stage(name, value, stages):
    values = list(value) if isinstance(value, (list, tuple)) else [value] * stages
    if len(values) != stages or any(
        isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values
    ):
        raise ValueError(
            f"Argument `{name}` must be a positive integer or a list of {stages} of them "
            f"(one per stage). Received: {name}={value!r}."
        )
    return values


def _pool_and_head(x, rank, dropout, head, num_classes):
    x = parts.global_pool(x, "average", rank)  # (batch, channels)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return heads.apply(x, head, num_classes)


@register("resnet")
def resnet(
    input_shape=(31, 40),
    num_classes: int = 12,
    conv_dims: int | None = None,
    stem_filters: int = 32,
    stem_kernel_size: int = 3,
    stem_strides: int = 1,
    filters=(32, 64, 128),
    blocks=(1, 1, 1),
    block: str = "basic",
    kernel_size: int = 3,
    normalization: str = "batch",
    activation: str = "relu",
    dropout: float = 0.1,
    head: str = "classification",
) -> keras.Model:
    """A small residual network: stem conv -> stages of residual blocks -> pooling -> head.

    Each stage is `blocks[i]` residual blocks with `filters[i]` channels; every stage
    after the first halves the resolution with a stride-2 first block. `block="basic"`
    uses two kxk convs per block, `"bottleneck"` a 1x1-kxk-1x1 block with 4x expansion.

    Reference:
        K. He, X. Zhang, S. Ren and J. Sun, "Deep Residual Learning for Image
        Recognition", CVPR 2016, https://arxiv.org/abs/1512.03385.

    Args:
        input_shape: (time, channels) or (height, width, channels).
        num_classes: output classes (or values, for a regression head).
        conv_dims: 1 or 2; None picks it from the rank of `input_shape`. 2 with a
            two-axis input adds a channel axis (spectrograms as images).
        stem_filters: channels of the stem convolution.
        stem_kernel_size: kernel size of the stem convolution.
        stem_strides: stride of the stem convolution.
        filters: channels of each stage (for "bottleneck", the inner channels).
        blocks: residual blocks per stage (an int is used for every stage).
        block: "basic" or "bottleneck".
        kernel_size: kernel size inside the blocks.
        normalization: a `kzoo.layers.normalization` name, or "weight" (weight
            normalization of each convolution instead of a layer after it).
        activation: a `kzoo.layers.activation` name.
        dropout: dropout before the head.
        head: "classification", "regression" or "embedding".
    """
    heads.check_num_classes(num_classes)
    check_choice("block", block, ("basic", "bottleneck"))
    filters = _per_stage(
        "filters", filters, len(filters) if isinstance(filters, (list, tuple)) else 1
    )
    blocks = _per_stage("blocks", blocks, len(filters))
    inputs, x, rank = _inputs(input_shape, conv_dims, "resnet")
    x = _stem(x, rank, stem_filters, stem_kernel_size, stem_strides, normalization, activation)
    for stage, (width, repeats) in enumerate(zip(filters, blocks)):
        for i in range(repeats):
            strides = 2 if stage > 0 and i == 0 else 1
            common = dict(
                kernel_size=kernel_size,
                strides=strides,
                normalization=normalization,
                activation=activation,
                name=f"stage{stage}_block{i}",
            )
            if block == "basic":
                x = kzoo_layers.ResidualBlock(width, **common)(x)
            else:
                x = kzoo_layers.BottleneckBlock(width, **common)(x)
    # x: (batch, *spatial / 2 ** (stages - 1), channels)
    outputs = _pool_and_head(x, rank, dropout, head, num_classes)
    return keras.Model(inputs, outputs, name="resnet")


@register("densenet")
def densenet(
    input_shape=(31, 40),
    num_classes: int = 12,
    conv_dims: int | None = None,
    growth_rate: int = 12,
    blocks=(4, 4, 4),
    bottleneck: bool = True,
    compression: float = 0.5,
    kernel_size: int = 3,
    normalization: str = "batch",
    activation: str = "relu",
    dropout: float = 0.1,
    head: str = "classification",
) -> keras.Model:
    """A small DenseNet-BC: stem conv -> dense blocks joined by transitions -> pooling -> head.

    Each dense block has `blocks[i]` layers, each adding `growth_rate` channels fed
    by all the layers before it; a transition (1x1 conv keeping `compression` of the
    channels, then 2x average pooling) sits between consecutive blocks.

    Reference:
        G. Huang, Z. Liu, L. van der Maaten and K. Weinberger, "Densely Connected
        Convolutional Networks", CVPR 2017, https://arxiv.org/abs/1608.06993.

    Args:
        input_shape: (time, channels) or (height, width, channels).
        num_classes: output classes (or values, for a regression head).
        conv_dims: 1 or 2; None picks it from the rank of `input_shape`. 2 with a
            two-axis input adds a channel axis (spectrograms as images).
        growth_rate: channels each layer adds; the stem has `2 * growth_rate`.
        blocks: layers per dense block.
        bottleneck: 1x1 convs to `4 * growth_rate` channels before each kxk conv (-B).
        compression: fraction of channels each transition keeps (-C), in (0, 1].
        kernel_size: kernel size of the layers.
        normalization: a `kzoo.layers.normalization` name, or "weight" (weight
            normalization of each convolution instead of a layer after it).
        activation: a `kzoo.layers.activation` name.
        dropout: dropout before the head.
        head: "classification", "regression" or "embedding".
    """
    heads.check_num_classes(num_classes)
    blocks = _per_stage("blocks", blocks, len(blocks) if isinstance(blocks, (list, tuple)) else 1)
    inputs, x, rank = _inputs(input_shape, conv_dims, "densenet")
    x = _stem(x, rank, 2 * growth_rate, kernel_size, 1, normalization, activation)
    for stage, layers in enumerate(blocks):
        if stage:
            if any(d is not None and d < 2 for d in x.shape[1:-1]):
                raise ValueError(
                    f"The inputs are too small for {len(blocks)} dense blocks: transition "
                    f"{stage} gets a feature map of {tuple(x.shape[1:])}. Use fewer `blocks` "
                    "or a larger `input_shape`."
                )
            x = kzoo_layers.TransitionBlock(
                compression,
                normalization=normalization,
                activation=activation,
                name=f"transition{stage}",
            )(x)
        x = kzoo_layers.DenseBlock(
            layers,
            growth_rate,
            kernel_size=kernel_size,
            bottleneck=bottleneck,
            normalization=normalization,
            activation=activation,
            name=f"dense_block{stage}",
        )(x)
    x = parts.normalization(normalization, "final_norm")(x)
    x = kzoo_layers.activation(activation, name="final_act")(x)
    outputs = _pool_and_head(x, rank, dropout, head, num_classes)
    return keras.Model(inputs, outputs, name="densenet")


@register("mobilenet")
def mobilenet(
    input_shape=(31, 40),
    num_classes: int = 12,
    conv_dims: int | None = None,
    stem_filters: int = 16,
    stem_strides: int = 1,
    filters=(16, 24, 32, 64),
    repeats=(1, 2, 2, 2),
    strides=(1, 2, 2, 2),
    expansion: int = 6,
    se_ratio: float = 0.0,
    kernel_size: int = 3,
    last_filters: int = 256,
    normalization: str = "batch",
    activation: str = "relu6",
    dropout: float = 0.2,
    head: str = "classification",
) -> keras.Model:
    """A small MobileNetV2: stem conv -> inverted residual stages -> 1x1 conv -> pooling -> head.

    Stage i repeats `repeats[i]` inverted residual blocks (1x1 expansion by
    `expansion`, depthwise kxk, optional squeeze-excitation, linear 1x1 projection to
    `filters[i]`); its first block has stride `strides[i]`.

    Reference:
        M. Sandler, A. Howard, M. Zhu, A. Zhmoginov and L.-C. Chen, "MobileNetV2:
        Inverted Residuals and Linear Bottlenecks", CVPR 2018,
        https://arxiv.org/abs/1801.04381.

    Args:
        input_shape: (time, channels) or (height, width, channels).
        num_classes: output classes (or values, for a regression head).
        conv_dims: 1 or 2; None picks it from the rank of `input_shape`. 2 with a
            two-axis input adds a channel axis (spectrograms as images).
        stem_filters: channels of the stem convolution.
        stem_strides: stride of the stem convolution (2 in the paper, for 224x224).
        filters: output channels of each stage.
        repeats: blocks per stage.
        strides: stride of the first block of each stage.
        expansion: expansion factor of the blocks.
        se_ratio: squeeze-excitation width, in [0, 1) (0 leaves it out; MobileNetV3 style).
        kernel_size: depthwise kernel size.
        last_filters: channels of the final 1x1 convolution (0 leaves it out).
        normalization: a `kzoo.layers.normalization` name, or "weight" (weight
            normalization of each convolution instead of a layer after it).
        activation: a `kzoo.layers.activation` name.
        dropout: dropout before the head.
        head: "classification", "regression" or "embedding".
    """
    heads.check_num_classes(num_classes)
    stages = len(filters) if isinstance(filters, (list, tuple)) else 1
    filters = _per_stage("filters", filters, stages)
    repeats = _per_stage("repeats", repeats, stages)
    strides = _per_stage("strides", strides, stages)
    inputs, x, rank = _inputs(input_shape, conv_dims, "mobilenet")
    x = _stem(x, rank, stem_filters, 3, stem_strides, normalization, activation)
    for stage, (width, count, stride) in enumerate(zip(filters, repeats, strides)):
        for i in range(count):
            x = kzoo_layers.InvertedResidualBlock(
                width,
                kernel_size=kernel_size,
                strides=stride if i == 0 else 1,
                expansion=expansion,
                se_ratio=se_ratio,
                normalization=normalization,
                activation=activation,
                name=f"stage{stage}_block{i}",
            )(x)
    if last_filters:
        conv = _CONV[rank](
            last_filters, 1, use_bias=parts.uses_bias(normalization), name="last_conv"
        )
        x = parts.normalized(conv, normalization, "last_norm")(x)
        x = kzoo_layers.activation(activation, name="last_act")(x)
    outputs = _pool_and_head(x, rank, dropout, head, num_classes)
    return keras.Model(inputs, outputs, name="mobilenet")
