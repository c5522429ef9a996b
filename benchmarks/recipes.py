"""Time to accuracy: kzoo's digit recipes against the plain-Keras digit recognizer.

Every row runs whole processes, from interpreter start to the printed result
(imports, reading the recordings, features, training and the test evaluation),
alternating with the plain-Keras script `benchmarks/digits_baseline.py` (log-mel, two
Conv1D, a bidirectional GRU, Adam, 15 epochs, batch 32, no augmentation) run with the
same seed, so a time ratio is the median of per-seed pairs.

- Standard split (recordings 0-4 of every digit and speaker are the test set):
  `kzoo train digits_fsdd` (the default digit recipe) and `kzoo train digits_fsdd_fast`
  against the baseline, one run per seed, 3 seeds. Targets: digits_fsdd at least 0.995
  with its config's seed, at least 0.99 with each seed, in at most 2x the baseline's
  time; digits_fsdd_fast at least the baseline's accuracy in at most its time.
- New speakers (the `speakers` case): each of the four speakers held out in turn (`data.test_pattern:
  _SPEAKER_`), trained on the other three, with one config for every fold; per seed the
  mean over the speakers and the worst speaker. Targets: mean at least 0.90, no
  speaker below 0.85.

The held-out speakers are the `speakers` case (benchmarks/speakers.py). FSDD is read
from ../shared/data/fsdd/recordings; a checkout without it skips both cases. `--quick`
runs one seed.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Comparison, comparison_table

ROOT = Path(__file__).resolve().parent.parent
FSDD = ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
SPEAKERS = ("george", "jackson", "lucas", "nicolas")
SEEDS = (0, 1, 2)  # 0: the zoo configs' own seed (train.seed)
RECIPE, FAST = "digits_fsdd", "digits_fsdd_fast"
_KZOO = "import sys, kzoo_cli; sys.exit(kzoo_cli.main(sys.argv[1:]))"


def timed_process(command: list[str]) -> tuple[float, str]:
    """(wall seconds from start to exit, stdout) of a fresh process."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def baseline(seed: int, speaker: str | None = None) -> tuple[float, float]:
    """(seconds, test accuracy) of the plain-Keras script."""
    command = [sys.executable, "benchmarks/digits_baseline.py", str(FSDD), "--seed", str(seed)]
    command += ["--test-speaker", speaker] if speaker else []
    seconds, out = timed_process(command)
    return seconds, json.loads(out.strip().splitlines()[-1])["accuracy"]


def recipe(name: str, data: Path, output: Path, seed: int, speaker: str | None = None):
    """(seconds, test accuracy) of `kzoo train name`."""
    command = [sys.executable, "-c", _KZOO, "train", name, "--data", str(data)]
    command += ["--output", str(output), "--seed", str(seed), "--quiet"]
    command += ["--set", f"data.test_pattern=_{speaker}_"] if speaker else []
    seconds, _ = timed_process(command)
    metrics = json.loads((output / "metrics.json").read_text())
    return seconds, metrics["test"]["accuracy"]


