"""Activations by name, each as a serializable layer (`activation("leaky_relu", ...)`)."""

from __future__ import annotations

import keras
from keras import ops

from kzoo import specs
from kzoo.errors import did_you_mean


@keras.saving.register_keras_serializable(package="kzoo")
class Sin(keras.layers.Layer):
    """The sine activation, `y = sin(frequency * x)` (SIREN).

    Periodic activations let small networks fit signals and their derivatives
    (implicit neural representations); SIREN uses `frequency = 30` in its first layer.

    Reference:
        V. Sitzmann et al., "Implicit Neural Representations with Periodic Activation
        Functions", NeurIPS 2020, https://arxiv.org/abs/2006.09661.

    Args:
        frequency: float, the factor applied to the input. Defaults to 1.
        **kwargs: base `Layer` arguments.

    Input shape:
        Any.

    Output shape:
        Same as the input.

    Example:

    >>> import numpy as np, kzoo
    >>> y = kzoo.layers.Sin(frequency=2.0)(np.array([0.0, np.pi / 4], "float32"))
    >>> [round(float(v), 4) for v in np.asarray(y)]
    [0.0, 1.0]
    """

    def __init__(self, frequency=1.0, **kwargs):
        super().__init__(**kwargs)
        self.frequency = frequency
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return ops.sin(self.frequency * inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(frequency=self.frequency)
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class GELU(keras.layers.Layer):
    """The Gaussian error linear unit, `y = x * Phi(x)`, as a layer with its `approximate` flag.

    `approximate=True` uses the tanh approximation
    `0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))` (BERT, GPT-2).

    Reference:
        D. Hendrycks and K. Gimpel, "Gaussian Error Linear Units (GELUs)", 2016,
        https://arxiv.org/abs/1606.08415.

    Args:
        approximate: bool, use the tanh approximation. Defaults to False.
        **kwargs: base `Layer` arguments.

    Input shape:
        Any.

    Output shape:
        Same as the input.

    Example:

    >>> import numpy as np, kzoo
    >>> y = kzoo.layers.GELU()(np.array([-1.0, 0.0, 1.0], "float32"))
    >>> [round(float(v), 4) for v in np.asarray(y)]
    [-0.1587, 0.0, 0.8413]
    """

    def __init__(self, approximate=False, **kwargs):
        super().__init__(**kwargs)
        self.approximate = bool(approximate)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return keras.activations.gelu(inputs, approximate=self.approximate)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(approximate=self.approximate)
        return config


_BASE_LAYER_ARGS = ("name", "dtype", "trainable")


def _plain(name):
    """A constructor of `keras.layers.Activation(name)`, which takes no arguments."""

    def make(**kwargs):
        extra = {k: v for k, v in kwargs.items() if k not in _BASE_LAYER_ARGS}
        if extra:
            raise ValueError(
                f"Activation {name!r} takes no arguments. Received: {extra}. "
                "Drop them, or pick an activation that has them (leaky_relu, elu, gelu, sin)."
            )
        return keras.layers.Activation(name, **kwargs)

    return make


# Config names -> layer constructors (keyword arguments go to the layer).
ACTIVATIONS = {
    "relu": keras.layers.ReLU,  # max_value, negative_slope, threshold
    "leaky_relu": keras.layers.LeakyReLU,  # negative_slope (Keras default 0.3)
    "prelu": keras.layers.PReLU,  # learned slope; shared_axes
    "elu": keras.layers.ELU,  # alpha
    "gelu": GELU,  # approximate
    "sigmoid": _plain("sigmoid"),
    "tanh": _plain("tanh"),
    "softplus": _plain("softplus"),
    "swish": _plain("swish"),
    "silu": _plain("silu"),
    "sin": Sin,  # frequency
    "linear": _plain("linear"),
}

# Other Keras activations that make sense on their own (no softmax-style axis).
_KERAS_EXTRA = (
    "celu",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "log_sigmoid",
    "mish",
    "relu6",
    "selu",
    "softsign",
    "exponential",
)


def activation(name, /, **kwargs):
    """An activation layer by name: the one place configs and blocks choose it.

    Names: `relu`, `leaky_relu`, `prelu` (a layer with a learned slope), `elu`,
    `gelu`, `sigmoid`, `tanh`, `softplus`, `swish`, `silu`, `sin`, `linear`, plus the
    other element-wise Keras activations (`selu`, `mish`, `relu6`, `hard_swish`, ...).
    `None` and `"none"` mean `linear`. The name may be a config mapping,
    `{"name": "leaky_relu", "negative_slope": 0.2}`; keyword arguments go to the layer
    (`relu`: `max_value`, `negative_slope`, `threshold`; `leaky_relu`:
    `negative_slope`; `prelu`: `shared_axes`; `elu`: `alpha`; `gelu`: `approximate`;
    `sin`: `frequency`). Every result is a serializable `keras.layers.Layer`.

    Args:
        name: str, mapping or None, the activation.
        **kwargs: arguments of the layer.

    Returns:
        A new `keras.layers.Layer`.

    Example:

    >>> import numpy as np, kzoo
    >>> layer = kzoo.layers.activation("leaky_relu", negative_slope=0.1)
    >>> [round(float(v), 4) for v in np.asarray(layer(np.array([-2.0, 3.0], "float32")))]
    [-0.2, 3.0]
    >>> kzoo.layers.activation("gleu")
    Traceback (most recent call last):
    ...
    ValueError: Unknown activation 'gleu'. Did you mean 'gelu' or 'elu' or 'silu'?
    """
    if name is None:
        name = "linear"
    key, spec_kwargs = specs.split(name, "activation")
    kwargs = {**spec_kwargs, **kwargs}
    key = key.lower()
    if key == "none":
        key = "linear"
    if key in _KERAS_EXTRA:
        return _plain(key)(**kwargs)
    if key not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation {key!r}. {did_you_mean(key, [*ACTIVATIONS, *_KERAS_EXTRA])}"
        )
    try:
        return ACTIVATIONS[key](**kwargs)
    except TypeError as error:
        raise ValueError(
            f"Bad arguments for activation {key!r}: {error}. Received: {kwargs}."
        ) from None
