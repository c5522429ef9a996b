"""Convolutional building blocks for 1-D and 2-D inputs: residual, bottleneck, dense, inverted residual.

Each block picks 1-D or 2-D convolutions from the rank of its input
(`(batch, time, channels)` or `(batch, height, width, channels)`), chooses its
normalization and activation by name through `kzoo.layers.normalization` and
`kzoo.layers.activation`, and creates its sublayers in `build`. With
`normalization="weight"` each convolution is wrapped in `WeightNormalization` (keeping
its bias) and no normalization layer follows it; depthwise convolutions, which
`WeightNormalization` does not wrap, stay plain.
"""

from __future__ import annotations

import keras
from keras import ops

from kzoo.errors import check_choice
from kzoo.layers.activations import activation as make_activation
from kzoo.layers.normalization import is_weight_normalization
from kzoo.layers.normalization import normalization as make_normalization

_CONV = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D}
_DEPTHWISE = {1: keras.layers.DepthwiseConv1D, 2: keras.layers.DepthwiseConv2D}
_POOL = {
    ("average", 1): keras.layers.AveragePooling1D,
    ("average", 2): keras.layers.AveragePooling2D,
    ("max", 1): keras.layers.MaxPooling1D,
    ("max", 2): keras.layers.MaxPooling2D,
}


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"Argument `{name}` must be a positive integer. Received: {name}={value!r}."
        )
    return value