def spread(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def standard_split(data: Path, scratch: Path, seeds) -> list[str]:
    runs: dict[str, list[tuple[float, float]]] = {"baseline": [], RECIPE: [], FAST: []}
    for seed in seeds:
        # The order alternates from seed to seed, as in every other case.
        order = [RECIPE, FAST, "baseline"][:: -1 if seed % 2 else 1]
        for name in order:
            if name == "baseline":
                runs[name].append(baseline(seed))
            else:
                runs[name].append(recipe(name, data, scratch / f"{name}-{seed}", seed))
            print(f"   {name} seed {seed}: {runs[name][-1][1]:.3f}, {runs[name][-1][0]:.0f} s")
    base_time = [s for s, _ in runs["baseline"]]
    base_acc = [a for _, a in runs["baseline"]]
    rows, accuracy = [], []
    for name, target in ((RECIPE, 2.0), (FAST, 1.0)):
        accs = [a for _, a in runs[name]]
        times = [s for s, _ in runs[name]]
        rows.append(
            Comparison(
                f"`kzoo train {name}` vs the plain-Keras script", times, base_time, target, digits=1
            )
        )
        if name == RECIPE:
            wanted = f">= 0.995 with seed 0, >= 0.99 each; time <= {target}x"
            ok = accs[0] >= 0.995 and min(accs) >= 0.99
        else:
            wanted = f">= the baseline's mean ({statistics.mean(base_acc):.3f}); time <= {target}x"
            ok = statistics.mean(accs) >= statistics.mean(base_acc)
        accuracy.append(f"| {name} | {spread(accs)} | {wanted} | {'ok' if ok else 'MISSED'} |")
    accuracy.append(f"| plain-Keras script | {spread(base_acc)} | | |")
    note = (
        f"Test accuracy on the 200 recordings 0-4, mean (min-max) over seeds {list(seeds)}, "
        "and wall seconds per process, median (min-max):"
    )
    return [
        *comparison_table("Recipes: time to accuracy", "s per run", rows, note),
        "| recipe | test accuracy | target | |",
        "|---|---|---|---|",
        *accuracy,
        "",
    ]


def new_speakers(data: Path, scratch: Path, seeds) -> list[str]:
    lines = [
        "## Recipes: new speakers",
        "",
        "Each speaker held out in turn (500 test recordings), trained on the other three "
        f"with `kzoo train {RECIPE} --set data.test_pattern=_SPEAKER_` (the plain-Keras "
        "script with `--test-speaker SPEAKER`); test accuracy per seed, its mean over the "
        "speakers and the worst speaker. Target for the recipe: mean >= 0.90, worst >= 0.85.",
        "",
        f"| model | seed | {' | '.join(SPEAKERS)} | mean | worst | s for all four | target |",
        f"|---|---|{'---|' * len(SPEAKERS)}---|---|---|---|",
    ]
    for name in (RECIPE, "baseline"):
        means, worsts = [], []
        for seed in seeds:
            results = []
            for speaker in SPEAKERS:
                if name == "baseline":
                    results.append(baseline(seed, speaker))
                else:
                    output = scratch / f"loso-{speaker}-{seed}"
                    results.append(recipe(name, data, output, seed, speaker))
                print(f"   {name} seed {seed} {speaker}: {results[-1][1]:.3f}", flush=True)
            accs = [a for _, a in results]
            means.append(statistics.mean(accs))
            worsts.append(min(accs))
            verdict = ""
            if name == RECIPE:
                ok = means[-1] >= 0.90 and worsts[-1] >= 0.85
                verdict = "ok" if ok else "MISSED"
            label = f"`{RECIPE}`" if name == RECIPE else "plain-Keras script"
            cells = " | ".join(f"{a:.3f}" for a in accs)
            seconds = sum(s for s, _ in results)
            lines.append(
                f"| {label} | {seed} | {cells} | {means[-1]:.3f} | {worsts[-1]:.3f} "
                f"| {seconds:.0f} | {verdict} |"
            )
        lines.append(f"| {label} | all | | | | | {spread(means)} | {spread(worsts)} | | |")
    return [*lines, ""]


def run(repeats: int, quick: bool) -> list[str]:
    return with_fsdd("Recipes: time to accuracy", standard_split, quick)


def with_fsdd(title: str, measure, quick: bool) -> list[str]:
    """`measure(data, scratch, seeds)`'s lines, on FSDD arranged by digit in a scratch folder."""
    if not FSDD.is_dir():
        return [f"## {title}", "", f"Skipped: {FSDD} is absent.", ""]
    sys.path.insert(0, str(ROOT / "examples"))
    from fsdd_folders import arrange

    with tempfile.TemporaryDirectory(prefix="kzoo-recipes-") as tmp:
        scratch = Path(tmp)
        data = scratch / "digits"
        arrange(FSDD, data, "digit")
        return measure(data, scratch, SEEDS[:1] if quick else SEEDS)
