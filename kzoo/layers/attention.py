"""Attention layers: scaled dot-product, additive (Bahdanau), self-attention by name.

`kzoo.layers.attention(name, **kwargs)` builds any of them, and Keras's
`MultiHeadAttention`, from the names in `ATTENTIONS`.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kzoo.errors import check_choice

MultiHeadAttention = keras.layers.MultiHeadAttention

# Masked scores get this before the softmax (computed in float32), so fully masked rows
# stay finite (uniform weights) instead of NaN.
_MASKED_SCORE = -1e9


def _check_rank(layer, name, tensor):
    if tensor is not None and len(tensor.shape) != 3:
        raise ValueError(
            f"{type(layer).__name__} expects `{name}` of rank 3, (batch, time, features). "
            f"Received: {name} of shape {tuple(tensor.shape)}. Add or merge axes with "
            "keras.layers.Reshape first."
        )


class _Attention(keras.layers.Layer):
    """Shared masking, softmax, dropout and output of the single-head attention layers."""

    def __init__(self, causal=False, dropout=0.0, seed=None, **kwargs):
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(
                "Argument `dropout` is the fraction of attention weights dropped and must be "
                f"in [0, 1). Received: dropout={dropout!r}. Try dropout=0.1."
            )
        super().__init__(**kwargs)
        self.causal = causal
        self.dropout = float(dropout)
        self.seed = seed
        self.supports_masking = True
        if self.dropout > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)

    def _scores(self, query, key):
        raise NotImplementedError

    def _fast_path(self, query, key, value, mask):
        return None

    def _attention_mask(self, query, key, value_mask, key_mask, attention_mask):
        """Boolean (batch or 1, Tq, Tk) mask of the allowed query-key pairs, or None."""
        masks = []
        if attention_mask is not None:
            attention_mask = ops.cast(attention_mask, "bool")
            if len(attention_mask.shape) == 2:
                attention_mask = attention_mask[None]
            masks.append(attention_mask)
        for m in (value_mask, key_mask):
            if m is not None:
                masks.append(ops.expand_dims(ops.cast(m, "bool"), 1))  # (batch, 1, Tk)
        if self.causal:
            rows = ops.expand_dims(ops.arange(ops.shape(query)[1]), 1)
            cols = ops.expand_dims(ops.arange(ops.shape(key)[1]), 0)
            masks.append(ops.expand_dims(rows >= cols, 0))  # step i sees keys 0..i
        if not masks:
            return None
        mask = masks[0]
        for m in masks[1:]:
            mask = ops.logical_and(mask, m)
        return mask

    def call(
        self,
        query,
        value=None,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        mask=None,
    ):
        if value is None and mask is not None:
            # Self-attention on a lone query: Keras passes its mask as `mask`.
            query_mask = mask if query_mask is None else query_mask
            value_mask = mask if value_mask is None else value_mask
        value = query if value is None else value
        key = value if key is None else key
        for name, tensor in (("query", query), ("value", value), ("key", key)):
            _check_rank(self, name, tensor)
        mask = self._attention_mask(query, key, value_mask, key_mask, attention_mask)

        use_dropout = bool(training) and self.dropout > 0
        outputs = None
        if not return_attention_scores and not use_dropout:
            outputs = self._fast_path(query, key, value, mask)
        if outputs is None:
            scores = ops.cast(self._scores(query, key), "float32")  # (batch, Tq, Tk)
            if mask is not None:
                scores = ops.where(mask, scores, _MASKED_SCORE)
            weights = ops.cast(ops.softmax(scores, axis=-1), self.compute_dtype)
            attended = weights
            if use_dropout:
                attended = keras.random.dropout(weights, self.dropout, seed=self.seed_generator)
            outputs = ops.matmul(attended, ops.cast(value, self.compute_dtype))
        if query_mask is not None:
            # Padded query steps output zeros, as keras.layers.Attention does.
            outputs = outputs * ops.expand_dims(ops.cast(query_mask, outputs.dtype), -1)
        if return_attention_scores:
            return outputs, weights
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update({"causal": self.causal, "dropout": self.dropout, "seed": self.seed})
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class ScaledDotProductAttention(_Attention):
    """Scaled dot-product attention, `softmax(Q K^T / sqrt(d)) V`.

    Each query attends over the keys; the weights are a softmax of the scaled dot
    products, and the output is the weighted sum of the values:

    ```
    A = softmax(Q K^T * scale + M),   scale = 1 / sqrt(d_k)
    O = A V
    ```

    `M` is 0 where attention is allowed and a large negative number where a mask
    forbids it (padded keys, an explicit `attention_mask`, future steps with
    `causal=True`). Padded query steps output zeros. The layer has no weights; use
    `keras.layers.MultiHeadAttention` for learned projections. Without dropout or
    returned scores it calls `keras.ops.dot_product_attention`, which uses fused
    kernels where the backend has them.

    Reference:
    - [Vaswani et al., 2017. Attention Is All You Need](https://arxiv.org/abs/1706.03762)

    Args:
        causal: bool, forbid query step i to attend keys after step i. Default False.
        dropout: float in [0, 1), dropout on the attention weights in training.
            Default 0.
        scale: float or None, factor of the dot products. Default None means
            `1 / sqrt(d_k)`.
        seed: int, seed of the dropout. Default None.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: tensor `(batch, Tq, d_k)`.
        value: tensor `(batch, Tk, d_v)`; default `query` (self-attention).
        key: tensor `(batch, Tk, d_k)`; default `value`.
        query_mask: boolean `(batch, Tq)`; False steps output zeros. Taken from the
            query's Keras mask when not given.
        value_mask: boolean `(batch, Tk)`; False keys get no weight. Taken from the
            value's Keras mask when not given.
        key_mask: boolean `(batch, Tk)`, combined with `value_mask`.
        attention_mask: boolean `(batch, Tq, Tk)` or `(Tq, Tk)`; False pairs get no
            weight.
        return_attention_scores: bool, also return the attention weights
            `(batch, Tq, Tk)`.
        training: bool, training mode (dropout).
        mask: boolean `(batch, Tq)`, the Keras mask of a lone `query`
            (self-attention); used as query and value mask.

    Output shape:
        `(batch, Tq, d_v)`, and `(batch, Tq, Tk)` weights with
        `return_attention_scores=True`.

    Example:

    >>> import numpy as np
    >>> import kzoo
    >>> query = np.ones((2, 3, 4), "float32")
    >>> key = np.ones((2, 5, 4), "float32")
    >>> value = np.arange(2 * 5 * 6, dtype="float32").reshape(2, 5, 6)
    >>> layer = kzoo.layers.ScaledDotProductAttention(causal=True)
    >>> out, weights = layer(query, value, key=key, return_attention_scores=True)
    >>> tuple(out.shape), tuple(weights.shape)
    ((2, 3, 6), (2, 3, 5))
    >>> [round(float(w), 2) for w in weights[0, 1]]  # step 1 sees keys 0 and 1 equally
    [0.5, 0.5, 0.0, 0.0, 0.0]
    """

    def __init__(self, causal=False, dropout=0.0, scale=None, seed=None, **kwargs):
        if scale is not None and not float(scale) > 0:
            raise ValueError(
                "Argument `scale` multiplies the dot products and must be positive or None "
                f"(1 / sqrt(d_k)). Received: scale={scale!r}."
            )
        super().__init__(causal=causal, dropout=dropout, seed=seed, **kwargs)
        self.scale = None if scale is None else float(scale)

    def _scale(self, key):
        return self.scale if self.scale is not None else 1.0 / math.sqrt(key.shape[-1])

    def _scores(self, query, key):
        dtype = self.compute_dtype
        q = ops.cast(query, dtype)
        k = ops.cast(key, dtype)
        return ops.matmul(q, ops.transpose(k, (0, 2, 1))) * ops.cast(self._scale(k), dtype)

    def _fast_path(self, query, key, value, mask):
        if query.shape[-1] != value.shape[-1]:
            return None  # the fused kernels need equal query and value sizes
        dtype = self.compute_dtype
        q, k, v = (ops.expand_dims(ops.cast(t, dtype), 2) for t in (query, key, value))
        if mask is not None:
            mask = ops.expand_dims(mask, 1)  # (batch, heads=1, Tq, Tk)
        out = ops.dot_product_attention(q, k, v, mask=mask, scale=self._scale(key))
        return ops.squeeze(out, 2)

    def get_config(self):
        config = super().get_config()
        config["scale"] = self.scale
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class AdditiveAttention(_Attention):
    """Additive (Bahdanau) attention with learned query and key projections.

    The score of query `q_i` and key `k_j` is a one-hidden-layer network:

    ```
    e_ij = v^T tanh(W_q q_i + W_k k_j + b)
    A    = softmax(e + M)          (over j)
    O    = A V
    ```

    with `W_q` the `query_kernel` `(d_q, units)`, `W_k` the `key_kernel`
    `(d_k, units)`, `b` the `bias` `(units,)` and `v` the `score_kernel`
    `(units,)`. `M` masks as in `ScaledDotProductAttention`. Unlike
    `keras.layers.AdditiveAttention` (which adds the raw query and key), the
    projections are learned, as in Bahdanau et al.

    Reference:
    - [Bahdanau et al., 2015. Neural Machine Translation by Jointly Learning to
      Align and Translate](https://arxiv.org/abs/1409.0473)

    Args:
        units: int, size of the hidden layer of the score network.
        use_bias: bool, learn `b`. Default True.
        causal: bool, forbid query step i to attend keys after step i. Default False.
        dropout: float in [0, 1), dropout on the attention weights in training.
        kernel_initializer: initializer of the kernels. Default "glorot_uniform".
        kernel_regularizer: regularizer of the kernels (a penalty added to the loss).
            Default None.
        seed: int, seed of the dropout. Default None.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        As `kzoo.layers.ScaledDotProductAttention`.

    Output shape:
        `(batch, Tq, d_v)`, and `(batch, Tq, Tk)` weights with
        `return_attention_scores=True`.

    Example:

    >>> import numpy as np
    >>> import kzoo
    >>> decoder = np.ones((2, 3, 4), "float32")
    >>> encoder = np.ones((2, 7, 6), "float32")
    >>> layer = kzoo.layers.AdditiveAttention(units=8)
    >>> out, weights = layer(decoder, encoder, return_attention_scores=True)
    >>> tuple(out.shape), tuple(weights.shape)
    ((2, 3, 6), (2, 3, 7))
    >>> round(float(weights[0, 0].numpy().sum()), 4)
    1.0
    """

    def __init__(
        self,
        units,
        use_bias=True,
        causal=False,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        seed=None,
        **kwargs,
    ):
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(
                "Argument `units` must be a positive integer (the hidden size of the score "
                f"network). Received: units={units!r}. Try units=128."
            )
        super().__init__(causal=causal, dropout=dropout, seed=seed, **kwargs)
        self.units = units
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        self.query_kernel = self.add_weight(
            name="query_kernel",
            shape=(query_shape[-1], self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.key_kernel = self.add_weight(
            name="key_kernel",
            shape=(key_shape[-1], self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
            if self.use_bias
            else None
        )
        self.score_kernel = self.add_weight(
            name="score_kernel",
            shape=(self.units,),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )

    def _scores(self, query, key):
        dtype = self.compute_dtype
        q = ops.matmul(ops.cast(query, dtype), ops.cast(self.query_kernel, dtype))
        k = ops.matmul(ops.cast(key, dtype), ops.cast(self.key_kernel, dtype))
        hidden = ops.expand_dims(q, 2) + ops.expand_dims(k, 1)  # (batch, Tq, Tk, units)
        if self.bias is not None:
            hidden = hidden + ops.cast(self.bias, dtype)
        return ops.sum(ops.tanh(hidden) * ops.cast(self.score_kernel, dtype), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            }
        )
        return config


ATTENTIONS = {
    "additive": AdditiveAttention,
    "multi_head": MultiHeadAttention,
    "scaled_dot_product": ScaledDotProductAttention,
}

_BASE_LAYER_ARGS = ("name", "dtype", "trainable", "autocast")


def attention(name, **kwargs):
    """Builds an attention layer from its name in `kzoo.layers.ATTENTIONS`.

    Args:
        name: `"scaled_dot_product"`, `"additive"` or `"multi_head"`
            (`keras.layers.MultiHeadAttention`).
        **kwargs: the layer's constructor arguments.

    Returns:
        A new layer.

    Example:

    >>> import kzoo
    >>> type(kzoo.layers.attention("additive", units=16)).__name__
    'AdditiveAttention'
    """
    check_choice("name", name, ATTENTIONS)
    return ATTENTIONS[name](**kwargs)


_WEIGHT_SETTINGS = (
    "kernel_initializer",
    "kernel_regularizer",
    "bias_initializer",
    "bias_regularizer",
)


@keras.saving.register_keras_serializable(package="kzoo")
class SelfAttention(keras.layers.Layer):
    """Attention of a sequence on itself, with the attention layer chosen by name.

    Calls the attention layer named by `attention` (see `kzoo.layers.ATTENTIONS`)
    with the input as query, key and value, and the input's mask as query and
    value mask, so padded steps are neither attended to nor produce output.

    Args:
        attention: `"scaled_dot_product"` (default), `"additive"` or `"multi_head"`.
        causal: bool, each step attends only to itself and earlier steps.
            Default False.
        **kwargs: the attention layer's arguments (e.g. `num_heads`, `key_dim` for
            `"multi_head"`, `units` for `"additive"`) and base layer arguments.

    Call arguments:
        inputs: tensor `(batch, time, features)`.
        mask: boolean `(batch, time)`; taken from the input's Keras mask.
        attention_mask: boolean `(batch, time, time)`, extra allowed pairs.
        return_attention_scores: bool, also return the attention weights.
        training: bool, training mode.

    Output shape:
        `(batch, time, features)` for the single-head layers and for
        `"multi_head"` (its output projection maps back to `features`).

    Example:

    >>> import numpy as np
    >>> import kzoo
    >>> x = np.ones((2, 5, 8), "float32")
    >>> layer = kzoo.layers.SelfAttention("multi_head", num_heads=2, key_dim=4, causal=True)
    >>> tuple(layer(x).shape)
    (2, 5, 8)
    """

    def __init__(self, attention="scaled_dot_product", causal=False, **kwargs):
        check_choice("attention", attention, ATTENTIONS)
        base = {k: kwargs.pop(k) for k in _BASE_LAYER_ARGS if k in kwargs}
        super().__init__(**base)
        self.attention = attention
        self.causal = causal
        self.attention_kwargs = kwargs
        self.supports_masking = True
        inner = dict(kwargs, dtype=self.dtype_policy, name="attention")
        if attention != "multi_head":
            inner["causal"] = causal
        self.inner = ATTENTIONS[attention](**inner)

    def build(self, input_shape):
        _check_rank(self, "inputs", keras.KerasTensor(input_shape))
        if self.attention == "multi_head":
            self.inner.build(input_shape, input_shape)
        elif self.attention == "additive":
            self.inner.build(input_shape, input_shape, input_shape)

    def call(
        self, inputs, mask=None, attention_mask=None, return_attention_scores=False, training=None
    ):
        _check_rank(self, "inputs", inputs)
        kwargs = {}
        if self.attention == "multi_head":
            kwargs["use_causal_mask"] = self.causal
        return self.inner(
            inputs,
            inputs,
            key=inputs,
            query_mask=mask,
            value_mask=mask,
            attention_mask=attention_mask,
            return_attention_scores=return_attention_scores,
            training=training,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"attention": self.attention, "causal": self.causal})
        config.update(self.attention_kwargs)
        # The inner layer's weight settings as they are now (kzoo.weight_settings may have
        # set them after construction), so a saved model keeps them.
        inner = self.inner.get_config()
        config.update({key: inner[key] for key in _WEIGHT_SETTINGS if key in inner})
        return config
