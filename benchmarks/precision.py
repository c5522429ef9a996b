"""XLA and mixed precision: train-step time of zoo models on TensorFlow.

Each zoo model (default config, batch shown) is built under a global dtype policy
and compiled with `jit_compile` False or True; a cell is the median step time in
milliseconds after warm-up, and in brackets the first call (tracing plus XLA
compilation) in seconds. A combination that cannot run says why.

`mixed_float16` is measured with XLA only: without it TensorFlow runs float16
convolutions on CPU through slow reference kernels (measured while writing this
benchmark: cnn_mlp_rnn 4.0 s per step against 83 ms in float32, and sincnet did
not finish one step in two minutes).
"""

from __future__ import annotations

import statistics
import time

import keras

import kzoo
from benchmarks.common import random_batch, random_labels, timed

MODELS = ("ligru", "cnn_mlp_rnn", "sincnet")
POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
SLOW_STEP = 3.0  # seconds; a slower warm-up step is timed once only


def _measure(name, policy, jit, batch, repeats):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        model = kzoo.models.get(name, compile=False)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss="sparse_categorical_crossentropy",
            jit_compile=jit,
        )
        x = random_batch((batch, *model.input_shape[1:]))
        y = random_labels((batch,), model.output_shape[-1])
        start = time.perf_counter()
        model.train_on_batch(x, y)
        first = time.perf_counter() - start
        probe = timed(lambda: model.train_on_batch(x, y), 1, warmup=0)
        if probe[0] > SLOW_STEP:
            return probe, first, None
        return timed(lambda: model.train_on_batch(x, y), min(repeats, 3), warmup=1), first, None
    except Exception as error:  # noqa: BLE001 - report any refusal in the table
        return None, None, f"{type(error).__name__}: {str(error).strip().splitlines()[0][:80]}"
    finally:
        keras.config.set_dtype_policy(previous)


def run(repeats: int, quick: bool) -> list[str]:
    intro = [" ".join(part.split()) for part in __doc__.split("\n\n")[1:]]
    lines = ["## XLA and mixed precision", "", intro[0], "", intro[1], ""]
    if keras.backend.backend() != "tensorflow":
        return lines + [
            f"Skipped: needs the TensorFlow backend, not {keras.backend.backend()}.",
            "",
        ]
    batch = 16 if quick else 32
    models = MODELS[:1] if quick else MODELS
    columns = [(p, j) for p in POLICIES for j in (False, True) if p != "mixed_float16" or j]
    lines += [
        "| model | " + " | ".join(f"{p}, jit={j}" for p, j in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    fastest = []
    failures = []
    for name in models:
        cells, best = [], None
        for policy, jit in columns:
            times, first, failure = _measure(name, policy, jit, batch, repeats)
            if failure:
                cells.append("fails")
                failures.append(f"{name}, {policy}, jit_compile={jit}: {failure}")
            else:
                median = statistics.median(times)
                cells.append(f"{median * 1e3:.0f} ms ({first:.1f} s)")
                if best is None or median < best[0]:
                    best = (median, policy, jit)
            print(f"  {name} {policy} jit={jit}: {cells[-1]}", flush=True)
        lines.append(f"| {name} (batch {batch}) | " + " | ".join(cells) + " |")
        if best:
            fastest.append(f"{name}: {best[1]}, jit_compile={best[2]} ({best[0] * 1e3:.0f} ms)")
    lines += ["", "Fastest on this CPU: " + "; ".join(fastest) + "."]
    if failures:
        lines += ["", "Failures:", "", *[f"- {f}" for f in failures]]
    return lines + [""]
