"""Layer-level cases: Li-GRU against Keras's GRU, SincConv1D against Conv1D, import time."""

from __future__ import annotations

import subprocess
import sys

import keras
import numpy as np

import kzoo
from benchmarks.common import Comparison, comparison_table, random_batch, timed_pair


def one_layer_step(layer_factory, x):
    """A compiled one-layer model's train_on_batch, the unit both sides are timed with."""
    inputs = keras.Input(x.shape[1:])
    outputs = layer_factory()(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    y = np.zeros(model.output.shape[1:], "float32")[None].repeat(len(x), 0)
    return lambda: model.train_on_batch(x, y)


def run(repeats: int, quick: bool) -> list[str]:
    rows = []
    x = random_batch((16, 200, 40))
    ours, theirs = timed_pair(
        one_layer_step(lambda: kzoo.layers.LiGRU(256, return_sequences=True), x),
        one_layer_step(lambda: keras.layers.GRU(256, return_sequences=True), x),
        repeats,
    )
    rows.append(
        Comparison(
            "LiGRU(256) train step vs keras GRU(256), batch 16 x 200 steps x 40",
            ours,
            theirs,
            0.8,
        )
    )
    print(rows[-1].row(), flush=True)

    x = random_batch((16, 16000, 1))
    ours, theirs = timed_pair(
        one_layer_step(lambda: kzoo.layers.SincConv1D(80, 251, sample_rate=16000), x),
        one_layer_step(lambda: keras.layers.Conv1D(80, 251, padding="same"), x),
        repeats,
    )
    rows.append(
        Comparison(
            "SincConv1D(80, 251) fwd+bwd vs Conv1D(80, 251), 16 x 1 s at 16 kHz", ours, theirs
        )
    )
    print(rows[-1].row(), flush=True)

    if not quick:

        def importing(module):
            return lambda: subprocess.run([sys.executable, "-c", f"import {module}"], check=True)

        # Alternating fresh interpreters; the target is a difference, <= 0.3 s.
        ours, theirs = timed_pair(importing("kzoo"), importing("keras"), repeats=7, warmup=1)
        rows.append(
            Comparison(
                "import kzoo vs import keras (fresh interpreter, s)", ours, theirs, max_extra=0.3
            )
        )
        print(rows[-1].row(), flush=True)
    return comparison_table("Layers", "s per step", rows)
