"""Zoo overhead: `kzoo.models.get(name)` against the same network by hand.

Each hand-written model below mirrors its kzoo builder at the default zoo config
(same layers, sizes and order; kzoo's own layers where Keras has none, e.g.
LiGRU and SincConv1D) and is compiled with the same optimizer, loss and
metrics, so any difference is what the zoo adds: the registry, config loading,
the recipe and the builders' glue. Measured as training throughput
(`train_on_batch`, examples per second) at the batch shown, with three times the pairs
of most other cases (the expected ratio is 1.0 and the target only 5 % below it).
"""

from __future__ import annotations

import keras

import kzoo
from benchmarks.common import (
    PAIRS_PER_REPEAT,
    Comparison,
    comparison_table,
    random_batch,
    random_labels,
    timed_pair,
    train_step,
)
from kzoo.models.sincnet import Absolute

TARGET = 0.95
NUM_CLASSES = 12
# Each side's network is the same, so the expected ratio is 1.0 and the target is 5 %
# below it. On this shared machine, 24 pairs of the mlp's samples of 150 steps (about
# 1.6 s each) gave per-pair ratios from 0.89 to 1.24 (median 1.01): hence three times
# the pairs.


def _head(x):
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32")(x)


def hand_cnn_mlp_rnn(frames=31, features=40):
    inputs = keras.Input((frames, features))
    x = inputs
    for filters in (64, 64):
        x = keras.layers.Conv1D(filters, 5, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.LeakyReLU()(x)
        x = keras.layers.MaxPooling1D(2, padding="same")(x)
    x = keras.layers.Dense(128)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LeakyReLU()(x)
    x = keras.layers.Dropout(0.15)(x)
    x = keras.layers.Bidirectional(keras.layers.GRU(96, return_sequences=True, dropout=0.0))(x)
    x = keras.layers.Dense(128)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LeakyReLU()(x)
    x = keras.layers.Dropout(0.15)(x)
    return keras.Model(inputs, _head(x)), keras.optimizers.Adam(0.002)


def hand_sincnet(samples=2400):
    inputs = keras.Input((samples, 1))
    x = keras.layers.LayerNormalization(axis=1, center=False, scale=False)(inputs)
    x = kzoo.layers.SincConv1D(40, 129, sample_rate=8000, padding="valid")(x)
    x = Absolute()(x)
    for filters in (None, 40, 40):
        if filters is not None:
            x = keras.layers.Conv1D(filters, 5)(x)
        x = keras.layers.MaxPooling1D(3)(x)
        x = keras.layers.LayerNormalization()(x)
        x = keras.layers.LeakyReLU()(x)
        x = keras.layers.Dropout(0.1)(x)
    x = keras.layers.Flatten()(x)
    for units in (128,):
        x = keras.layers.Dense(units)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.LeakyReLU()(x)
        x = keras.layers.Dropout(0.1)(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs), keras.optimizers.Adam(0.002)


def _recurrent(layer_factory, layers, bidirectional, dropout, frames=31, features=40):
    inputs = keras.Input((frames, features))
    x = keras.layers.Masking(0.0)(inputs)
    for i in range(layers):
        layer = layer_factory(dropout if i else 0.0)
        x = keras.layers.Bidirectional(layer)(x) if bidirectional else layer(x)
    x = keras.layers.Dropout(dropout)(x)
    return keras.Model(inputs, _head(x))


def hand_gru():
    model = _recurrent(
        lambda d: keras.layers.GRU(64, return_sequences=True, dropout=d), 1, False, 0.1
    )
    return model, keras.optimizers.Adam(0.002)


def hand_ligru():
    model = _recurrent(
        lambda d: kzoo.layers.LiGRU(64, return_sequences=True, dropout=d), 2, True, 0.15
    )
    return model, keras.optimizers.Adam(0.002)


def hand_mlp(frames=31, features=40):
    inputs = keras.Input((frames, features))
    x = keras.layers.Flatten()(inputs)
    for units in (256, 256):
        x = keras.layers.Dense(units)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs), keras.optimizers.Adam(0.001)


HAND_WRITTEN = {
    "cnn_mlp_rnn": hand_cnn_mlp_rnn,
    "sincnet": hand_sincnet,
    "gru": hand_gru,
    "ligru": hand_ligru,
    "mlp": hand_mlp,
}


def run(repeats: int, quick: bool) -> list[str]:
    rows = []
    batch = 32 if quick else 64
    for name, build in HAND_WRITTEN.items():
        ours = kzoo.models.get(name)
        theirs, optimizer = build()
        theirs.compile(
            optimizer=optimizer,
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile="auto",
        )
        if ours.count_params() != theirs.count_params():
            print(
                f"  warning: {name}: kzoo has {ours.count_params()} parameters, "
                f"the hand-written copy {theirs.count_params()}"
            )
        x = random_batch((batch, *ours.input_shape[1:]))
        y = random_labels((batch,), NUM_CLASSES)
        a, b = timed_pair(
            train_step(ours, x, y),
            train_step(theirs, x, y),
            repeats * PAIRS_PER_REPEAT,
        )
        rows.append(
            Comparison(
                f"{name}: kzoo.models.get vs by hand, batch {batch} x {ours.input_shape[1:]}, "
                f"{ours.count_params():,} params",
                [batch / t for t in a],
                [batch / t for t in b],
                TARGET,
                higher_is_better=True,
                digits=0,
            )
        )
        print(rows[-1].row(), flush=True)
    pairs = f"Median (min-max) of {repeats * PAIRS_PER_REPEAT} pairs per row."
    note = __doc__.split("\n\n")[1].rstrip() + " " + pairs
    return comparison_table("Zoo overhead", "examples/s", rows, note)
