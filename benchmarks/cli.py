"""The console script's fast commands against `python -c "import keras"`, fresh processes each.

`kzoo --help`, `kzoo --version` and `kzoo list` parse and answer without importing
TensorFlow (kzoo_cli.py); each is timed as a whole process, alternating with a process
that only imports Keras, and the ratio of each pair is reported.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import Comparison, comparison_table

ROOT = Path(__file__).resolve().parents[1]
# What the `kzoo` console script runs (pyproject: kzoo = "kzoo_cli:main").
_KZOO = "import sys, kzoo_cli; sys.exit(kzoo_cli.main({argv!r}))"
_KERAS = "import keras"

CASES = {  # argv -> target ratio
    ("--help",): 0.1,
    ("--version",): 0.1,
    ("list",): 0.3,
}


def process_seconds(code: str) -> float:
    """Wall seconds of `python -c code` in a fresh interpreter, from start to exit."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def paired(argv: tuple[str, ...], repeats: int, warmup: int = 1) -> tuple[list, list]:
    """(kzoo seconds, import keras seconds), alternating which one runs first."""
    ours, theirs = [], []
    kzoo_code = _KZOO.format(argv=list(argv))
    for i in range(warmup + repeats):
        if i % 2:
            a, b = process_seconds(kzoo_code), process_seconds(_KERAS)
        else:
            b, a = process_seconds(_KERAS), process_seconds(kzoo_code)
        if i >= warmup:
            ours.append(a)
            theirs.append(b)
    return ours, theirs


def run(repeats: int, quick: bool) -> list[str]:
    rows = []
    for argv, target in CASES.items():
        ours, theirs = paired(argv, repeats)
        name = f'`kzoo {" ".join(argv)}` vs `python -c "import keras"` (whole processes)'
        rows.append(Comparison(name, ours, theirs, target, digits=3))
        print(rows[-1].row(), flush=True)
    return comparison_table("Command line", "s per process", rows)
