"""Plain convolutional networks: conv -> normalization -> activation -> pooling stacks.

`cnn` convolves in 2-D (images, or spectrograms read as one-channel images);
`cnn1d` convolves over time (feature frames or raw samples).
"""

from __future__ import annotations

import keras

from kzoo.errors import check_choice
from kzoo.models import heads, parts
from kzoo.registry import register

POOLINGS = ("max", "average", "none")
PADDINGS = ("same", "valid")


def image_input(input_shape, model: str):
    """The Input of a 2-D model and the tensor with a channel axis: (H, W) gains one.

    Spectrogram pipelines give (frames, mel bins); a 2-D model reads them as a
    one-channel image, so a 2-axis `input_shape` gets a trailing channel axis inside
    the model (a `Reshape`), and the data need no change.
    """
    try:
        rank = len(input_shape)
    except TypeError:
        rank = None
    if rank not in (2, 3):
        raise ValueError(
            f"Model {model!r} convolves in 2-D and takes inputs of shape (height, width) or "
            f"(height, width, channels). Received: input_shape={input_shape!r}. Change "
            "`input_shape`, or use a 1-D model such as cnn1d or sincnet for waveforms."
        )
    shape = heads.check_input_shape(input_shape, rank, model, "(height, width[, channels])")
    if rank == 2 and shape[1] == 1:
        raise ValueError(
            f"Model {model!r} convolves in 2-D, but input_shape={shape} looks like a waveform "
            "(samples, 1): its width is 1. Use a 1-D model (cnn1d, sincnet, a recurrent "
            "model), or features with a frequency axis (data.features.type: logmel)."
        )
    inputs = keras.Input(shape, name="inputs")
    x = inputs
    if rank == 2:
        x = keras.layers.Reshape((*shape, 1), name="add_channel")(x)  # (batch, H, W, 1)
    if any(d == 1 for d in x.shape[1:3]):
        raise ValueError(
            f"Model {model!r} needs a height and width above 1. Received: "
            f"input_shape={shape}. Change `input_shape`."
        )
    return inputs, x


def conv_stack(
    x,
    rank: int,
    filters,
    kernel_size: int,
    strides: int,
    padding: str,
    pooling: str,
    pool_size: int,
    normalization,
    activation: str,
    dropout: float,
    global_pooling: str,
    dense_units: int,
):
    """[Conv -> norm -> activation -> pooling -> dropout] per entry of `filters`, then pooling."""
    check_choice("padding", padding, PADDINGS)
    check_choice("pooling", pooling, POOLINGS)
    check_choice("global_pooling", global_pooling, parts.GLOBAL_POOLINGS)
    parts.check_sizes(
        filters=filters, kernel_size=kernel_size, strides=strides, pool_size=pool_size
    )
    conv = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D}[rank]
    pool = {
        "max": {1: keras.layers.MaxPooling1D, 2: keras.layers.MaxPooling2D},
        "average": {1: keras.layers.AveragePooling1D, 2: keras.layers.AveragePooling2D},
    }
    for i, width in enumerate(filters):
        if padding == "valid" and any(d is not None and d < kernel_size for d in x.shape[1:-1]):
            raise ValueError(
                f"The inputs are too small for {len(filters)} conv blocks: block {i} gets a "
                f"feature map of {tuple(x.shape[1:])}, smaller than kernel_size={kernel_size}. "
                "Use fewer `filters`, padding='same', smaller `strides`/`pool_size`, or a "
                "larger `input_shape`."
            )
        layer = conv(width, kernel_size, strides=strides, padding=padding, name=f"conv{i}")
        x = parts.normalized(layer, normalization, f"conv{i}_norm")(x)
        x = parts.activation(activation, f"conv{i}_act")(x)
        if pooling != "none" and pool_size > 1:
            x = pool[pooling][rank](pool_size, padding="same", name=f"conv{i}_pool")(x)
        x = keras.layers.Dropout(dropout, name=f"conv{i}_dropout")(x)
        if any(d is not None and d < 1 for d in x.shape[1:-1]):
            raise ValueError(
                f"The inputs are too small for {len(filters)} conv blocks: after block {i} "
                f"the feature map is {tuple(x.shape[1:])}. Use fewer `filters`, "
                "padding='same', smaller `strides`/`pool_size`, or a larger `input_shape`."
            )
    # x: (batch, *spatial, filters[-1])
    x = parts.global_pool(x, global_pooling, rank)  # (batch, features)
    if dense_units:
        x = keras.layers.Dense(dense_units, name="dense")(x)
        x = parts.activation(activation, "dense_act")(x)
        x = keras.layers.Dropout(dropout, name="dense_dropout")(x)
    return x


