"""CRDNN-style models: convolution blocks -> MLP -> recurrent layers -> MLP -> head."""

from __future__ import annotations

import keras

from kzoo import layers as kzoo_layers
from kzoo.models import heads, parts
from kzoo.registry import register


@register("cnn_mlp_rnn")
def cnn_mlp_rnn(
    input_shape=(None, 40),
    num_classes: int = 12,
    conv_filters=(64, 64),
    kernel_size: int = 5,
    pool_size: int = 2,
    dense_units: int = 128,
    rnn: str = "gru",
    rnn_units: int = 128,
    rnn_layers: int = 1,
    bidirectional: bool = True,
    head_units: int = 128,
    activation: str = "leaky_relu",
    normalization: str | None = "batch",
    dropout: float = 0.15,
    head: str = "classification",
    mask_padding: bool = False,
) -> keras.Model:
    """A CRDNN (SpeechBrain's name): conv blocks -> MLP -> recurrent layers -> MLP -> head.

    For sequences of feature frames (log-mel, MFCC) or raw audio samples, shape
    (time, features). Each conv block is Conv1D -> normalization -> activation ->
    max-pooling over time; the recurrent layer is chosen by name ("gru", "lstm",
    "simple_rnn", "ligru", "sligru"), optionally bidirectional and stacked.

    Reference:
        Ravanelli et al., "SpeechBrain: A General-Purpose Speech Toolkit", 2021 (CRDNN).

    Args:
        input_shape: (time, features); time may be None.
        num_classes: output classes (for "ctc", the tokens without the blank).
        conv_filters: filters of each conv block.
        kernel_size: conv kernel size over time.
        pool_size: max-pooling over time after each conv block (1 keeps the length).
        dense_units: width of the MLP between the convs and the recurrent layers.
        rnn: recurrent layer by name.
        rnn_units: units per direction.
        rnn_layers: how many recurrent layers are stacked.
        bidirectional: whether each recurrent layer reads both ways.
        head_units: width of the MLP before the output.
        activation: activation by name.
        normalization: "batch", "layer", "group", "instance", "lrn", None, or "weight"
            (weight normalization of each Dense/Conv layer instead of a layer after it).
        dropout: dropout after the MLPs and between recurrent layers.
        head: "classification" (pools over time), "regression", "embedding", or "ctc"
            (a per-frame output for CTC training).
        mask_padding: treat the all-zero frames that end an input as padding (kzoo's
            audio features zero the frames past each utterance's end; see
            `kzoo.layers.PaddingMask`): the recurrent layers skip them and the time pool
            averages real frames only, so a prediction is the same however much padding
            follows an utterance (beyond the few frames the convolutions reach). The conv
            blocks' batch statistics still include padding frames in training.
    """
    heads.check_num_classes(num_classes)
    shape = heads.check_input_shape(input_shape, 2, "cnn_mlp_rnn", "(time, features)")
    if not isinstance(mask_padding, bool):
        raise ValueError(
            "Argument `mask_padding` must be true or false (skip the zero padding that ends "
            f"each input). Received: mask_padding={mask_padding!r}."
        )
    inputs = keras.Input(shape, name="inputs")  # (batch, time, features)
    x = inputs
    mask = None
    if mask_padding:
        blocks = len(conv_filters) if pool_size > 1 else 0
        mask = kzoo_layers.PaddingMask(pool_size, blocks, name="padding_mask")(inputs)
    for i, filters in enumerate(conv_filters):
        conv = keras.layers.Conv1D(filters, kernel_size, padding="same", name=f"conv{i}")
        x = parts.normalized(conv, normalization, f"conv{i}_norm")(x)
        x = parts.activation(activation, f"conv{i}_act")(x)
        if pool_size > 1:
            x = keras.layers.MaxPooling1D(pool_size, padding="same", name=f"conv{i}_pool")(x)
    # x: (batch, time / pool_size ** blocks, filters)
    dense_in = keras.layers.Dense(dense_units, name="dense_in")
    x = parts.normalized(dense_in, normalization, "dense_in_norm")(x)
    x = parts.activation(activation, "dense_in_act")(x)
    x = keras.layers.Dropout(dropout, name="dense_in_dropout")(x)
    for i in range(rnn_layers):
        x = parts.recurrent(
            rnn, rnn_units, f"{rnn}{i}", True, bidirectional, dropout if i else 0.0
        )(x, mask=mask)
    # x: (batch, frames, rnn_units * directions)
    dense_out = keras.layers.Dense(head_units, name="dense_out")
    x = parts.normalized(dense_out, normalization, "dense_out_norm")(x)
    x = parts.activation(activation, "dense_out_act")(x)
    x = keras.layers.Dropout(dropout, name="dense_out_dropout")(x)
    outputs = heads.apply(x, head, num_classes, sequence=True, mask=mask)
    return keras.Model(inputs, outputs, name="cnn_mlp_rnn")
