"""Recurrent sequence models: RNN, GRU, LSTM, bidirectional and stacked LSTM, Li-GRU.

Every model here reads a sequence of feature frames (log-mel, MFCC) or samples, shape
(time, features), through `keras.layers.Masking(0.0)` so the zero-padded frames the
data pipeline appends are skipped by the recurrent layers and by the pooling of the
head; then stacked recurrent layers (uni- or bidirectional) -> an optional dense layer
-> a head by name (classification, regression, embedding, or per-frame CTC).
"""

from __future__ import annotations

import keras

from kzoo.models import heads, parts
from kzoo.registry import register


def _check_positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"Argument `{name}` must be a positive integer. Received: {name}={value!r}."
        )
    return value


def recurrent_classifier(
    *,
    name: str,
    rnn: str,
    input_shape,
    num_classes: int,
    units: int,
    num_layers: int,
    bidirectional: bool,
    dropout: float,
    dense_units: int,
    activation: str,
    head: str,
) -> keras.Model:
    """The shared body of the recurrent families (see the module docstring)."""
    heads.check_num_classes(num_classes)
    shape = heads.check_input_shape(input_shape, 2, name, "(time, features)")
    _check_positive("units", units)
    _check_positive("num_layers", num_layers)
    inputs = keras.Input(shape, name="inputs")  # (batch, time, features)
    x = keras.layers.Masking(0.0, name="masking")(inputs)
    for i in range(num_layers):
        # Between stacked layers the input dropout regularises; the first layer reads features.
        x = parts.recurrent(rnn, units, f"{rnn}{i}", True, bidirectional, dropout if i else 0.0)(x)
    # x: (batch, time, units * directions)
    if dense_units:
        x = keras.layers.Dense(dense_units, name="dense")(x)
        x = parts.activation(activation, "dense_act")(x)  # (batch, time, dense_units)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = heads.apply(x, head, num_classes, sequence=True)
    return keras.Model(inputs, outputs, name=name)


@register("rnn")
def rnn(
    input_shape=(None, 40),
    num_classes: int = 12,
    units: int = 64,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.1,
    dense_units: int = 0,
    activation: str = "relu",
    head: str = "classification",
) -> keras.Model:
    """A simple (Elman) recurrent network over feature frames: masking -> SimpleRNN x N -> head.

    Reference:
        J. L. Elman, "Finding Structure in Time", Cognitive Science 14, 1990.

    Args:
        input_shape: (time, features); time may be None. Frames that are all zero
            (padding) are masked.
        num_classes: output classes (for "ctc", the tokens without the blank).
        units: units of each recurrent layer (per direction).
        num_layers: how many recurrent layers are stacked.
        bidirectional: whether each recurrent layer reads both ways.
        dropout: input dropout of the stacked layers after the first, and before the head.
        dense_units: width of a dense layer after the recurrent stack (0 leaves it out).
        activation: activation of that dense layer, by name.
        head: "classification" (masked mean over time), "regression", "embedding", or
            "ctc" (per-frame outputs for CTC training).
    """
    return recurrent_classifier(
        name="rnn",
        rnn="simple_rnn",
        input_shape=input_shape,
        num_classes=num_classes,
        units=units,
        num_layers=num_layers,
        bidirectional=bidirectional,
        dropout=dropout,
        dense_units=dense_units,
        activation=activation,
        head=head,
    )


@register("gru")
def gru(
    input_shape=(None, 40),
    num_classes: int = 12,
    units: int = 64,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.1,
    dense_units: int = 0,
    activation: str = "relu",
    head: str = "classification",
) -> keras.Model:
    """A gated recurrent unit network over feature frames: masking -> GRU x N -> head.

    Reference:
        K. Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder for
        Statistical Machine Translation", EMNLP 2014, https://arxiv.org/abs/1406.1078.

    Args:
        input_shape: (time, features); time may be None. Frames that are all zero
            (padding) are masked.
        num_classes: output classes (for "ctc", the tokens without the blank).
        units: units of each recurrent layer (per direction).
        num_layers: how many recurrent layers are stacked.
        bidirectional: whether each recurrent layer reads both ways.
        dropout: input dropout of the stacked layers after the first, and before the head.
        dense_units: width of a dense layer after the recurrent stack (0 leaves it out).
        activation: activation of that dense layer, by name.
        head: "classification" (masked mean over time), "regression", "embedding", or
            "ctc" (per-frame outputs for CTC training).
    """
    return recurrent_classifier(
        name="gru",
        rnn="gru",
        input_shape=input_shape,
        num_classes=num_classes,
        units=units,
        num_layers=num_layers,
        bidirectional=bidirectional,
        dropout=dropout,
        dense_units=dense_units,
        activation=activation,
        head=head,
    )


@register("lstm")
def lstm(
    input_shape=(None, 40),
    num_classes: int = 12,
    units: int = 64,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.1,
    dense_units: int = 0,
    activation: str = "relu",
    head: str = "classification",
) -> keras.Model:
    """A long short-term memory network over feature frames: masking -> LSTM x N -> head.

    Reference:
        S. Hochreiter and J. Schmidhuber, "Long Short-Term Memory", Neural Computation
        9(8), 1997.

    Args:
        input_shape: (time, features); time may be None. Frames that are all zero
            (padding) are masked.
        num_classes: output classes (for "ctc", the tokens without the blank).
        units: units of each recurrent layer (per direction).
        num_layers: how many recurrent layers are stacked.
        bidirectional: whether each recurrent layer reads both ways.
        dropout: input dropout of the stacked layers after the first, and before the head.
        dense_units: width of a dense layer after the recurrent stack (0 leaves it out).
        activation: activation of that dense layer, by name.
        head: "classification" (masked mean over time), "regression", "embedding", or
            "ctc" (per-frame outputs for CTC training).
    """
    return recurrent_classifier(
        name="lstm",
        rnn="lstm",
        input_shape=input_shape,
        num_classes=num_classes,
        units=units,
        num_layers=num_layers,
        bidirectional=bidirectional,
        dropout=dropout,
        dense_units=dense_units,
        activation=activation,
        head=head,
    )


