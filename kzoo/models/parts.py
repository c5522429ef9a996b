"""Named building steps the model families share: activation, normalization, recurrent
layer, global pooling."""

from __future__ import annotations

import keras

from kzoo import layers as kzoo_layers
from kzoo.errors import check_choice
from kzoo.layers.normalization import is_weight_normalization

RECURRENT = ("simple_rnn", "gru", "lstm", "ligru", "sligru")
GLOBAL_POOLINGS = ("average", "max", "flatten")
_GLOBAL_POOL = {
    "average": {1: keras.layers.GlobalAveragePooling1D, 2: keras.layers.GlobalAveragePooling2D},
    "max": {1: keras.layers.GlobalMaxPooling1D, 2: keras.layers.GlobalMaxPooling2D},
}


def check_sizes(allow_empty: bool = False, **sizes) -> None:
    """Raises unless each of `sizes` is a positive integer or a list of them (a list may
    be empty when `allow_empty`)."""
    for name, value in sizes.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if (not values and not allow_empty) or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values
        ):
            raise ValueError(
                f"Argument `{name}` must be a positive integer (or a list of them). "
                f"Received: {name}={value!r}."
            )


def activation(kind: str, layer_name: str) -> keras.layers.Layer:
    """An activation layer by name (see `kzoo.layers.activation`)."""
    return kzoo_layers.activation(kind, name=layer_name)


def normalization(kind: str | None, layer_name: str) -> keras.layers.Layer:
    """A normalization layer by name (see `kzoo.layers.normalization`); None is identity,
    and so is `"weight"`, which sits on the Dense/Conv layers themselves (`normalized`)."""
    if is_weight_normalization(kind):
        return keras.layers.Identity(name=layer_name)
    return kzoo_layers.normalization(kind, name=layer_name)


def uses_bias(kind) -> bool:
    """Whether a Dense/Conv layer before normalization `kind` needs its bias: a layer that
    normalizes its outputs (batch, layer, ...) makes one redundant; none or weight doesn't."""
    return kind in (None, "none") or is_weight_normalization(kind)


def normalized(layer: keras.layers.Layer, kind, norm_name: str):
    """`layer` then the normalization `kind`, as one callable; `"weight"` wraps `layer` instead.

    Weight normalization reparametrizes the Dense/Conv layer's own kernel rather than
    normalizing its outputs, so it replaces the layer where the others follow it.

    >>> import keras, numpy as np
    >>> step = normalized(keras.layers.Dense(3, name="dense0"), "weight", "dense0_norm")
    >>> tuple(step(np.ones((2, 4), "float32")).shape), step.name
    ((2, 3), 'dense0_norm')
    """
    if is_weight_normalization(kind):
        return kzoo_layers.normalization(kind, layer=layer, name=norm_name)
    norm = normalization(kind, norm_name)
    return lambda x: norm(layer(x))


def recurrent(
    kind: str,
    units: int,
    layer_name: str,
    return_sequences: bool,
    bidirectional: bool,
    dropout: float = 0.0,
) -> keras.layers.Layer:
    """A recurrent layer by name, optionally bidirectional."""
    check_choice("rnn", kind, RECURRENT)
    arguments = {"return_sequences": return_sequences, "dropout": dropout}
    if kind == "simple_rnn":
        layer = keras.layers.SimpleRNN(units, **arguments)
    elif kind == "gru":
        layer = keras.layers.GRU(units, **arguments)
    elif kind == "lstm":
        layer = keras.layers.LSTM(units, **arguments)
    elif kind == "ligru":
        layer = kzoo_layers.LiGRU(units, **arguments)
    else:
        layer = kzoo_layers.SLiGRU(units, **arguments)
    if bidirectional:
        return keras.layers.Bidirectional(layer, name=layer_name)
    layer.name = layer_name
    return layer


def global_pool(x, kind: str, rank: int):
    """Feature maps (batch, *spatial, channels) -> (batch, features): "average" or "max"
    over the `rank` spatial axes, or "flatten" (every position kept; needs fixed sizes)."""
    check_choice("global_pooling", kind, GLOBAL_POOLINGS)
    if kind != "flatten":
        return _GLOBAL_POOL[kind][rank](name="global_pool")(x)
    if any(d is None for d in x.shape[1:]):
        raise ValueError(
            "global_pooling='flatten' needs a fixed input size. Received a None axis in "
            f"{tuple(x.shape[1:])}. Set `input_shape`, or use global_pooling='average'."
        )
    return keras.layers.Flatten(name="flatten")(x)
