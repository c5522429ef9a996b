"""Prediction: `kzoo.load(...).predict(files)` and loading a preset, against plain Keras.

Two rows, measured in this one process after imports, in alternating pairs:

- predict files: `kzoo.load("fsdd_digits").predict(files)` on 1,000 FSDD recordings
  against the same features computed with `tf.data` by hand (`tf.audio.decode_wav`,
  the preset's front end, one padded batch pipeline) and one `model.predict` call;
  target <= 1.5x.
- load: `kzoo.load("fsdd_digits")` (manifest, checksum, build, weights) against
  `keras.saving.load_model` of the same model saved as a .keras file; target <= 1.2x.

FSDD is read from ../shared/data/fsdd/recordings (a checkout without it skips the
predict row and times the load row alone).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks.common import Comparison, comparison_table, timed_pair

ROOT = Path(__file__).resolve().parent.parent
FSDD = ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
PREDICT_TARGET = 1.5
LOAD_TARGET = 1.2
PRESET = "fsdd_digits"
BATCH = 32


def by_hand(predictor, paths: list[Path]):
    """The reference: tf.data decoding and features, then one `model.predict`."""
    import tensorflow as tf

    frontend, model = predictor.frontend, predictor.model

    def decode(path):
        wave, _ = tf.audio.decode_wav(tf.io.read_file(path), desired_channels=1)
        clipped = frontend.clip(wave[:, 0])
        return clipped, tf.shape(clipped)[0]

    def features(waves, lengths):
        return frontend(waves, lengths)[0]

    def step():
        dataset = (
            tf.data.Dataset.from_tensor_slices([str(p) for p in paths])
            .map(decode, num_parallel_calls=tf.data.AUTOTUNE)
            .padded_batch(BATCH)
            .map(features, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )
        return model.predict(dataset, verbose=0)

    return step


def run(repeats: int, quick: bool) -> list[str]:
    import keras

    import kzoo

    rows, notes = [], []
    predictor = kzoo.load(PRESET)
    if FSDD.is_dir():
        paths = sorted(FSDD.glob("*.wav"))[: 200 if quick else 1000]
        ours, theirs = timed_pair(
            lambda: predictor.predict(paths, batch_size=BATCH),
            by_hand(predictor, paths),
            repeats,
            warmup=1,
            min_sample=0,
        )
        rows.append(
            Comparison(
                f"predict {len(paths)} FSDD files vs tf.data + model.predict (s)",
                ours,
                theirs,
                PREDICT_TARGET,
                digits=2,
            )
        )
    else:
        notes.append(f"{FSDD} is absent: the predict row is skipped.")
    with tempfile.TemporaryDirectory(prefix="kzoo-predict-") as scratch:
        saved = Path(scratch) / "model.keras"
        predictor.model.save(saved)
        ours, theirs = timed_pair(
            lambda: kzoo.load(PRESET),
            lambda: keras.saving.load_model(saved, compile=False),
            repeats * 2,
            warmup=1,
        )
    rows.append(
        Comparison(
            f"load preset {PRESET} vs keras.saving.load_model (s)", ours, theirs, LOAD_TARGET
        )
    )
    notes.append(
        f"Preset {PRESET} ({predictor.model.count_params():,} parameters), batches of {BATCH}."
    )
    for row in rows:
        print(row.row(), flush=True)
    return comparison_table("Prediction", "s", rows, "\n".join(notes).strip())


if __name__ == "__main__":
    print("\n".join(run(3, "--quick" in sys.argv)))
