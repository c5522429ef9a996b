"""Timing helpers shared by the benchmark cases.

Every comparison times kzoo and its reference in the same process, warm-up
first, then alternating one run of each so that load from other processes on
the machine falls on both sides alike. Each side shows the median of its runs with
their min and max; the ratio is the median of the per-pair ratios (run i of kzoo
over run i of the reference), so that a slow stretch of the machine, which lands on
both runs of a pair, cancels instead of moving one side's median.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

# A sample is at least this many seconds of calls of a step: timer, scheduler and
# dispatch noise stays small against it. Five pairs of 0.05 s samples of identical
# networks read 0.91-1.00 from run to run on this shared machine.
SAMPLE_SECONDS = 0.5
# Rows whose expected ratio lies within ~10 % of their target (identical networks, or
# a loss against its Keras counterpart) time this many times the pairs of the others.
PAIRS_PER_REPEAT = 3


def timed(step: Callable[[], object], repeats: int, warmup: int = 2) -> list[float]:
    """Seconds of each of `repeats` calls of `step`, after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def timed_pair(
    ours, theirs, repeats: int, warmup: int = 2, min_sample: float = SAMPLE_SECONDS
) -> tuple[list[float], list[float]]:
    """Per-call seconds of two steps timed in alternation, pair by pair.

    After warming both up, steps faster than `min_sample` seconds are called
    several times per sample (the same count on both sides) so that timer and
    scheduler noise stays small against the measured time. Which side runs first
    alternates from pair to pair (ours, theirs; theirs, ours; ...), so that a drift of
    the machine's speed within a pair, or any advantage of running first or second,
    lands on both sides alike (with an odd count, one order has one pair more).
    """
    for _ in range(warmup):
        ours()
        theirs()
    fastest = min(timed(ours, 1, warmup=0)[0], timed(theirs, 1, warmup=0)[0])
    inner = max(1, math.ceil(min_sample / max(fastest, 1e-6)))
    a, b = [], []
    for i in range(repeats):
        order = ((ours, a), (theirs, b))
        for step, out in order[:: -1 if i % 2 else 1]:
            start = time.perf_counter()
            for _ in range(inner):
                step()
            out.append((time.perf_counter() - start) / inner)
    return a, b


def spread(times: list[float], scale: float = 1.0, digits: int = 4) -> str:
    """`median (min-max)` of `times` multiplied by `scale`."""
    values = [t * scale for t in times]
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


@dataclass
class Comparison:
    """One kzoo-vs-reference row. `higher_is_better` for throughputs."""

    name: str
    ours: list[float]
    theirs: list[float]
    target: float | None = None
    higher_is_better: bool = False
    digits: int = 4
    max_extra: float | None = None  # a target on the median of ours[i] - theirs[i] instead

    def pairs(self) -> list[tuple[float, float]]:
        """(ours[i], theirs[i]): runs i of both sides were taken together."""
        if len(self.ours) != len(self.theirs):
            raise ValueError(
                f"{self.name}: a comparison needs one reference run per kzoo run. "
                f"Received {len(self.ours)} and {len(self.theirs)}."
            )
        return list(zip(self.ours, self.theirs))

    @property
    def ratio(self) -> float:
        """Median of the per-pair ratios ours[i] / theirs[i]."""
        return statistics.median(a / b for a, b in self.pairs())

    def verdict(self) -> str:
        if self.max_extra is not None:
            extra = statistics.median(a - b for a, b in self.pairs())
            ok = extra <= self.max_extra
            return f"{extra:+.2f} extra, <= +{self.max_extra} {'ok' if ok else 'MISSED'}"
        if self.target is None:
            return ""
        if self.higher_is_better:
            ok = self.ratio >= self.target
            return f">= {self.target} {'ok' if ok else 'MISSED'}"
        ok = self.ratio <= self.target
        return f"<= {self.target} {'ok' if ok else 'MISSED'}"

    def row(self) -> str:
        return (
            f"| {self.name} | {spread(self.ours, digits=self.digits)} "
            f"| {spread(self.theirs, digits=self.digits)} | {self.ratio:.2f}x | {self.verdict()} |"
        )


def comparison_table(title: str, unit: str, rows: list[Comparison], note: str = "") -> list[str]:
    lines = [f"## {title}", ""]
    if note:
        lines += [note, ""]
    lines += [
        f"| case | kzoo ({unit}) | reference ({unit}) | ratio kzoo/ref | target |",
        "|---|---|---|---|---|",
        *[r.row() for r in rows],
        "",
    ]
    return lines


def train_step(model: keras.Model, x, y) -> Callable[[], object]:
    """`model.train_on_batch(x, y)` as a zero-argument step."""
    return lambda: model.train_on_batch(x, y)


def random_batch(shape, seed: int = 0, dtype: str = "float32") -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def random_labels(shape, num_classes: int, seed: int = 1, low: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(low, num_classes, size=shape).astype("int32")
