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


# Run in a fresh interpreter: prints the seconds `import keras` took, then those `import
# kzoo` took on top of it (kzoo imports keras first, so this is everything kzoo adds).
_IMPORT_CLOCK = (
    "import time; t0 = time.perf_counter(); import keras; t1 = time.perf_counter(); "
    "import kzoo; t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
)


def import_times(repeats: int, warmup: int = 1) -> tuple[list[float], list[float]]:
    """Seconds of `import keras` + `import kzoo` and of `import keras` alone, per interpreter.

    Both are taken in one fresh interpreter, `import keras` first: the difference of a
    pair is what `import kzoo` adds, timed over a fraction of a second, so a busy host
    moves it far less than it moves the 6-9 s of two separate imports.
    """
    ours, theirs = [], []
    for i in range(warmup + repeats):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT_CLOCK], check=True, capture_output=True, text=True
        ).stdout
        keras_seconds, extra = parse_import_clock(out)
        if i >= warmup:
            ours.append(keras_seconds + extra)
            theirs.append(keras_seconds)
    return ours, theirs


def parse_import_clock(stdout: str) -> tuple[float, float]:
    """(seconds of `import keras`, seconds `import kzoo` added) from `_IMPORT_CLOCK`'s line."""
    fields = stdout.strip().splitlines()[-1].split() if stdout.strip() else []
    if len(fields) != 2:
        raise RuntimeError(f"The import clock printed {stdout!r}; expected two numbers.")
    return float(fields[0]), float(fields[1])


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
        ours, theirs = import_times(repeats=7)
        rows.append(
            Comparison(
                "import kzoo vs import keras (s; 7 fresh interpreters, each timing "
                "`import keras`, then `import kzoo`)",
                ours,
                theirs,
                max_extra=0.3,
            )
        )
        print(rows[-1].row(), flush=True)
    return comparison_table("Layers", "s per step", rows)
