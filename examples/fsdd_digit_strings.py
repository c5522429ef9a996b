"""Connected-digit recognition with CTC on synthetic digit strings built from FSDD.

Free Spoken Digit Dataset recordings are concatenated, 2-5 at a time with 50-150 ms
of near-silence between them, into "digit strings" (a tiny connected-digits task
in the spirit of TIDIGITS). Training strings use only FSDD's training recordings
(indices 5-49), test strings only its test recordings (indices 0-4). kzoo's
`cnn_mlp_rnn` (a CRDNN) with `head="ctc"` is trained with `kzoo.losses.CTCLoss`
(Graves et al. 2006) on log-mel frames; each string's number of output frames
reaches the loss as a Keras mask. Test strings are decoded greedily
(`kzoo.losses.ctc_decode`) and scored with `kzoo.metrics.TokenErrorRate`: the
digit error rate (substitutions + deletions + insertions over reference digits).

    git clone https://github.com/Jakobovski/free-spoken-digit-dataset
    python examples/fsdd_digit_strings.py --fsdd free-spoken-digit-dataset/recordings

`--limit N` keeps only recording indices below N, `--strings` sets how many
training strings are made, `--epochs` the length of the run, `--eager` skips
graph tracing (faster for a one-batch check, slower for a real run).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import fsdd  # this folder's FSDD reader
import keras
import numpy as np
from keras import ops

import kzoo
from kzoo.data import features, pipeline

BLANK = 10  # head="ctc" puts the blank after the num_classes tokens
POOLING = 4  # cnn_mlp_rnn's two conv blocks each halve the frames (pool_size=2)
MIN_DIGITS, MAX_DIGITS = 2, 5  # digits per string


def make_strings(waves, digits, pool, count, rate, rng):
    """`count` strings of 2-5 recordings from `pool`, with 50-150 ms gaps; audio and labels."""
    audio, labels = [], []
    for _ in range(count):
        chosen = rng.choice(pool, size=rng.integers(MIN_DIGITS, MAX_DIGITS + 1), replace=False)
        pieces = []
        for k, i in enumerate(chosen):
            if k:
                gap = int(rng.uniform(0.05, 0.15) * rate)
                pieces.append(rng.normal(0.0, 1e-3, gap).astype("float32"))
            pieces.append(waves[i])
        audio.append(np.concatenate(pieces))
        labels.append(digits[chosen])
    return audio, labels


def log_mel(audio, rate, chunk=128):
    """Per-string log-mel frames (frames, 40), computed in chunks of similar length."""
    spec = features.resolve({"type": "logmel", "num_mel_bins": 40, "normalize": "utterance"})
    order = np.argsort([len(a) for a in audio])
    frames = [None] * len(audio)
    for start in range(0, len(order), chunk):
        members = order[start : start + chunk]
        padded, lengths = pipeline.pad_audio([audio[i] for i in members], rate, None)
        x, counts = features.extract(padded, lengths, rate, spec)
        for i, xi, n in zip(members, x, counts):
            frames[i] = xi[:n]
    return frames


class Batches:
    """Batches of strings of similar length, padded to a multiple of 32 frames.

    Inputs are `[features (batch, frames, 40), output frames (batch,)]`; targets the
    digits `(batch, MAX_DIGITS)` padded with -1.
    """

    def __init__(self, frames, labels, batch_size, shuffle, seed=0):
        order = np.argsort([len(f) for f in frames], kind="stable")
        self.batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        self.frames, self.labels = frames, labels
        self.shuffle, self.rng = shuffle, np.random.default_rng(seed)

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        members = self.batches[index]
        lengths = np.array([len(self.frames[i]) for i in members])
        width = -(-lengths.max() // 32) * 32
        x = np.zeros((len(members), width, self.frames[members[0]].shape[1]), "float32")
        y = np.full((len(members), MAX_DIGITS), -1, "int32")
        for row, i in enumerate(members):
            x[row, : lengths[row]] = self.frames[i]
            y[row, : len(self.labels[i])] = self.labels[i]
        # MaxPooling1D(2, padding="same") twice: ceil(ceil(n / 2) / 2) = ceil(n / 4).
        return (x, (-(-lengths // POOLING)).astype("int32")), y

    def dataset(self):
        """A `tf.data` pipeline of the batches (in a new random order each epoch)."""
        import tensorflow as tf  # tf.data feeds Keras on every backend

        def generate():
            order = self.rng.permutation(len(self)) if self.shuffle else range(len(self))
            for index in order:
                yield self[index]

        signature = (
            (tf.TensorSpec((None, None, 40), "float32"), tf.TensorSpec((None,), "int32")),
            tf.TensorSpec((None, MAX_DIGITS), "int32"),
        )
        dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
        return dataset.apply(tf.data.experimental.assert_cardinality(len(self)))


@keras.saving.register_keras_serializable(package="examples")
class LogitsWithLengths(keras.layers.Layer):
    """The CTC head's logits, unchanged, carrying a Keras mask of each string's real frames.

    `CTCLoss` reads input lengths from the mask of `y_pred`; cnn_mlp_rnn's
    convolutions and pooling carry no mask, so the lengths come in as an input.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        logits, _ = inputs
        return logits

    def compute_mask(self, inputs, mask=None):
        logits, lengths = inputs
        ones = ops.ones_like(logits[:, :, 0], dtype="int32")  # (batch, frames)
        frame = ops.cumsum(ones, axis=1) - 1  # each frame's index
        return frame < ops.cast(lengths, "int32")[:, None]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fsdd", type=Path, required=True, help="the recordings/ folder of an FSDD clone"
    )
    parser.add_argument("--output", type=Path, default=Path("runs/fsdd_digit_strings"))
    parser.add_argument("--strings", type=int, default=1600, help="training strings")
    parser.add_argument("--test-strings", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--limit", type=int, default=None, help="keep indices below this")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--eager", action="store_true", help="run eagerly: no tracing, for one-batch checks"
    )
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()

    waves, digits, _, indices, rate = fsdd.load(args.fsdd, "fsdd_digit_strings", args.limit)
    test_pool = np.flatnonzero(np.isin(indices, fsdd.TEST_INDICES))
    train_pool = np.flatnonzero(~np.isin(indices, fsdd.TEST_INDICES))
    train_audio, train_labels = make_strings(waves, digits, train_pool, args.strings, rate, rng)
    test_audio, test_labels = make_strings(waves, digits, test_pool, args.test_strings, rate, rng)
    train = Batches(log_mel(train_audio, rate), train_labels, args.batch_size, True, args.seed)
    test = Batches(log_mel(test_audio, rate), test_labels, args.batch_size, False)

    # The CRDNN reads (frames, 40) of any length; its CTC head gives 10 digits + blank.
    crdnn = kzoo.models.get(
        "cnn_mlp_rnn",
        compile=False,
        input_shape=[None, 40],
        num_classes=10,
        head="ctc",
        conv_filters=[64, 64],
        pool_size=2,
        rnn_units=96,
        dropout=0.15,
    )
    inputs = keras.Input((None, 40), name="features")
    lengths = keras.Input((), dtype="int32", name="frames")
    outputs = LogitsWithLengths(name="logits")([crdnn(inputs), lengths])
    model = keras.Model([inputs, lengths], outputs, name="digit_strings")
    steps = args.epochs * len(train)
    model.compile(
        optimizer=keras.optimizers.Adam(
            kzoo.schedules.WarmupCosineDecay(
                2e-3, warmup_steps=min(100, steps // 5), decay_steps=steps
            ),
            clipnorm=5.0,
        ),
        loss=kzoo.losses.CTCLoss(blank_index=BLANK, pad_value=-1),
        run_eagerly=args.eager,
    )
    history = model.fit(train.dataset(), epochs=args.epochs, shuffle=False, verbose=0)
    train_seconds = time.perf_counter() - started

    # Greedy decoding over each string's real output frames, then the digit error rate.
    metric = kzoo.metrics.TokenErrorRate(ctc=False, pad_value=-1)
    exact = total = 0
    for b in range(len(test)):
        (x, frames), y = test[b]
        logits = model.predict_on_batch([x, frames])
        hypotheses = kzoo.losses.ctc_decode(logits, lengths=frames, blank_index=BLANK)
        width = max(1, max(len(h) for h in hypotheses))
        tokens = np.full((len(hypotheses), width), -1, "int32")
        for row, hypothesis in enumerate(hypotheses):
            tokens[row, : len(hypothesis)] = hypothesis
            exact += hypothesis == [int(v) for v in y[row] if v >= 0]
        total += len(hypotheses)
        metric.update_state(y, tokens)
    ter = float(metric.result())

    args.output.mkdir(parents=True, exist_ok=True)
    model.save(args.output / "model.keras")
    result = {
        "token_error_rate": ter,
        "string_accuracy": exact / total,
        "final_loss": float(history.history["loss"][-1]),
        "sizes": {"train_strings": args.strings, "test_strings": total},
        "seconds": round(time.perf_counter() - started, 1),
        "train_seconds": round(train_seconds, 1),
    }
    (args.output / "results.json").write_text(json.dumps(result, indent=2))
    print(
        f"{args.strings} training strings, {args.epochs} epochs, {result['seconds']:.0f} s: "
        f"{total} test strings of {MIN_DIGITS}-{MAX_DIGITS} digits, greedy CTC digit error rate {ter:.3f} "
        f"(strings all right: {exact / total:.3f})"
    )
    return result


if __name__ == "__main__":
    main()
