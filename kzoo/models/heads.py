"""Model heads shared by the families: classification, regression, per-frame CTC, embedding."""

from __future__ import annotations

import keras

from kzoo.errors import check_choice

HEADS = ("classification", "regression", "ctc", "embedding")


def check_num_classes(num_classes) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            "Argument `num_classes` must be a positive integer (the number of output classes, "
            f"or of output values for a regression head). Received: num_classes={num_classes!r}."
        )
    return num_classes


def check_input_shape(input_shape, rank: int, model: str, what: str) -> tuple:
    """Input shapes without the batch axis; `rank` is how many axes the model needs."""
    try:
        shape = tuple(None if d is None else int(d) for d in input_shape)
    except TypeError:
        raise ValueError(
            f"Argument `input_shape` must be a tuple such as (100, 40). Received: {input_shape!r}."
        ) from None
    if len(shape) != rank:
        raise ValueError(
            f"Model {model!r} takes inputs of shape {what} ({rank} axes without the batch axis). "
            f"Received: input_shape={shape}. Change `input_shape`, or pick a model for this "
            "data (`kzoo list`)."
        )
    return shape


def apply(x, head: str, num_classes: int, sequence: bool = False, mask=None):
    """The output layer of `head` on the features `x`.

    Args:
        x: (batch, features), or (batch, time, features) when `sequence` is True.
        head: "classification" (softmax over `num_classes`), "regression" (`num_classes`
            linear outputs), "embedding" (L2-normalised `num_classes`-dim vectors, for
            triplet training) or "ctc" (per-frame logits over `num_classes` tokens and the
            blank, last: index `num_classes`; kzoo's CTCLoss, ctc_decode and
            TokenErrorRate take logits, with `blank_index=num_classes`).
        sequence: whether `x` still has a time axis; "ctc" needs one, the others pool it.
        mask: optional boolean (batch, time) mask of the real frames of `x`; the time
            pool averages those only.
    """
    check_choice("head", head, HEADS)
    check_num_classes(num_classes)
    if head == "ctc":
        if not sequence:
            raise ValueError(
                "head='ctc' needs a model that keeps the time axis (e.g. cnn_mlp_rnn, gru, "
                "ligru). Received a model that pools it away; use head='classification'."
            )
        # Per-frame logits (CTC losses normalise them themselves); the last index is the blank.
        return keras.layers.Dense(num_classes + 1, dtype="float32", name="ctc_head")(x)
    if sequence:
        x = keras.layers.GlobalAveragePooling1D(name="time_pool")(x, mask=mask)
    if head == "classification":
        return keras.layers.Dense(
            num_classes, activation="softmax", dtype="float32", name="classifier"
        )(x)
    if head == "regression":
        return keras.layers.Dense(num_classes, dtype="float32", name="regressor")(x)
    x = keras.layers.Dense(num_classes, dtype="float32", name="embedding")(x)
    return keras.layers.UnitNormalization(name="embedding_l2")(x)
