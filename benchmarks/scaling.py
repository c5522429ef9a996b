"""Scaling: LiGRU(256) training-step time against batch size and sequence length.

A one-layer model (40 features -> LiGRU(256), all steps returned, MSE, SGD) is
built per shape and timed with `train_on_batch`; the table gives the median
milliseconds per step and the plot both the time per step and the time per
frame (step time / (batch x length)), which stays flat when the layer scales
linearly.
"""

from __future__ import annotations

import statistics

import numpy as np

import kzoo
from benchmarks.common import random_batch, timed
from benchmarks.layers import one_layer_step

BATCHES = (8, 16, 32)
LENGTHS = (100, 200, 400)


def run(repeats: int, quick: bool, plot=None) -> list[str]:
    batches = BATCHES[:2] if quick else BATCHES
    lengths = LENGTHS[:2] if quick else LENGTHS
    grid = np.zeros((len(batches), len(lengths)))
    spreads = {}
    for i, batch in enumerate(batches):
        for j, length in enumerate(lengths):
            x = random_batch((batch, length, 40))
            step = one_layer_step(lambda: kzoo.layers.LiGRU(256, return_sequences=True), x)
            times = timed(step, min(repeats, 3), warmup=1)
            grid[i, j] = statistics.median(times)
            spreads[batch, length] = (min(times), max(times))
            print(f"  batch {batch}, length {length}: {grid[i, j] * 1e3:.0f} ms", flush=True)
    lines = [
        "## Scaling",
        "",
        __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        "| batch \\ length | " + " | ".join(str(n) for n in lengths) + " |",
        "|---|" + "---|" * len(lengths),
    ]
    for i, batch in enumerate(batches):
        cells = [
            f"{grid[i, j] * 1e3:.0f} ms ({spreads[batch, n][0] * 1e3:.0f}-{spreads[batch, n][1] * 1e3:.0f})"
            for j, n in enumerate(lengths)
        ]
        lines.append(f"| {batch} | " + " | ".join(cells) + " |")
    per_frame = grid / (np.array(batches)[:, None] * np.array(lengths)[None, :])
    lines += [
        "",
        "Microseconds per frame (step time / (batch x length)): "
        + "; ".join(
            f"batch {b}: " + ", ".join(f"{per_frame[i, j] * 1e6:.0f}" for j in range(len(lengths)))
            for i, b in enumerate(batches)
        )
        + ".",
    ]
    if plot is not None:
        _plot(plot, batches, lengths, grid, per_frame)
        lines += ["", f"![LiGRU scaling]({plot.name})"]
    return lines + [""]


def _plot(path, batches, lengths, grid, per_frame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for i, batch in enumerate(batches):
        left.plot(lengths, grid[i] * 1e3, marker="o", label=f"batch {batch}")
        right.plot(lengths, per_frame[i] * 1e6, marker="o", label=f"batch {batch}")
    left.set(xlabel="sequence length", ylabel="ms per training step", title="LiGRU(256) step time")
    right.set(xlabel="sequence length", ylabel="µs per frame", title="time per frame")
    for axis in (left, right):
        axis.set_xticks(lengths)
        axis.grid(alpha=0.3)
        axis.legend()
    right.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
