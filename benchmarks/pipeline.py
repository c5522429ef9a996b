"""The data pipeline: length bucketing, the pipeline's own cost, memory that does not grow.

Four rows, each measured in this one process (the RSS rows in child processes):

- padded frames: the share of an FSDD training epoch's frames that are padding, with
  `digits_fsdd`'s features and augmentation, bucketed (`data.bucketing: true`) and
  padded to one length (`false`); target <= 0.15 bucketed.
- epoch time: one training epoch of `digits_fsdd` (its model, recipe and augmentation)
  on FSDD, bucketed against not, in alternating pairs; target <= 0.7x.
- pipeline vs memory: the same bucketed epoch fed by the pipeline (augmentation and
  features computed on the fly, in tf.data) against the very batches of one epoch held
  in memory; target <= 1.1x.
- peak RSS: `kzoo train` for one epoch on 20,000 generated clips against 2,000 (a
  small recurrent model, log-mel features, features cached in memory); target <= 1.5x.

FSDD is read from ../shared/data/fsdd/recordings (a checkout without it skips the
FSDD rows).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from benchmarks.common import Comparison, comparison_table, timed_pair

ROOT = Path(__file__).resolve().parent.parent
FSDD = ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
PADDED_TARGET = 0.15
EPOCH_TARGET = 0.7
MEMORY_TARGET = 1.1
RSS_TARGET = 1.5


def fsdd_by_digit(out: Path, speakers: int | None = None) -> Path:
    """FSDD's recordings linked into one folder per digit (`{digit}_{speaker}_{i}.wav`)."""
    names = sorted({p.name.split("_")[1] for p in FSDD.glob("*.wav")})
    keep = set(names[:speakers] if speakers else names)
    for path in sorted(FSDD.glob("*.wav")):
        digit, speaker, _ = path.stem.split("_")
        if speaker in keep:
            (out / digit).mkdir(parents=True, exist_ok=True)
            os.symlink(path, out / digit / path.name)
    return out


def padded_share(split) -> float:
    """Frames past each example's last non-zero frame, over all frames of one epoch."""
    real = total = 0
    for x, _ in split:
        active = np.any(x.numpy() != 0, axis=-1)
        last = np.where(active.any(1), active.shape[1] - np.argmax(active[:, ::-1], 1), 0)
        real += int(last.sum())
        total += active.size
    return 1 - real / total


