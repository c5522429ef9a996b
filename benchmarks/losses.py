"""Loss cases: kzoo's losses against the closest Keras built-in.

Each side trains the same tiny model, `Dense(num_classes)` whose output is the
logits, with `train_on_batch` compiled with `jit_compile=True` (XLA on
TensorFlow), so forward + backward of the loss dominates and framework overhead
is the same on both sides. A loss that XLA cannot compile falls back to
`jit_compile=False` on both sides, and the table says so.
"""

from __future__ import annotations

import keras
import numpy as np

import kzoo
from benchmarks.common import (
    PAIRS_PER_REPEAT,
    Comparison,
    comparison_table,
    random_batch,
    timed_pair,
)

TARGET = 1.1


def _logits_model(x, num_classes: int, loss, jit_compile) -> keras.Model:
    inputs = keras.Input(x.shape[1:])
    logits = keras.layers.Dense(num_classes, name="logits")(inputs)
    model = keras.Model(inputs, logits)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss, jit_compile=jit_compile)
    return model


def _compare(name, x, num_classes, ours_loss, y_ours, theirs_loss, y_theirs, repeats):
    """Rows for one loss: both sides with XLA, or, if kzoo's side cannot be compiled by
    XLA, both without it plus a row against the reference with XLA."""
    failure = None
    try:
        ours = _logits_model(x, num_classes, ours_loss, True)
        ours.train_on_batch(x, y_ours)
    except Exception as error:  # noqa: BLE001 - XLA refusals come as many types
        failure = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:160]}"
        print(f"  kzoo side fails with jit_compile=True: {failure}", flush=True)
        ours = _logits_model(x, num_classes, ours_loss, False)
    theirs = _logits_model(x, num_classes, theirs_loss, failure is None)
    a, b = timed_pair(
        lambda: ours.train_on_batch(x, y_ours),
        lambda: theirs.train_on_batch(x, y_theirs),
        repeats * PAIRS_PER_REPEAT,
    )
    rows = [Comparison(f"{name} (jit_compile={failure is None})", a, b, TARGET)]
    if failure is not None:
        theirs_xla = _logits_model(x, num_classes, theirs_loss, True)
        a, b = timed_pair(
            lambda: ours.train_on_batch(x, y_ours),
            lambda: theirs_xla.train_on_batch(x, y_theirs),
            repeats * PAIRS_PER_REPEAT,
        )
        rows.append(Comparison(f"{name} (kzoo without XLA, Keras with XLA)", a, b, TARGET))
    return rows, failure


def run(repeats: int, quick: bool) -> list[str]:
    rows, failures = [], []
    batch, frames, features = (8, 100, 40) if quick else (16, 200, 40)

    # CTC: full-length inputs and labels (no padding), blank 0, pad -1 on both sides.
    classes, label_length = 32, frames // 5
    x = random_batch((batch, frames, features))
    labels = np.random.default_rng(2).integers(1, classes, (batch, label_length)).astype("int32")
    found, failure = _compare(
        f"CTCLoss vs keras.losses.CTC, {batch} x {frames} frames x {classes} classes, "
        f"labels of {label_length}",
        x,
        classes,
        kzoo.losses.CTCLoss(),
        labels,
        keras.losses.CTC(),
        labels,
        repeats,
    )
    rows += found
    failures += [f"{found[0].name.split(' vs ')[0]}: {failure}"] if failure else []
    for row in found:
        print(row.row(), flush=True)

    # Focal: sparse labels (kzoo) against one-hot labels (Keras), same alpha and gamma.
    examples, classes = (256, 64) if quick else (1024, 100)
    x = random_batch((examples, 64))
    sparse = np.random.default_rng(3).integers(0, classes, examples).astype("int32")
    one_hot = np.eye(classes, dtype="float32")[sparse]
    found, failure = _compare(
        f"SparseCategoricalFocalCrossentropy vs keras CategoricalFocalCrossentropy "
        f"(one-hot), {examples} x {classes} classes",
        x,
        classes,
        kzoo.losses.SparseCategoricalFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=True),
        sparse,
        keras.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=True),
        one_hot,
        repeats,
    )
    rows += found
    failures += [f"{found[0].name.split(' vs ')[0]}: {failure}"] if failure else []
    for row in found:
        print(row.row(), flush=True)

    # Masked NLL without padding against SparseCategoricalCrossentropy over frames.
    classes = 50
    x = random_batch((batch, frames, features))
    frame_labels = np.random.default_rng(4).integers(0, classes, (batch, frames)).astype("int32")
    found, failure = _compare(
        f"MaskedSparseCategoricalCrossentropy vs keras SparseCategoricalCrossentropy, "
        f"{batch} x {frames} frames x {classes} classes, no padding",
        x,
        classes,
        kzoo.losses.MaskedSparseCategoricalCrossentropy(from_logits=True),
        frame_labels,
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        frame_labels,
        repeats,
    )
    rows += found
    failures += [f"{found[0].name.split(' vs ')[0]}: {failure}"] if failure else []
    for row in found:
        print(row.row(), flush=True)
    note = (
        "A `Dense` layer whose output is the logits, trained with `train_on_batch` "
        "(SGD, `jit_compile=True` on both sides where possible); forward + backward "
        "of the loss dominates the step. Steps take a few milliseconds, so each sample "
        f"is about half a second of them, and a row is the median of "
        f"{repeats * PAIRS_PER_REPEAT} pairs."
    )
    for failure in failures:
        note += f"\n\nXLA refuses kzoo's {failure}"
    return comparison_table("Losses", "s per step", rows, note)
