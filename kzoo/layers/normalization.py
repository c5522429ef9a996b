"""Normalizations Keras lacks (instance, local response, weight) and a factory by name."""

from __future__ import annotations

import keras
from keras import ops

from kzoo import specs
from kzoo.errors import did_you_mean

GroupNormalization = keras.layers.GroupNormalization


def _check_axis(axis, rank, layer):
    if not -rank <= axis < rank:
        raise ValueError(
            f"Argument `axis` of {layer} is out of range for inputs of rank {rank}. "
            f"Received: axis={axis}. Use a value in [{-rank}, {rank - 1}]."
        )
    return axis % rank


@keras.saving.register_keras_serializable(package="kzoo")
class InstanceNormalization(keras.layers.Layer):
    """Normalizes each example and channel over its time/space axes (instance norm).

    For each example `n` and channel `c`, with the mean `mu` and biased variance
    `var` of `x[n, ..., c]` over every axis but the batch and channel axes:

    ```
    y = (x - mu) / sqrt(var + epsilon) * gamma[c] + beta[c]
    ```

    It is `torch.nn.InstanceNorm1d/2d/3d` on channels-last data (without running
    statistics: training and inference normalize alike), and
    `GroupNormalization(groups=-1)` with a mask. With a `(batch, time)` mask on
    `(batch, time, channels)` inputs the statistics use the unmasked steps only, so
    padding does not change them; the mask passes through.

    Reference:
        D. Ulyanov, A. Vedaldi and V. Lempitsky, "Instance Normalization: The Missing
        Ingredient for Fast Stylization", 2016, https://arxiv.org/abs/1607.08022.

    Args:
        axis: int, the channel axis. Defaults to -1.
        epsilon: float, added to the variance. Defaults to 1e-5 (PyTorch's).
        center: bool, learn a per-channel offset `beta`. Defaults to True.
        scale: bool, learn a per-channel gain `gamma`. Defaults to True.
            `center=False, scale=False` is PyTorch's default `affine=False`.
        beta_initializer: initializer of `beta`. Defaults to `"zeros"`.
        gamma_initializer: initializer of `gamma`. Defaults to `"ones"`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: a tensor of rank 3 or more, `(batch, ..., channels)`.
        mask: optional boolean `(batch, time)` mask for rank-3 inputs.

    Input shape:
        Any, rank >= 3.

    Output shape:
        Same as the input.

    Example:

    >>> import numpy as np, kzoo
    >>> x = np.arange(12, dtype="float32").reshape(1, 6, 2)
    >>> y = kzoo.layers.InstanceNormalization()(x)
    >>> [round(float(v), 4) for v in np.asarray(y)[0, :, 0]]
    [-1.4638, -0.8783, -0.2928, 0.2928, 0.8783, 1.4638]
    """

    def __init__(
        self,
        axis=-1,
        epsilon=1e-5,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not epsilon > 0:
            raise ValueError(f"Argument `epsilon` must be positive. Received: epsilon={epsilon!r}.")
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        if rank < 3:
            raise ValueError(
                "InstanceNormalization needs inputs of rank >= 3, (batch, ..., channels), "
                "so there are axes to normalize over. "
                f"Received: input_shape={tuple(input_shape)}."
            )
        self._axis = _check_axis(self.axis, rank, "InstanceNormalization")
        if self._axis == 0:
            raise ValueError("Argument `axis` must not be the batch axis 0. Received: axis=0.")
        channels = input_shape[self._axis]
        if channels is None and (self.center or self.scale):
            raise ValueError(
                "The channel axis of the inputs to InstanceNormalization must be known "
                f"when `center` or `scale` is on. Received: input_shape={tuple(input_shape)}."
            )
        self._reduce = [i for i in range(1, rank) if i != self._axis]
        self._param_shape = [1] * rank
        self._param_shape[self._axis] = channels
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(
                name="gamma", shape=(channels,), initializer=self.gamma_initializer
            )
        if self.center:
            self.beta = self.add_weight(
                name="beta", shape=(channels,), initializer=self.beta_initializer
            )

    def call(self, inputs, mask=None):
        # Statistics in float32 so float16 inputs do not lose the variance.
        x = ops.cast(inputs, "float32")
        if mask is not None and len(inputs.shape) == 3 and self._axis == 2:
            weights = ops.cast(mask, "float32")[:, :, None]  # (batch, time, 1)
            count = ops.maximum(ops.sum(weights, axis=1, keepdims=True), 1.0)
            mean = ops.sum(x * weights, axis=1, keepdims=True) / count
            var = ops.sum(ops.square(x - mean) * weights, axis=1, keepdims=True) / count
        else:
            mean = ops.mean(x, axis=self._reduce, keepdims=True)
            var = ops.mean(ops.square(x - mean), axis=self._reduce, keepdims=True)
        y = (x - mean) * ops.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            y = y * ops.reshape(ops.cast(self.gamma, "float32"), self._param_shape)
        if self.beta is not None:
            y = y + ops.reshape(ops.cast(self.beta, "float32"), self._param_shape)
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=keras.initializers.serialize(self.beta_initializer),
            gamma_initializer=keras.initializers.serialize(self.gamma_initializer),
        )
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalization across channels (AlexNet), as `tf.nn.local_response_normalization`.

    Each value is divided by a power of the sum of squares of its neighbours along
    the last (channel) axis:

    ```
    sqr_sum[..., d] = sum(x[..., d - depth_radius : d + depth_radius + 1] ** 2)
    y = x / (bias + alpha * sqr_sum) ** beta
    ```

    Same semantics and defaults as `tf.nn.local_response_normalization` (which
    does not divide `alpha` by the window size, unlike `torch.nn.LocalResponseNorm`),
    but for channels-last inputs of any rank and on every Keras backend. Computed in
    float32.

    Reference:
        A. Krizhevsky, I. Sutskever and G. Hinton, "ImageNet Classification with Deep
        Convolutional Neural Networks", NeurIPS 2012, section 3.3.

    Args:
        depth_radius: int, half-width of the channel window. Defaults to 5.
        bias: float, the offset (`k` in the paper). Defaults to 1.
        alpha: float, the scale of the sum of squares. Defaults to 1.
        beta: float, the exponent. Defaults to 0.5.
        **kwargs: base `Layer` arguments.

    Input shape:
        Any, `(batch, ..., channels)`.

    Output shape:
        Same as the input.

    Example:

    >>> import numpy as np, kzoo
    >>> y = kzoo.layers.LocalResponseNormalization(depth_radius=1)(np.ones((1, 3), "float32"))
    >>> [round(float(v), 4) for v in np.asarray(y)[0]]
    [0.5774, 0.5, 0.5774]
    """

    def __init__(self, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, **kwargs):
        super().__init__(**kwargs)
        if isinstance(depth_radius, bool) or not isinstance(depth_radius, int) or depth_radius < 0:
            raise ValueError(
                "Argument `depth_radius` must be a non-negative integer. "
                f"Received: depth_radius={depth_radius!r}."
            )
        self.depth_radius = depth_radius
        self.bias = bias
        self.alpha = alpha
        self.beta = beta
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                "LocalResponseNormalization needs inputs of rank >= 2, (batch, ..., channels). "
                f"Received: input_shape={tuple(input_shape)}."
            )

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        channels = x.shape[-1]
        r = self.depth_radius
        sq = ops.square(x)
        pad = [[0, 0]] * (len(x.shape) - 1) + [[r, r]]
        padded = ops.pad(sq, pad)
        # A sum of 2r + 1 shifted slices: exact (no cumulative-sum cancellation).
        if channels is None:
            channels = ops.shape(x)[-1]
        sqr_sum = padded[..., 0:channels]
        for shift in range(1, 2 * r + 1):
            sqr_sum = sqr_sum + padded[..., shift : shift + channels]
        y = x * ops.power(self.bias + self.alpha * sqr_sum, -self.beta)
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            depth_radius=self.depth_radius, bias=self.bias, alpha=self.alpha, beta=self.beta
        )
        return config


_WEIGHT_NORM_LAYERS = (
    keras.layers.Dense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
)


@keras.saving.register_keras_serializable(package="kzoo")
class WeightNormalization(keras.layers.Wrapper):
    """Reparametrizes a Dense or Conv layer's kernel as a direction and a length.

    Each output unit's weight vector is `w = g * v / ||v||`, with the wrapped layer's
    kernel as `v` and a new per-unit gain `g` (initialized to `||v||`, so the wrapped
    layer starts unchanged). Gradient descent then adjusts length and direction
    separately, which speeds up and stabilizes training. Since `g` is per output unit,
    the layer computes `t = op(x, v / ||v||)` once and scales `t` by `g`.

    With `data_init=True` (Salimans & Kingma, section 3) the first call with
    `training=True` measures the mean `mu` and standard deviation `sigma` of `t`
    over the batch and sets two non-trainable per-unit vectors so that the layer's
    pre-activations start with zero mean and unit variance:
    `y = g * (s * t + c) + bias` with `s = 1 / sigma`, `c = -mu / sigma` (`g` then
    starts at 1 rather than `||v||`). Keeping `s` and `c` non-trainable makes the
    initialization work inside `fit` on every backend.

    Reference:
        T. Salimans and D. P. Kingma, "Weight Normalization: A Simple Reparameterization
        to Accelerate Training of Deep Neural Networks", NeurIPS 2016,
        https://arxiv.org/abs/1602.07868.

    Args:
        layer: a `keras.layers.Dense`, `Conv1D`, `Conv2D` or `Conv3D` layer.
        data_init: bool, initialize from the first training batch. Defaults to False.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: the wrapped layer's inputs.
        training: bool, whether the call is a training one (data-dependent init).

    Input shape:
        The wrapped layer's.

    Output shape:
        The wrapped layer's.

    Example:

    >>> import numpy as np, keras, kzoo
    >>> layer = kzoo.layers.WeightNormalization(keras.layers.Dense(3))
    >>> tuple(layer(np.ones((2, 4), "float32")).shape)
    (2, 3)
    >>> sorted(w.name for w in layer.trainable_weights)
    ['bias', 'g', 'kernel']
    """

    def __init__(self, layer, data_init=False, **kwargs):
        if not isinstance(layer, _WEIGHT_NORM_LAYERS) or isinstance(
            layer, keras.layers.Conv1DTranspose
        ):
            names = ", ".join(cls.__name__ for cls in _WEIGHT_NORM_LAYERS)
            raise ValueError(
                f"WeightNormalization wraps one of: {names}. "
                f"Received: layer={type(layer).__name__}. Wrap the Dense or Conv layer itself."
            )
        super().__init__(layer, **kwargs)
        self.data_init = bool(data_init)

    def build(self, input_shape):
        super().build(input_shape)
        kernel = self.layer.kernel
        units = kernel.shape[-1]
        self._is_dense = isinstance(self.layer, keras.layers.Dense)
        rank = len(input_shape)
        channels_first = not self._is_dense and self.layer.data_format == "channels_first"
        self._channel_axis = 1 if channels_first else rank - 1
        self._param_shape = [1] * rank
        self._param_shape[self._channel_axis] = units
        self._kernel_axes = list(range(len(kernel.shape) - 1))
        norm = ops.sqrt(ops.sum(ops.square(ops.cast(kernel, "float32")), axis=self._kernel_axes))
        # g starts at ||v|| (the wrapped layer unchanged), or at 1 when the first batch
        # sets the scale instead.
        norm_value = ops.convert_to_numpy(ops.ones_like(norm) if self.data_init else norm)
        self.g = self.add_weight(
            name="g",
            shape=(units,),
            initializer=lambda shape, dtype=None: ops.convert_to_tensor(norm_value, dtype),
        )
        if self.data_init:
            self.init_scale = self.add_weight(
                name="init_scale", shape=(units,), initializer="ones", trainable=False
            )
            self.init_shift = self.add_weight(
                name="init_shift", shape=(units,), initializer="zeros", trainable=False
            )
            self.initialized = self.add_weight(
                name="initialized", shape=(), initializer="zeros", trainable=False
            )

    def _op(self, inputs, kernel):
        layer = self.layer
        if self._is_dense:
            return ops.matmul(inputs, kernel)
        padding = layer.padding
        if padding == "causal":
            left = layer.dilation_rate[0] * (layer.kernel_size[0] - 1)
            pad = [[0, 0], [left, 0], [0, 0]]
            if layer.data_format == "channels_first":
                pad = [[0, 0], [0, 0], [left, 0]]
            inputs = ops.pad(inputs, pad)
            padding = "valid"
        return ops.conv(
            inputs,
            kernel,
            strides=list(layer.strides),
            padding=padding,
            dilation_rate=layer.dilation_rate,
            data_format=layer.data_format,
        )

    def normalized_kernel(self):
        """The float32 kernel `g * v / ||v||` the layer computes with."""
        v = ops.cast(self.layer.kernel, "float32")
        norm = ops.sqrt(ops.sum(ops.square(v), axis=self._kernel_axes, keepdims=True))
        return v / ops.maximum(norm, 1e-12) * ops.cast(self.g, "float32")

    def call(self, inputs, training=None):
        v = ops.cast(self.layer.kernel, "float32")
        norm = ops.sqrt(ops.sum(ops.square(v), axis=self._kernel_axes, keepdims=True))
        direction = ops.cast(v / ops.maximum(norm, 1e-12), self.compute_dtype)
        t = self._op(inputs, direction)  # pre-activation of a unit-norm kernel
        g = ops.reshape(ops.cast(self.g, t.dtype), self._param_shape)
        if self.data_init:
            scale, shift = self.init_scale, self.init_shift
            if training:
                reduce = [i for i in range(len(t.shape)) if i != self._channel_axis]
                t32 = ops.cast(t, "float32")
                mean = ops.mean(t32, axis=reduce)
                std = ops.sqrt(
                    ops.mean(ops.square(t32 - ops.reshape(mean, self._param_shape)), axis=reduce)
                )
                new_scale = 1.0 / (std + 1e-6)
                done = ops.cast(self.initialized, "float32") > 0.5
                scale = ops.where(done, ops.cast(self.init_scale, "float32"), new_scale)
                shift = ops.where(done, ops.cast(self.init_shift, "float32"), -mean * new_scale)
                self.init_scale.assign(scale)
                self.init_shift.assign(shift)
                self.initialized.assign(1.0)
            scale = ops.reshape(ops.cast(scale, t.dtype), self._param_shape)
            shift = ops.reshape(ops.cast(shift, t.dtype), self._param_shape)
            t = t * scale + shift
        outputs = t * g
        if self.layer.use_bias:
            outputs = outputs + ops.reshape(ops.cast(self.layer.bias, t.dtype), self._param_shape)
        if self.layer.activation is not None:
            outputs = self.layer.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(data_init=self.data_init)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # Keras's Wrapper.from_config pops "layer" from the caller's dict; work on a copy.
        return super().from_config(dict(config), custom_objects=custom_objects)


# Config names -> constructors. "weight" needs `layer=`; "none" gives an Identity layer.
NORMALIZATIONS = {
    "batch": keras.layers.BatchNormalization,
    "layer": keras.layers.LayerNormalization,
    "group": keras.layers.GroupNormalization,
    "instance": InstanceNormalization,
    "lrn": LocalResponseNormalization,
    "weight": WeightNormalization,
    "none": keras.layers.Identity,
}
_ALIASES = {
    "batch_normalization": "batch",
    "layer_normalization": "layer",
    "group_normalization": "group",
    "instance_normalization": "instance",
    "local_response_normalization": "lrn",
    "weight_normalization": "weight",
    "identity": "none",
}


def normalization(name, /, **kwargs):
    """A normalization layer by name: the one place configs and blocks choose it.

    Names: `"batch"`, `"layer"`, `"group"` (Keras's `BatchNormalization`,
    `LayerNormalization`, `GroupNormalization`), `"instance"`, `"lrn"` and
    `"weight"` (kzoo's; `"weight"` needs `layer=` the Dense/Conv layer to wrap), their
    long forms (`"batch_normalization"`, ...), and `None`/`"none"`, which return a
    `keras.layers.Identity` layer, so callers can always call the result. The name may
    also be a config mapping, `{"name": "group", "groups": 4}`. Keyword arguments go
    to the layer's constructor.

    Args:
        name: str, mapping or None, the normalization to build.
        **kwargs: arguments of the layer.

    Returns:
        A new `keras.layers.Layer`.

    Example:

    >>> import kzoo
    >>> type(kzoo.layers.normalization("instance", epsilon=1e-3)).__name__
    'InstanceNormalization'
    >>> type(kzoo.layers.normalization(None)).__name__
    'Identity'
    >>> kzoo.layers.normalization("batchnorm")
    Traceback (most recent call last):
    ...
    ValueError: Unknown normalization 'batchnorm'. Did you mean 'batch' or 'batch_normalization'?
    """
    if name is None:
        name = "none"
    key, spec_kwargs = specs.split(name, "normalization")
    kwargs = {**spec_kwargs, **kwargs}
    key = _ALIASES.get(key.lower(), key.lower())
    if key not in NORMALIZATIONS:
        choices = [*NORMALIZATIONS, *_ALIASES]
        raise ValueError(f"Unknown normalization {key!r}. {did_you_mean(key, choices)}")
    if key == "weight" and not isinstance(kwargs.get("layer"), keras.layers.Layer):
        raise ValueError(
            'normalization("weight") wraps a layer: pass the Dense or Conv layer as '
            f"`layer=`. Received: layer={kwargs.get('layer')!r}."
        )
    try:
        return NORMALIZATIONS[key](**kwargs)
    except TypeError as error:
        raise ValueError(
            f"Bad arguments for normalization {key!r}: {error}. Received: {kwargs}."
        ) from None


def is_weight_normalization(name) -> bool:
    """Whether a normalization name (or config mapping) is weight normalization, which
    wraps the Dense/Conv layer before it rather than following it as a layer of its own.

    >>> is_weight_normalization("weight"), is_weight_normalization({"name": "weight"})
    (True, True)
    >>> is_weight_normalization("batch"), is_weight_normalization(None)
    (False, False)
    """
    key = name.get("name") if isinstance(name, dict) else name
    return isinstance(key, str) and _ALIASES.get(key.lower(), key.lower()) == "weight"