def fsdd_rows(repeats: int, quick: bool, scratch: Path) -> tuple[list[str], list[Comparison]]:
    import tensorflow as tf

    from kzoo import configs, data, recipe, registry

    config = configs.load("digits_fsdd")
    source = fsdd_by_digit(scratch / "fsdd", speakers=2 if quick else None)
    block = {**config["data"], "source": str(source)}
    train = config["train"]
    loaded = {}
    for bucket in (True, False):
        start = time.perf_counter()
        dataset = data.load(
            {**block, "bucketing": bucket}, train["batch_size"], 0, variable_length=True
        )
        loaded[bucket] = (dataset, time.perf_counter() - start)
    shares = {bucket: padded_share(d.train) for bucket, (d, _) in loaded.items()}

    def model_for(dataset):
        built = dict(config, args={**config["args"], "input_shape": list(dataset.input_shape)})
        model = registry.build(built)
        steps = -(-dataset.sizes["train"] // train["batch_size"])
        return recipe.compile_model(model, built, steps_per_epoch=steps)

    def epoch(model, split):
        return lambda: model.fit(split, epochs=1, verbose=0)

    bucketed, fixed = loaded[True][0], loaded[False][0]
    bucketed_model, fixed_model = model_for(bucketed), model_for(fixed)
    ours, theirs = timed_pair(
        epoch(bucketed_model, bucketed.train),
        epoch(fixed_model, fixed.train),
        repeats,
        warmup=1,
        min_sample=0,
    )
    # The same batches, from memory: one epoch of the pipeline's output, kept.
    batches = list(bucketed.train)
    memory = tf.data.Dataset.from_generator(
        lambda: iter(batches), output_signature=bucketed.train.element_spec
    ).apply(tf.data.experimental.assert_cardinality(len(batches)))
    piped, held = timed_pair(
        epoch(bucketed_model, bucketed.train),
        epoch(bucketed_model, memory),
        repeats,
        warmup=1,
        min_sample=0,
    )
    n = bucketed.sizes["train"]
    notes = [
        f"FSDD{' (2 speakers, --quick)' if quick else ''}: {n} training clips, digits_fsdd's "
        f"features and augmentation. Padded frames in a training epoch: "
        f"{shares[True]:.3f} bucketed, {shares[False]:.3f} padded to one length "
        f"(target <= {PADDED_TARGET}: {'ok' if shares[True] <= PADDED_TARGET else 'MISSED'}). "
        f"Loading (decode, trim, features, once): {loaded[True][1]:.1f} s bucketed, "
        f"{loaded[False][1]:.1f} s not (the first load also starts TensorFlow).",
        "",
    ]
    rows = [
        Comparison(
            "digits_fsdd epoch, bucketed vs one length (s)", ours, theirs, EPOCH_TARGET, digits=2
        ),
        Comparison(
            "bucketed epoch, pipeline vs its batches in memory (s)",
            piped,
            held,
            MEMORY_TARGET,
            digits=2,
        ),
    ]
    return notes, rows


def generated_clips(out: Path, count: int) -> Path:
    """`count` synthetic vowel clips of 0.1-0.3 s as 16-bit .wav files, a folder per vowel."""
    from kzoo.data import vowels

    repetitions = -(-count // (12 * 9))
    made = vowels.generate(num_speakers=9, repetitions=repetitions, duration=0.3, seed=0)
    for i in range(count):
        label = vowels.VOWELS[made["vowel"][i]]
        wave = made["audio"][i][: 800 + (i * 37) % 1600]
        folder = out / f"v{made['vowel'][i]:02d}_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        pcm = (np.clip(wave * 3, -1, 1) * 32767).astype("<i2")
        _write_wav(folder / f"{i}.wav", pcm)
    return out


def _write_wav(path: Path, pcm: np.ndarray) -> None:
    import wave

    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(8000)
        f.writeframes(pcm.tobytes())


def peak_rss(config: Path, source: Path, output: Path) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of a one-epoch `kzoo train` in a child process."""
    command = [sys.executable, "-m", "kzoo.cli", "train", str(config), "--data", str(source)]
    command += ["--epochs", "1", "--output", str(output)]
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status:
        raise RuntimeError(f"kzoo train failed: {child.stderr.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024, seconds


def rss_rows(quick: bool, scratch: Path) -> tuple[list[str], list[Comparison]]:
    small, large = (200, 2000) if quick else (2000, 20000)
    config = scratch / "rss.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model": "gru",
                "args": {"units": 16, "num_layers": 1},
                "train": {"epochs": 1, "batch_size": 64},
                "data": {"features": {"type": "logmel", "num_mel_bins": 40}},
            }
        )
    )
    measured = {}
    for count in (small, large):
        source = generated_clips(scratch / f"clips{count}", count)
        measured[count] = peak_rss(config, source, scratch / f"run{count}")
    (rss_small, s_small), (rss_large, s_large) = measured[small], measured[large]
    notes = [
        f"Peak RSS of `kzoo train` (gru, 16 units, one epoch): {rss_large:.0f} MiB on "
        f"{large} clips ({s_large:.0f} s) against {rss_small:.0f} MiB on {small} "
        f"({s_small:.0f} s).",
        "",
    ]
    row = Comparison(
        f"peak RSS, {large} vs {small} clips (MiB)", [rss_large], [rss_small], RSS_TARGET, digits=0
    )
    return notes, [row]


def run(repeats: int, quick: bool) -> list[str]:
    notes, rows = [], []
    with tempfile.TemporaryDirectory(prefix="kzoo-pipeline-") as scratch:
        scratch = Path(scratch)
        if FSDD.is_dir():
            fsdd_notes, fsdd = fsdd_rows(max(1, repeats // 2) if quick else repeats, quick, scratch)
            notes += fsdd_notes
            rows += fsdd
        else:
            notes += [f"{FSDD} is absent: the FSDD rows are skipped.", ""]
        rss_notes, rss = rss_rows(quick, scratch)
        notes += rss_notes
        rows += rss
    for row in rows:
        print(row.row(), flush=True)
    return comparison_table("Data pipeline", "s or MiB", rows, "\n".join(notes).strip())


if __name__ == "__main__":
    print("\n".join(run(3, "--quick" in sys.argv)))
