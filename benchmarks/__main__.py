"""`make bench`: kzoo against its references, side by side in one process.

Each case times kzoo's operation and the reference's on the same shapes, as the
median of several runs after warm-up (min and max shown), and prints the ratio
kzoo / reference. The table is also written to benchmarks/results.md, which the
README quotes. Run with `python -m benchmarks [--repeats N]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np

import kzoo


def timed(step, repeats: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def train_step(layer_factory, x):
    """A compiled one-layer model's train_on_batch, the unit both sides are timed with."""
    inputs = keras.Input(x.shape[1:])
    outputs = layer_factory()(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    y = np.zeros(model.output.shape[1:], "float32")[None].repeat(len(x), 0)
    return lambda: model.train_on_batch(x, y)


def case_ligru(repeats):
    x = np.random.default_rng(0).standard_normal((16, 200, 40)).astype("float32")
    return (
        "LiGRU(256) train step vs keras GRU(256), batch 16 x 200 steps x 40",
        timed(train_step(lambda: kzoo.layers.LiGRU(256, return_sequences=True), x), repeats),
        timed(train_step(lambda: keras.layers.GRU(256, return_sequences=True), x), repeats),
        0.8,
    )


def case_sinc(repeats):
    x = np.random.default_rng(0).standard_normal((16, 16000, 1)).astype("float32")
    return (
        "SincConv1D(80, 251) fwd+bwd vs Conv1D(80, 251), 16 x 1 s at 16 kHz",
        timed(train_step(lambda: kzoo.layers.SincConv1D(80, 251, sample_rate=16000), x), repeats),
        timed(train_step(lambda: keras.layers.Conv1D(80, 251, padding="same"), x), repeats),
        None,
    )


def case_import(repeats):
    def importing(module):
        return lambda: subprocess.run([sys.executable, "-c", f"import {module}"], check=True)

    return (
        "import kzoo vs import keras (fresh interpreter)",
        timed(importing("kzoo"), max(3, repeats // 2), warmup=1),
        timed(importing("keras"), max(3, repeats // 2), warmup=1),
        None,
    )


CASES = (case_ligru, case_sinc, case_import)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    lines = [
        f"Backend: {keras.backend.backend()}, Keras {keras.__version__}; median (min-max) seconds of {args.repeats} runs after warm-up.",
        "",
        "| case | kzoo | reference | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for case in CASES:
        name, ours, theirs, target = case(args.repeats)
        ratio = statistics.median(ours) / statistics.median(theirs)
        verdict = "" if target is None else (f"<= {target} ok" if ratio <= target else f"<= {target} MISSED")
        lines.append(
            f"| {name} | {statistics.median(ours):.4f} ({min(ours):.4f}-{max(ours):.4f}) "
            f"| {statistics.median(theirs):.4f} ({min(theirs):.4f}-{max(theirs):.4f}) | {ratio:.2f}x | {verdict} |"
        )
        print(lines[-1], flush=True)
    (Path(__file__).parent / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
