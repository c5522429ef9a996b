"""Transformer encoders for sequence classification, with sinusoidal positions."""

from __future__ import annotations

import math

import keras
from keras import ops

from kzoo import layers as kzoo_layers
from kzoo.errors import check_choice
from kzoo.models import heads, parts
from kzoo.registry import register

ATTENTIONS = ("multi_head", "scaled_dot_product", "additive")


@keras.saving.register_keras_serializable(package="kzoo")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """Adds the fixed sinusoidal position signal of "Attention Is All You Need".

    ```
    PE[t, 2i]     = sin(t / 10000 ** (2i / d))
    PE[t, 2i + 1] = cos(t / 10000 ** (2i / d))
    outputs = inputs * scale + PE
    ```

    The signal is computed for the length of each batch, so any length works; masks
    pass through.

    Reference:
        A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017,
        https://arxiv.org/abs/1706.03762.

    Args:
        scale: float, factor on the inputs before the signal is added (the paper uses
            sqrt(d) on embeddings). Defaults to 1.0.
        **kwargs: base `Layer` arguments.

    Input shape:
        `(batch, time, d)`.

    Output shape:
        Same as the input.

    Example:

    >>> import numpy as np
    >>> from kzoo.models.transformer import SinusoidalPositionalEncoding
    >>> out = SinusoidalPositionalEncoding()(np.zeros((1, 3, 4), "float32"))
    >>> [round(float(v), 4) for v in np.asarray(out)[0, 1]]  # t = 1
    [0.8415, 0.5403, 0.01, 0.9999]
    """

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.supports_masking = True

    def call(self, inputs, mask=None):
        d = inputs.shape[-1]
        positions = ops.cast(ops.arange(ops.shape(inputs)[1]), "float32")[:, None]
        rates = ops.convert_to_tensor(
            [1.0 / 10000.0 ** (2 * (i // 2) / d) for i in range(d)], "float32"
        )
        angles = positions * rates[None, :]  # (time, d)
        even = ops.convert_to_tensor([i % 2 == 0 for i in range(d)])
        signal = ops.where(even[None, :], ops.sin(angles), ops.cos(angles))
        return inputs * self.scale + ops.cast(signal, inputs.dtype)[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(scale=self.scale)
        return config


def encoder_layer(
    x,
    index: int,
    attention: str,
    num_heads: int,
    ff_units: int,
    dropout: float,
    attention_dropout: float,
    activation: str,
):
    """One post-norm Transformer encoder layer: x = LN(x + attention(x)); x = LN(x + FFN(x))."""
    check_choice("attention", attention, ATTENTIONS)
    d_model = x.shape[-1]
    name = f"encoder{index}"
    if attention == "multi_head":
        if d_model % num_heads:
            raise ValueError(
                f"Argument `d_model` ({d_model}) must be divisible by `num_heads` "
                f"({num_heads}) so each head gets d_model / num_heads channels. Change one."
            )
        # MultiHeadAttention reads the padding mask off its input tensor and then deletes
        # it from that tensor; attending over a new tensor (x * 1) keeps the mask on `x`
        # for the residual branch (Identity would return `x` itself).
        q = keras.layers.Rescaling(1.0, name=f"{name}_attention_input")(x)
        y = keras.layers.MultiHeadAttention(
            num_heads, d_model // num_heads, dropout=attention_dropout, name=f"{name}_attention"
        )(q, q)
    else:
        # kzoo's single-head layers: softmax(Q K^T / sqrt(d)) V, or Bahdanau's scores
        # v . tanh(W_q q + W_k k + b) with learned projections of width d_model.
        extra = {"units": d_model} if attention == "additive" else {}
        y = kzoo_layers.SelfAttention(
            attention, dropout=attention_dropout, name=f"{name}_attention", **extra
        )(x)
    y = keras.layers.Dropout(dropout, name=f"{name}_attention_dropout")(y)
    x = keras.layers.Add(name=f"{name}_attention_add")([x, y])
    x = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_attention_norm")(x)
    y = keras.layers.Dense(ff_units, name=f"{name}_ff1")(x)
    y = parts.activation(activation, f"{name}_ff_act")(y)
    y = keras.layers.Dense(d_model, name=f"{name}_ff2")(y)
    y = keras.layers.Dropout(dropout, name=f"{name}_ff_dropout")(y)
    x = keras.layers.Add(name=f"{name}_ff_add")([x, y])
    return keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_ff_norm")(x)


def check_encoder_sizes(**sizes):
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"Argument `{name}` must be a positive integer. Received: {name}={value!r}."
            )


@register("transformer")
def transformer(
    input_shape=(None, 40),
    num_classes: int = 12,
    d_model: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    ff_units: int = 128,
    attention: str = "multi_head",
    dropout: float = 0.1,
    attention_dropout: float = 0.1,
    activation: str = "relu",
    head: str = "classification",
) -> keras.Model:
    """A Transformer encoder over feature frames: projection + positions -> N x self-attention -> head.

    Zero (padded) frames are masked out of the attention and of the pooling. Each
    layer is self-attention ("multi_head": Keras's MultiHeadAttention;
    "scaled_dot_product": `kzoo.layers.ScaledDotProductAttention`, one head;
    "additive": `kzoo.layers.AdditiveAttention`, Bahdanau's with learned projections)
    -> dropout -> residual -> layer norm -> feed-forward -> dropout ->
    residual -> layer norm (the original post-norm layer).

    Reference:
        A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017,
        https://arxiv.org/abs/1706.03762; D. Bahdanau, K. Cho and Y. Bengio, "Neural
        Machine Translation by Jointly Learning to Align and Translate", ICLR 2015.

    Args:
        input_shape: (time, features); time may be None.
        num_classes: output classes (for "ctc", the tokens without the blank).
        d_model: width of the encoder (the frames are projected to it).
        num_layers: encoder layers.
        num_heads: attention heads (multi_head); must divide `d_model`.
        ff_units: width of the feed-forward layers.
        attention: "multi_head", "scaled_dot_product" or "additive" (see above).
        dropout: dropout on the inputs, after attention and after the feed-forward layer.
        attention_dropout: dropout on the attention weights.
        activation: feed-forward activation by name.
        head: "classification" (masked mean over time), "regression", "embedding" or "ctc".
    """
    heads.check_num_classes(num_classes)
    check_encoder_sizes(
        d_model=d_model, num_layers=num_layers, num_heads=num_heads, ff_units=ff_units
    )
    check_choice("attention", attention, ATTENTIONS)
    shape = heads.check_input_shape(input_shape, 2, "transformer", "(time, features)")
    inputs = keras.Input(shape, name="inputs")  # (batch, time, features)
    x = keras.layers.Masking(0.0, name="masking")(inputs)
    x = keras.layers.Dense(d_model, name="input_projection")(x)  # (batch, time, d_model)
    x = SinusoidalPositionalEncoding(scale=math.sqrt(d_model), name="positions")(x)
    x = keras.layers.Dropout(dropout, name="input_dropout")(x)
    for i in range(num_layers):
        x = encoder_layer(
            x, i, attention, num_heads, ff_units, dropout, attention_dropout, activation
        )  # (batch, time, d_model)
    outputs = heads.apply(x, head, num_classes, sequence=True)
    return keras.Model(inputs, outputs, name="transformer")