@register("bilstm")
def bilstm(
    input_shape=(None, 40),
    num_classes: int = 12,
    units: int = 64,
    num_layers: int = 1,
    dropout: float = 0.1,
    dense_units: int = 0,
    activation: str = "relu",
    head: str = "classification",
) -> keras.Model:
    """A bidirectional LSTM over feature frames: masking -> Bidirectional(LSTM) x N -> head.

    Reference:
        A. Graves and J. Schmidhuber, "Framewise phoneme classification with
        bidirectional LSTM and other neural network architectures", Neural Networks
        18(5-6), 2005.

    Args:
        input_shape: (time, features); time may be None. Frames that are all zero
            (padding) are masked.
        num_classes: output classes (for "ctc", the tokens without the blank).
        units: units of each recurrent layer (per direction).
        num_layers: how many recurrent layers are stacked.
        dropout: input dropout of the stacked layers after the first, and before the head.
        dense_units: width of a dense layer after the recurrent stack (0 leaves it out).
        activation: activation of that dense layer, by name.
        head: "classification" (masked mean over time), "regression", "embedding", or
            "ctc" (per-frame outputs for CTC training).
    """
    return recurrent_classifier(
        name="bilstm",
        rnn="lstm",
        input_shape=input_shape,
        num_classes=num_classes,
        units=units,
        num_layers=num_layers,
        bidirectional=True,
        dropout=dropout,
        dense_units=dense_units,
        activation=activation,
        head=head,
    )


@register("stacked_lstm")
def stacked_lstm(
    input_shape=(None, 40),
    num_classes: int = 12,
    units: int = 64,
    num_layers: int = 3,
    bidirectional: bool = False,
    dropout: float = 0.2,
    dense_units: int = 64,
    activation: str = "relu",
    head: str = "classification",
) -> keras.Model:
    """A deep (stacked) LSTM over feature frames: masking -> LSTM x 3 -> dense -> head.

    Reference:
        A. Graves, A. Mohamed and G. Hinton, "Speech Recognition with Deep Recurrent
        Neural Networks", ICASSP 2013, https://arxiv.org/abs/1303.5778.

    Args:
        input_shape: (time, features); time may be None. Frames that are all zero
            (padding) are masked.
        num_classes: output classes (for "ctc", the tokens without the blank).
        units: units of each recurrent layer (per direction).
        num_layers: how many recurrent layers are stacked.
        bidirectional: whether each recurrent layer reads both ways.
        dropout: input dropout of the stacked layers after the first, and before the head.
        dense_units: width of a dense layer after the recurrent stack (0 leaves it out).
        activation: activation of that dense layer, by name.
        head: "classification" (masked mean over time), "regression", "embedding", or
            "ctc" (per-frame outputs for CTC training).
    """
    return recurrent_classifier(
        name="stacked_lstm",
        rnn="lstm",
        input_shape=input_shape,
        num_classes=num_classes,
        units=units,
        num_layers=num_layers,
        bidirectional=bidirectional,
        dropout=dropout,
        dense_units=dense_units,
        activation=activation,
        head=head,
    )


@register("ligru")
def ligru(
    input_shape=(None, 40),
    num_classes: int = 12,
    units: int = 64,
    num_layers: int = 2,
    bidirectional: bool = True,
    dropout: float = 0.15,
    dense_units: int = 0,
    activation: str = "leaky_relu",
    head: str = "classification",
    stabilised: bool = False,
) -> keras.Model:
    """A light GRU network over feature frames: masking -> Li-GRU x N -> head.

    Li-GRU drops the reset gate of the GRU, uses a ReLU candidate and batch-normalises
    the input projections; `stabilised=True` uses SLiGRU (layer-normalised recurrent
    term), which stays stable on long sequences.

    Reference:
        M. Ravanelli, P. Brakel, M. Omologo and Y. Bengio, "Light Gated Recurrent Units
        for Speech Recognition", IEEE TETCI 2(2), 2018, https://arxiv.org/abs/1803.10225;
        A. Moumen and T. Parcollet, "Stabilising and Accelerating Light Gated Recurrent
        Units for Automatic Speech Recognition", ICASSP 2023.

    Args:
        input_shape: (time, features); time may be None. Frames that are all zero
            (padding) are masked.
        num_classes: output classes (for "ctc", the tokens without the blank).
        units: units of each recurrent layer (per direction).
        num_layers: how many recurrent layers are stacked.
        bidirectional: whether each recurrent layer reads both ways.
        dropout: input dropout of the stacked layers after the first, and before the head.
        dense_units: width of a dense layer after the recurrent stack (0 leaves it out).
        activation: activation of that dense layer, by name.
        head: "classification" (masked mean over time), "regression", "embedding", or
            "ctc" (per-frame outputs for CTC training).
        stabilised: use SLiGRU instead of Li-GRU.
    """
    return recurrent_classifier(
        name="ligru",
        rnn="sligru" if stabilised else "ligru",
        input_shape=input_shape,
        num_classes=num_classes,
        units=units,
        num_layers=num_layers,
        bidirectional=bidirectional,
        dropout=dropout,
        dense_units=dense_units,
        activation=activation,
        head=head,
    )
