"""The plain-Keras digit recognizer a user would write instead of a kzoo recipe.

Log-mel frames, two Conv1D, a bidirectional GRU, Adam, 15 epochs, batch 32, no
augmentation; trained on FSDD recordings 5-49 of every digit and speaker and tested on
0-4 (the customary split). `benchmarks/recipes.py` times this script from process
start to its printed result, imports included, against the kzoo recipes:

    python benchmarks/digits_baseline.py RECORDINGS [--seed N] [--test-speaker NAME]

RECORDINGS is FSDD's flat folder of `{digit}_{speaker}_{index}.wav` files. With
`--test-speaker`, that speaker's recordings are the test set and the others train.
It prints one line of JSON: the test accuracy and the number of test recordings.
"""

import argparse
import json
import os
import re
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

SAMPLES = 8000  # 1 s at 8 kHz: every FSDD clip is shorter
MEL = tf.signal.linear_to_mel_weight_matrix(40, 129, 8000, 20.0, 4000.0)


def log_mel(path):
    audio = tf.audio.decode_wav(tf.io.read_file(path)).audio[:SAMPLES, 0]
    audio = tf.pad(audio, [[0, SAMPLES - tf.shape(audio)[0]]])
    spectrum = tf.abs(tf.signal.stft(audio, 256, 80, 256)) ** 2
    return tf.math.log(tf.matmul(spectrum, MEL) + 1e-6)


def dataset(paths, labels, shuffle):
    data = tf.data.Dataset.from_tensor_slices(([str(p) for p in paths], labels))
    data = data.map(lambda p, y: (log_mel(p), y), num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle:
        data = data.shuffle(len(paths), seed=0)
    return data.batch(32).prefetch(tf.data.AUTOTUNE)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recordings", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-speaker", default=None)
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)

    train, test = ([], []), ([], [])
    for path in sorted(args.recordings.glob("*.wav")):
        digit, speaker, index = re.match(r"(\d)_(\w+)_(\d+)\.wav", path.name).groups()
        held_out = speaker == args.test_speaker if args.test_speaker else int(index) < 5
        split = test if held_out else train
        split[0].append(path)
        split[1].append(int(digit))

    model = keras.Sequential(
        [
            keras.Input((None, 40)),
            keras.layers.Conv1D(64, 5, padding="same", activation="relu"),
            keras.layers.MaxPooling1D(2),
            keras.layers.Conv1D(64, 5, padding="same", activation="relu"),
            keras.layers.MaxPooling1D(2),
            keras.layers.Bidirectional(keras.layers.GRU(64)),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(dataset(*train, shuffle=True), epochs=15, verbose=0)
    _, accuracy = model.evaluate(dataset(*test, shuffle=False), verbose=0)
    print(json.dumps({"accuracy": accuracy, "test": len(test[0])}))


if __name__ == "__main__":
    main()