@register("cnn")
def cnn(
    input_shape=(31, 40),
    num_classes: int = 12,
    filters=(16, 32, 64),
    kernel_size: int = 3,
    strides: int = 1,
    padding: str = "same",
    pooling: str = "max",
    pool_size: int = 2,
    normalization: str | None = "batch",
    activation: str = "relu",
    dropout: float = 0.1,
    global_pooling: str = "average",
    dense_units: int = 64,
    head: str = "classification",
) -> keras.Model:
    """A 2-D convolutional network: [Conv2D -> norm -> activation -> pooling] x N -> head.

    Reads images (height, width, channels), or spectrograms (frames, mel bins) as
    one-channel images: a 2-axis `input_shape` gets a channel axis inside the model.

    Reference:
        Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied
        to document recognition", Proc. IEEE 86(11), 1998.

    Args:
        input_shape: (height, width) or (height, width, channels).
        num_classes: output classes (or values, for a regression head).
        filters: output channels of each conv block.
        kernel_size: size of every (square) kernel.
        strides: stride of every convolution.
        padding: "same" or "valid", for the convolutions.
        pooling: "max", "average" or "none", after each conv block.
        pool_size: pooling window and stride.
        normalization: "batch", "layer", "group", "instance", "lrn", None, or "weight"
            (weight normalization of each Dense/Conv layer instead of a layer after it).
        activation: activation by name.
        dropout: dropout after each block and the dense layer.
        global_pooling: "average", "max" or "flatten", from feature maps to a vector.
        dense_units: width of a dense layer before the head (0 leaves it out).
        head: "classification", "regression" or "embedding".
    """
    heads.check_num_classes(num_classes)
    inputs, x = image_input(input_shape, "cnn")  # x: (batch, height, width, channels)
    x = conv_stack(
        x, 2, filters, kernel_size, strides, padding, pooling, pool_size, normalization,
        activation, dropout, global_pooling, dense_units,
    )  # fmt: skip
    outputs = heads.apply(x, head, num_classes)
    return keras.Model(inputs, outputs, name="cnn")


@register("cnn1d")
def cnn1d(
    input_shape=(2400, 1),
    num_classes: int = 12,
    filters=(16, 32, 64, 64),
    kernel_size: int = 9,
    strides: int = 1,
    padding: str = "same",
    pooling: str = "max",
    pool_size: int = 4,
    normalization: str | None = "batch",
    activation: str = "relu",
    dropout: float = 0.1,
    global_pooling: str = "average",
    dense_units: int = 64,
    head: str = "classification",
) -> keras.Model:
    """A 1-D convolutional network over time: [Conv1D -> norm -> activation -> pooling] x N -> head.

    Reads raw waveforms (samples, 1) or feature frames (frames, features).

    Reference:
        W. Dai, C. Dai, S. Qu, J. Li and S. Das, "Very Deep Convolutional Neural Networks
        for Raw Waveforms", ICASSP 2017, https://arxiv.org/abs/1610.00087.

    Args:
        input_shape: (time, channels); time may be None with global pooling.
        num_classes: output classes (or values, for a regression head).
        filters: output channels of each conv block.
        kernel_size: kernel size over time.
        strides: stride of every convolution.
        padding: "same" or "valid", for the convolutions.
        pooling: "max", "average" or "none", after each conv block.
        pool_size: pooling window and stride.
        normalization: "batch", "layer", "group", "instance", "lrn", None, or "weight"
            (weight normalization of each Dense/Conv layer instead of a layer after it).
        activation: activation by name.
        dropout: dropout after each block and the dense layer.
        global_pooling: "average", "max" or "flatten", from feature maps to a vector.
        dense_units: width of a dense layer before the head (0 leaves it out).
        head: "classification", "regression" or "embedding".
    """
    heads.check_num_classes(num_classes)
    shape = heads.check_input_shape(input_shape, 2, "cnn1d", "(time, channels)")
    inputs = keras.Input(shape, name="inputs")  # (batch, time, channels)
    x = conv_stack(
        inputs, 1, filters, kernel_size, strides, padding, pooling, pool_size, normalization,
        activation, dropout, global_pooling, dense_units,
    )  # fmt: skip
    outputs = heads.apply(x, head, num_classes)
    return keras.Model(inputs, outputs, name="cnn1d")
