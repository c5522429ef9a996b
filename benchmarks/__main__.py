"""`make bench`: kzoo against its references, side by side in one process.

Each comparison times kzoo's operation and the reference's on the same shapes,
alternating runs after warm-up, and reports the median (min-max) of each and
the ratio kzoo / reference (the median of the per-pair ratios) with its target. Cases:

  layers     Li-GRU vs GRU, SincConv1D vs Conv1D, import time
  losses     CTC, focal and masked NLL vs the closest Keras losses
  zoo        kzoo.models.get(...) vs the same network written by hand
  precision  jit_compile False/True x float32 / mixed_bfloat16 / mixed_float16
  scaling    LiGRU(256) step time vs batch size and sequence length
  tuning     a kzoo random search vs plain fit of the same trials
  speechbrain  LiGRU and SincConv1D vs SpeechBrain on PyTorch
  cli        `kzoo --help`, `--version`, `list` vs `python -c "import keras"`
  pipeline   length bucketing, the pipeline vs batches in memory, peak RSS vs data size
  predict    kzoo.load(...).predict(files) vs tf.data + model.predict; preset load time
  recipes    the digit recipes' time to accuracy vs a plain-Keras script
  speakers   the default digit recipe on speakers it has not heard

`python -m benchmarks` runs everything and writes benchmarks/results.md and
benchmarks/scaling.png; `--only losses,zoo` runs some cases and `--quick` a
smaller, faster pass (neither writes files unless `--write`). A partial run with
`--write` replaces its own sections of results.md and keeps the others, each
section saying which command measured it.

Each case runs in a fresh interpreter of its own, as a user's training or search
does. A case measured after others in one process inherits their objects and graphs,
which makes its numbers depend on the order of the cases: the search has read 1.13-1.18x
its plain fits after the precision case, and 0.95-1.12x in a process of its own.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

CASES = (
    "layers",
    "losses",
    "zoo",
    "precision",
    "scaling",
    "tuning",
    "speechbrain",
    "cli",
    "pipeline",
    "predict",
    "recipes",
    "speakers",
)
HERE = Path(__file__).parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per measurement")
    parser.add_argument("--only", default="", help=f"comma-separated cases of {', '.join(CASES)}")
    parser.add_argument("--quick", action="store_true", help="smaller shapes, fewer runs")
    parser.add_argument(
        "--write", action="store_true", help="write results.md / scaling.png on partial runs too"
    )
    # Internal: run one case in this process and write its lines as JSON to this file.
    parser.add_argument("--section-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; choose from {', '.join(CASES)}")
    repeats = args.repeats or (3 if args.quick else 5)
    write = args.write or (not args.only and not args.quick)
    if args.section_out:
        return run_section(names[0], repeats, args.quick, args.write, args.section_out)

    start = time.perf_counter()
    lines = [
        "# Benchmarks",
        "",
        f"Backend: {keras.backend.backend()}, Keras {keras.__version__}, CPU. "
        f"Median (min-max) of {repeats} runs after warm-up; each case runs in a fresh "
        "interpreter, where kzoo and its reference run alternately, and a ratio is the "
        "median of the per-pair ratios (kzoo's run i over the reference's run i). "
        "Produced by `python -m benchmarks`" + (" --quick" if args.quick else "") + ".",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="kzoo-bench-") as scratch:
        for name in names:
            print(f"== {name}", flush=True)
            case_start = time.perf_counter()
            lines += run_in_fresh_interpreter(name, repeats, args.quick, write, Path(scratch))
            print(f"   ({time.perf_counter() - case_start:.0f} s)", flush=True)
    lines.append(f"Total wall time: {time.perf_counter() - start:.0f} s.")
    text = "\n".join(lines) + "\n"
    print(text)
    if write:
        results = HERE / "results.md"
        if set(names) != set(CASES) and results.exists():
            command = " ".join(["python -m benchmarks", *(argv or sys.argv[1:])])
            text = merged(results.read_text(), text, f"Measured by `{command}`.")
        results.write_text(text)
    return 0


def sections(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """(the lines before the first `## ` heading, {heading: its section's lines})."""
    head: list[str] = []
    found: dict[str, list[str]] = {}
    current = head
    for line in text.splitlines():
        if line.startswith("## "):
            current = found.setdefault(line, [line])
        elif not line.startswith("Total wall time:"):
            current.append(line)
    return head, found


def merged(old: str, new: str, provenance: str) -> str:
    """`old` results.md with the sections of a partial run `new` put in (same heading:
    replaced in place; a new heading: appended), each of them marked with `provenance`."""
    head, kept = sections(old)
    _, fresh = sections(new)
    for heading, lines in fresh.items():
        lines = [line for line in lines if not line.startswith("Measured by `")]
        kept[heading] = [heading, "", provenance, *lines[1:]]
    body = [line for lines in kept.values() for line in lines]
    return "\n".join(head + body).rstrip() + "\n"


def run_section(name: str, repeats: int, quick: bool, write: bool, out: Path) -> int:
    """Runs case `name` in this process; writes its lines to `out` (JSON)."""
    module = importlib.import_module(f"benchmarks.{name}")
    if name == "scaling":
        section = module.run(repeats, quick, plot=HERE / "scaling.png" if write else None)
    else:
        section = module.run(repeats, quick)
    out.write_text(json.dumps(section))
    return 0


def run_in_fresh_interpreter(
    name: str, repeats: int, quick: bool, write: bool, scratch: Path
) -> list[str]:
    """Case `name`'s lines for results.md, run in a new `python -m benchmarks` process.

    The child prints its rows as it goes (its output is this process's); a case that
    fails stops the whole run, so results.md is never written with a section missing.
    """
    out = scratch / f"{name}.json"
    command = [sys.executable, "-m", "benchmarks", "--only", name, "--repeats", str(repeats)]
    command += ["--section-out", str(out)]
    command += ["--quick"] * quick + ["--write"] * write
    done = subprocess.run(command, cwd=HERE.parent)
    if done.returncode or not out.exists():
        raise SystemExit(f"benchmark case {name!r} failed (exit {done.returncode}); see above.")
    return json.loads(out.read_text())


if __name__ == "__main__":
    sys.exit(main())
