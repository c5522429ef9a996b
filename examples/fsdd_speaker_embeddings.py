"""Speaker embeddings on the Free Spoken Digit Dataset, trained with a triplet loss.

A zoo model with `head="embedding"` (L2-normalised vectors) is trained with
`kzoo.losses.TripletLoss` (semi-hard online mining, Schroff et al. 2015) on the
log-mel frames of FSDD's customary training split (indices 5-49 of every speaker
and digit); the test split (indices 0-4) is never seen in training. Two numbers
come out:

- speaker verification equal error rate (EER) over every pair of test utterances,
  scored by cosine similarity: the threshold where false accepts and false
  rejects are equally frequent;
- nearest-centroid speaker accuracy: each test utterance gets the speaker whose
  mean training embedding is closest in cosine similarity.

    git clone https://github.com/Jakobovski/free-spoken-digit-dataset
    python examples/fsdd_speaker_embeddings.py --fsdd free-spoken-digit-dataset/recordings

`--limit N` keeps only indices below N (a quick check), `--epochs` shortens the run,
`--eager` skips graph tracing (faster for a one-batch check, slower for a real run).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import fsdd  # this folder's FSDD reader
import keras
import numpy as np

import kzoo
from kzoo.data import features, pipeline


def equal_error_rate(scores: np.ndarray, same: np.ndarray) -> float:
    """EER of a verification score: where the false-reject and false-accept rates cross."""
    order = np.argsort(-scores, kind="stable")
    same = same[order]
    accepted_same = np.cumsum(same)  # accepting the top k pairs
    accepted_other = np.cumsum(~same)
    false_reject = 1.0 - accepted_same / same.sum()
    false_accept = accepted_other / (~same).sum()
    k = int(np.argmin(np.abs(false_reject - false_accept)))
    return float((false_reject[k] + false_accept[k]) / 2)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fsdd", type=Path, required=True, help="the recordings/ folder of an FSDD clone"
    )
    parser.add_argument("--output", type=Path, default=Path("runs/fsdd_speaker_embeddings"))
    parser.add_argument("--dim", type=int, default=32, help="embedding size")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--margin", type=float, default=0.5)
    parser.add_argument("--limit", type=int, default=None, help="keep indices below this")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--eager", action="store_true", help="run eagerly: no tracing, for one-batch checks"
    )
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    started = time.perf_counter()

    # Log-mel frames of the first second (8 kHz), one level per utterance.
    waves, _, speakers, indices, rate = fsdd.load(args.fsdd, "fsdd_speaker_embeddings", args.limit)
    audio, lengths = pipeline.pad_audio(waves, rate, max_seconds=1.0)
    spec = features.resolve({"type": "logmel", "num_mel_bins": 40, "normalize": "utterance"})
    x, _ = features.extract(audio, lengths, rate, spec)  # (n, 101, 40)
    names = sorted(set(speakers))
    y = np.searchsorted(names, speakers).astype("int32")
    test = np.isin(indices, fsdd.TEST_INDICES)
    x_train, y_train, x_test, y_test = x[~test], y[~test], x[test], y[test]

    # A 1-D CNN over the frames; head="embedding": Dense(dim) -> L2 normalisation.
    model = kzoo.models.get(
        "cnn1d",
        compile=False,
        input_shape=list(x.shape[1:]),
        num_classes=args.dim,
        head="embedding",
        filters=[64, 64, 128],
        kernel_size=5,
        pool_size=2,
        dense_units=128,
    )
    steps = args.epochs * -(-len(y_train) // args.batch_size)
    model.compile(
        optimizer=keras.optimizers.Adam(
            kzoo.schedules.WarmupCosineDecay(
                2e-3, warmup_steps=min(50, steps // 5), decay_steps=steps
            )
        ),
        loss=kzoo.losses.TripletLoss(margin=args.margin, strategy="semi_hard"),
        run_eagerly=args.eager,
    )
    history = model.fit(
        x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, shuffle=True, verbose=0
    )
    train_seconds = time.perf_counter() - started

    # Embeddings are unit vectors, so the dot product is the cosine similarity.
    e_train = model.predict(x_train, batch_size=256, verbose=0)
    e_test = model.predict(x_test, batch_size=256, verbose=0)
    pairs = np.triu_indices(len(y_test), k=1)
    scores = (e_test @ e_test.T)[pairs]
    eer = equal_error_rate(scores, y_test[pairs[0]] == y_test[pairs[1]])
    centroids = np.stack([e_train[y_train == k].mean(axis=0) for k in range(len(names))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    accuracy = float(np.mean(np.argmax(e_test @ centroids.T, axis=1) == y_test))

    args.output.mkdir(parents=True, exist_ok=True)
    model.save(args.output / "model.keras")
    np.savez(args.output / "test_embeddings.npz", embeddings=e_test, speakers=y_test)
    result = {
        "eer": eer,
        "centroid_accuracy": accuracy,
        "final_loss": float(history.history["loss"][-1]),
        "speakers": names,
        "sizes": {"train": int(len(y_train)), "test": int(len(y_test)), "pairs": int(len(scores))},
        "seconds": round(time.perf_counter() - started, 1),
        "train_seconds": round(train_seconds, 1),
    }
    (args.output / "results.json").write_text(json.dumps(result, indent=2))
    print(
        f"{len(names)} speakers, {len(y_test)} test utterances ({len(scores)} pairs), "
        f"{result['seconds']:.0f} s: speaker verification EER {eer:.3f}, "
        f"nearest-centroid accuracy {accuracy:.3f}"
    )
    return result


if __name__ == "__main__":
    main()