class _Block(keras.layers.Layer):
    """Shared parts: rank check, sublayer factories, sequential build."""

    def __init__(self, normalization="batch", activation="relu", **kwargs):
        super().__init__(**kwargs)
        self._weight_norm = is_weight_normalization(normalization)
        if not self._weight_norm:
            make_normalization(normalization)  # unknown names fail here, with close matches
        make_activation(activation)
        self.normalization = normalization
        self.activation = activation

    def _spatial_rank(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError(
                f"{type(self).__name__} expects 1-D inputs (batch, time, channels) or 2-D "
                f"inputs (batch, height, width, channels). Received: input_shape={tuple(input_shape)}."
            )
        if input_shape[-1] is None:
            raise ValueError(
                f"The channel axis of the inputs to {type(self).__name__} must be known. "
                f"Received: input_shape={tuple(input_shape)}."
            )
        return len(input_shape) - 2

    def _conv(self, rank, filters, kernel_size, strides=1, name=None):
        conv = _CONV[rank](
            filters,
            kernel_size,
            strides=strides,
            padding="same",
            use_bias=self._no_norm(),
            name=name,
            dtype=self.dtype_policy,
        )
        if self._weight_norm:
            return make_normalization(
                self.normalization, layer=conv, name=f"{name}_weight_norm", dtype=self.dtype_policy
            )
        return conv

    def _no_norm(self):
        # A conv followed by a normalization needs no bias; without one (or with weight
        # normalization, which rescales the kernel only) it does.
        if self._weight_norm:
            return True
        return isinstance(make_normalization(self.normalization), keras.layers.Identity)

    def _norm(self, name):
        if self._weight_norm:  # on the convolutions themselves (`_conv`)
            return keras.layers.Identity(name=name, dtype=self.dtype_policy)
        return make_normalization(self.normalization, name=name, dtype=self.dtype_policy)

    def _act(self, name):
        return make_activation(self.activation, name=name, dtype=self.dtype_policy)

    @staticmethod
    def _build_chain(layers, shape):
        for layer in layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        return shape

    @staticmethod
    def _run(layers, x, training):
        for layer in layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                x = layer(x, training=training)
            else:
                x = layer(x)
        return x

    def compute_output_shape(self, input_shape):
        return self._output_shape

    def get_config(self):
        config = super().get_config()
        config.update(normalization=self.normalization, activation=self.activation)
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class ResidualBlock(_Block):
    """Two convolutions and an identity or projection shortcut (ResNet's basic block).

    ```
    y = act(norm(conv_k(x, strides)))
    y = norm(conv_k(y))
    out = act(y + shortcut(x))
    ```

    `shortcut` is the identity when the shape is unchanged, else a 1x1 convolution
    with `strides` and a normalization (projection shortcut, option B).

    Reference:
        K. He, X. Zhang, S. Ren and J. Sun, "Deep Residual Learning for Image
        Recognition", CVPR 2016, https://arxiv.org/abs/1512.03385.

    Args:
        filters: int, output channels.
        kernel_size: int, size of both convolutions. Defaults to 3.
        strides: int, stride of the first convolution. Defaults to 1.
        normalization: str, a `kzoo.layers.normalization` name. Defaults to `"batch"`.
        activation: str, a `kzoo.layers.activation` name. Defaults to `"relu"`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: `(batch, time, channels)` or `(batch, height, width, channels)`.
        training: bool, for batch normalization.

    Output shape:
        `(batch, ceil(time / strides), filters)` or the 2-D equivalent.

    Example:

    >>> import numpy as np, kzoo
    >>> block = kzoo.layers.ResidualBlock(filters=8, strides=2)
    >>> tuple(block(np.zeros((2, 10, 4), "float32")).shape)
    (2, 5, 8)
    >>> tuple(kzoo.layers.ResidualBlock(8)(np.zeros((2, 6, 6, 8), "float32")).shape)
    (2, 6, 6, 8)
    """

    def __init__(
        self, filters, kernel_size=3, strides=1, normalization="batch", activation="relu", **kwargs
    ):
        super().__init__(normalization, activation, **kwargs)
        self.filters = _positive_int("filters", filters)
        self.kernel_size = _positive_int("kernel_size", kernel_size)
        self.strides = _positive_int("strides", strides)

    def build(self, input_shape):
        rank = self._spatial_rank(input_shape)
        self.main = [
            self._conv(rank, self.filters, self.kernel_size, self.strides, "conv1"),
            self._norm("conv1_norm"),
            self._act("conv1_act"),
            self._conv(rank, self.filters, self.kernel_size, 1, "conv2"),
            self._norm("conv2_norm"),
        ]
        self._output_shape = self._build_chain(self.main, input_shape)
        self.shortcut = []
        if self.strides != 1 or input_shape[-1] != self.filters:
            self.shortcut = [
                self._conv(rank, self.filters, 1, self.strides, "shortcut"),
                self._norm("shortcut_norm"),
            ]
            self._build_chain(self.shortcut, input_shape)
        self.out_act = self._act("out_act")

    def call(self, inputs, training=None):
        y = self._run(self.main, inputs, training)
        return self.out_act(y + self._run(self.shortcut, inputs, training))

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides)
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class BottleneckBlock(_Block):
    """1x1 reduce, kxk, 1x1 expand, and a shortcut (ResNet-50's bottleneck block).

    ```
    y = act(norm(conv_1(x)))                      # filters channels
    y = act(norm(conv_k(y, strides)))             # stride on the kxk conv (ResNet v1.5)
    y = norm(conv_1(y))                           # filters * expansion channels
    out = act(y + shortcut(x))
    ```

    Reference:
        K. He, X. Zhang, S. Ren and J. Sun, "Deep Residual Learning for Image
        Recognition", CVPR 2016, https://arxiv.org/abs/1512.03385.

    Args:
        filters: int, channels of the inner convolutions; the block outputs
            `filters * expansion`.
        kernel_size: int, size of the middle convolution. Defaults to 3.
        strides: int, stride of the middle convolution. Defaults to 1.
        expansion: int, output channels over inner channels. Defaults to 4.
        normalization: str, a `kzoo.layers.normalization` name. Defaults to `"batch"`.
        activation: str, a `kzoo.layers.activation` name. Defaults to `"relu"`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: `(batch, time, channels)` or `(batch, height, width, channels)`.
        training: bool, for batch normalization.

    Output shape:
        `(batch, ceil(time / strides), filters * expansion)` or the 2-D equivalent.

    Example:

    >>> import numpy as np, kzoo
    >>> block = kzoo.layers.BottleneckBlock(filters=4)
    >>> tuple(block(np.zeros((2, 6, 6, 3), "float32")).shape)
    (2, 6, 6, 16)
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        strides=1,
        expansion=4,
        normalization="batch",
        activation="relu",
        **kwargs,
    ):
        super().__init__(normalization, activation, **kwargs)
        self.filters = _positive_int("filters", filters)
        self.kernel_size = _positive_int("kernel_size", kernel_size)
        self.strides = _positive_int("strides", strides)
        self.expansion = _positive_int("expansion", expansion)

    def build(self, input_shape):
        rank = self._spatial_rank(input_shape)
        out_channels = self.filters * self.expansion
        self.main = [
            self._conv(rank, self.filters, 1, 1, "reduce"),
            self._norm("reduce_norm"),
            self._act("reduce_act"),
            self._conv(rank, self.filters, self.kernel_size, self.strides, "conv"),
            self._norm("conv_norm"),
            self._act("conv_act"),
            self._conv(rank, out_channels, 1, 1, "expand"),
            self._norm("expand_norm"),
        ]
        self._output_shape = self._build_chain(self.main, input_shape)
        self.shortcut = []
        if self.strides != 1 or input_shape[-1] != out_channels:
            self.shortcut = [
                self._conv(rank, out_channels, 1, self.strides, "shortcut"),
                self._norm("shortcut_norm"),
            ]
            self._build_chain(self.shortcut, input_shape)
        self.out_act = self._act("out_act")

    def call(self, inputs, training=None):
        y = self._run(self.main, inputs, training)
        return self.out_act(y + self._run(self.shortcut, inputs, training))

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            expansion=self.expansion,
        )
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class DenseBlock(_Block):
    """`num_layers` norm-act-conv layers, each fed the concatenation of all before it (DenseNet).

    ```
    for i in range(num_layers):
        y = conv_k(act(norm(x)))                  # growth_rate channels
        x = concat([x, y])                        # (optionally conv_1 to 4*growth first)
    ```

    Reference:
        G. Huang, Z. Liu, L. van der Maaten and K. Weinberger, "Densely Connected
        Convolutional Networks", CVPR 2017, https://arxiv.org/abs/1608.06993.

    Args:
        num_layers: int, the number of conv layers.
        growth_rate: int, channels each layer adds.
        kernel_size: int, size of each conv. Defaults to 3.
        bottleneck: bool, put a norm-act-1x1 conv to `4 * growth_rate` channels before
            each kxk conv (DenseNet-B). Defaults to False.
        normalization: str, a `kzoo.layers.normalization` name. Defaults to `"batch"`.
        activation: str, a `kzoo.layers.activation` name. Defaults to `"relu"`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: `(batch, time, channels)` or `(batch, height, width, channels)`.
        training: bool, for batch normalization.

    Output shape:
        The input's, with `channels + num_layers * growth_rate` channels.

    Example:

    >>> import numpy as np, kzoo
    >>> block = kzoo.layers.DenseBlock(num_layers=3, growth_rate=4)
    >>> tuple(block(np.zeros((2, 10, 8), "float32")).shape)
    (2, 10, 20)
    """

    def __init__(
        self,
        num_layers,
        growth_rate,
        kernel_size=3,
        bottleneck=False,
        normalization="batch",
        activation="relu",
        **kwargs,
    ):
        super().__init__(normalization, activation, **kwargs)
        self.num_layers = _positive_int("num_layers", num_layers)
        self.growth_rate = _positive_int("growth_rate", growth_rate)
        self.kernel_size = _positive_int("kernel_size", kernel_size)
        self.bottleneck = bool(bottleneck)

    def build(self, input_shape):
        rank = self._spatial_rank(input_shape)
        self.stages = []
        shape = tuple(input_shape)
        for i in range(self.num_layers):
            stage = []
            if self.bottleneck:
                stage += [
                    self._norm(f"layer{i}_bottleneck_norm"),
                    self._act(f"layer{i}_bottleneck_act"),
                    self._conv(rank, 4 * self.growth_rate, 1, 1, f"layer{i}_bottleneck"),
                ]
            stage += [
                self._norm(f"layer{i}_norm"),
                self._act(f"layer{i}_act"),
                self._conv(rank, self.growth_rate, self.kernel_size, 1, f"layer{i}_conv"),
            ]
            self._build_chain(stage, shape)
            self.stages.append(stage)
            shape = shape[:-1] + (shape[-1] + self.growth_rate,)
        self._output_shape = shape

    def call(self, inputs, training=None):
        x = inputs
        for stage in self.stages:
            x = ops.concatenate([x, self._run(stage, x, training)], axis=-1)
        return x

    def get_config(self):
        config = super().get_config()
        config.update(
            num_layers=self.num_layers,
            growth_rate=self.growth_rate,
            kernel_size=self.kernel_size,
            bottleneck=self.bottleneck,
        )
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class TransitionBlock(_Block):
    """Norm, activation, 1x1 conv compressing the channels, then 2x pooling (DenseNet).

    The conv keeps `floor(compression * channels)` channels (at least 1); the pooling
    halves each spatial size (window 2, stride 2, "valid").

    Reference:
        G. Huang, Z. Liu, L. van der Maaten and K. Weinberger, "Densely Connected
        Convolutional Networks", CVPR 2017, https://arxiv.org/abs/1608.06993.

    Args:
        compression: float in (0, 1], the fraction of channels kept. Defaults to 0.5.
        pooling: `"average"` or `"max"`. Defaults to `"average"`.
        normalization: str, a `kzoo.layers.normalization` name. Defaults to `"batch"`.
        activation: str, a `kzoo.layers.activation` name. Defaults to `"relu"`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: `(batch, time, channels)` or `(batch, height, width, channels)`.
        training: bool, for batch normalization.

    Output shape:
        `(batch, time // 2, floor(compression * channels))` or the 2-D equivalent.

    Example:

    >>> import numpy as np, kzoo
    >>> block = kzoo.layers.TransitionBlock(compression=0.5)
    >>> tuple(block(np.zeros((2, 8, 8, 6), "float32")).shape)
    (2, 4, 4, 3)
    """

    def __init__(
        self, compression=0.5, pooling="average", normalization="batch", activation="relu", **kwargs
    ):
        super().__init__(normalization, activation, **kwargs)
        if not 0 < compression <= 1:
            raise ValueError(
                "Argument `compression` must be in (0, 1], the fraction of channels kept. "
                f"Received: compression={compression!r}."
            )
        self.compression = compression
        self.pooling = check_choice("pooling", pooling, ("average", "max"))

    def build(self, input_shape):
        rank = self._spatial_rank(input_shape)
        channels = max(1, int(self.compression * input_shape[-1]))
        self.main = [
            self._norm("norm"),
            self._act("act"),
            self._conv(rank, channels, 1, 1, "conv"),
            _POOL[(self.pooling, rank)](
                pool_size=2, strides=2, name="pool", dtype=self.dtype_policy
            ),
        ]
        self._output_shape = self._build_chain(self.main, input_shape)

    def call(self, inputs, training=None):
        return self._run(self.main, inputs, training)

    def get_config(self):
        config = super().get_config()
        config.update(compression=self.compression, pooling=self.pooling)
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class InvertedResidualBlock(_Block):
    """MobileNetV2's inverted residual: expand, depthwise, optional SE, linear bottleneck.

    ```
    y = act(norm(conv_1(x)))                      # channels * expansion (skipped if 1)
    y = act(norm(depthwise_k(y, strides)))
    y = y * sigmoid(W2 relu(W1 mean(y)))          # squeeze-excitation if se_ratio > 0
    y = norm(conv_1(y))                           # filters channels, no activation
    out = x + y if strides == 1 and channels == filters else y
    ```

    Reference:
        M. Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
        CVPR 2018, https://arxiv.org/abs/1801.04381; J. Hu, L. Shen and G. Sun,
        "Squeeze-and-Excitation Networks", CVPR 2018, https://arxiv.org/abs/1709.01507.

    Args:
        filters: int, output channels.
        kernel_size: int, size of the depthwise convolution. Defaults to 3.
        strides: int, stride of the depthwise convolution. Defaults to 1.
        expansion: int, expanded channels over input channels. Defaults to 6.
        se_ratio: float in [0, 1), squeeze-excitation bottleneck width as a fraction of
            the expanded channels; 0 turns it off. Defaults to 0.
        normalization: str, a `kzoo.layers.normalization` name. Defaults to `"batch"`.
        activation: str, a `kzoo.layers.activation` name. Defaults to `"relu6"`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: `(batch, time, channels)` or `(batch, height, width, channels)`.
        training: bool, for batch normalization.

    Output shape:
        `(batch, ceil(time / strides), filters)` or the 2-D equivalent.

    Example:

    >>> import numpy as np, kzoo
    >>> block = kzoo.layers.InvertedResidualBlock(filters=8, se_ratio=0.25)
    >>> tuple(block(np.zeros((2, 10, 8), "float32")).shape)
    (2, 10, 8)
    >>> block.use_residual
    True
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        strides=1,
        expansion=6,
        se_ratio=0.0,
        normalization="batch",
        activation="relu6",
        **kwargs,
    ):
        super().__init__(normalization, activation, **kwargs)
        self.filters = _positive_int("filters", filters)
        self.kernel_size = _positive_int("kernel_size", kernel_size)
        self.strides = _positive_int("strides", strides)
        self.expansion = _positive_int("expansion", expansion)
        if not 0 <= se_ratio < 1:
            raise ValueError(
                "Argument `se_ratio` must be in [0, 1) (0 turns squeeze-excitation off). "
                f"Received: se_ratio={se_ratio!r}."
            )
        self.se_ratio = se_ratio

    def build(self, input_shape):
        rank = self._spatial_rank(input_shape)
        channels = input_shape[-1]
        hidden = channels * self.expansion
        self.expand = []
        if self.expansion != 1:
            self.expand = [
                self._conv(rank, hidden, 1, 1, "expand"),
                self._norm("expand_norm"),
                self._act("expand_act"),
            ]
        self.depthwise = [
            _DEPTHWISE[rank](
                self.kernel_size,
                strides=self.strides,
                padding="same",
                use_bias=self._no_norm(),
                name="depthwise",
                dtype=self.dtype_policy,
            ),
            self._norm("depthwise_norm"),
            self._act("depthwise_act"),
        ]
        self.project = [self._conv(rank, self.filters, 1, 1, "project"), self._norm("project_norm")]
        shape = self._build_chain(self.expand + self.depthwise, input_shape)
        self.se = []
        if self.se_ratio > 0:
            squeezed = max(1, int(hidden * self.se_ratio))
            self.se = [
                keras.layers.Dense(
                    squeezed, activation="relu", name="se_reduce", dtype=self.dtype_policy
                ),
                keras.layers.Dense(
                    hidden, activation="sigmoid", name="se_expand", dtype=self.dtype_policy
                ),
            ]
            self._build_chain(self.se, (input_shape[0], hidden))
        self._output_shape = self._build_chain(self.project, shape)
        self.use_residual = self.strides == 1 and channels == self.filters

    def call(self, inputs, training=None):
        y = self._run(self.expand + self.depthwise, inputs, training)
        if self.se:
            spatial = list(range(1, len(y.shape) - 1))
            weights = self._run(self.se, ops.mean(y, axis=spatial), training)
            y = y * ops.reshape(weights, (-1,) + (1,) * len(spatial) + (weights.shape[-1],))
        y = self._run(self.project, y, training)
        return inputs + y if self.use_residual else y

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            expansion=self.expansion,
            se_ratio=self.se_ratio,
        )
        return config
