"""Examples -> features -> train / validation / test splits -> batched `tf.data` pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

from kzoo.data import augment as augmentation
from kzoo.data import features as audio_features
from kzoo.data.examples import Examples
from kzoo.errors import ConfigError


@dataclass
class Dataset:
    """Batched, prefetched splits plus what a model builder needs to know about them."""

    train: tf.data.Dataset
    validation: tf.data.Dataset | None
    test: tf.data.Dataset | None
    num_classes: int
    class_names: list[str]
    input_shape: tuple[int, ...]
    sizes: dict[str, int]
    sample_rate: int | None = None
    vocab_size: int | None = None
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def builder_arguments(self) -> dict[str, Any]:
        """Arguments a model builder takes from the data: its input shape and classes."""
        arguments = {"input_shape": self.input_shape, "num_classes": self.num_classes}
        if self.vocab_size is not None:
            arguments["vocab_size"] = self.vocab_size
        if self.sample_rate is not None:
            arguments["sample_rate"] = self.sample_rate
        return arguments


def split_indices(
    labels: np.ndarray,
    validation_split: float,
    test_split: float,
    seed: int,
    test_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train / validation / test indices, a deterministic function of `seed`.

    With a `test_mask` the test split is exactly the masked examples and validation is
    drawn from the rest.
    """
    rng = np.random.default_rng(seed)
    train, validation, test = [], [], []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if test_mask is not None:
            test.extend(members[test_mask[members]])
            members = members[~test_mask[members]]
            n_test = 0
        else:
            n_test = int(round(test_split * len(members)))
        members = rng.permutation(members)
        n_val = int(round(validation_split * len(members)))
        test.extend(members[:n_test])
        validation.extend(members[n_test : n_test + n_val])
        train.extend(members[n_test + n_val :])
    return tuple(np.sort(np.asarray(s, "int64")) for s in (train, validation, test))


def prepare(examples: Examples, data: dict[str, Any], batch_size: int, seed: int) -> Dataset:
    """Turns loaded examples into the batched splits the training runner fits on."""
    if len(examples) == 0:
        raise ConfigError("The data set is empty: the source yielded no examples.")
    feature_type = (
        audio_features.resolve(data["features"])["type"] if examples.kind == "audio" else None
    )
    augment = augmentation.resolve(data.get("augment"), feature_type)
    if data.get("trim_silence") is not None and examples.kind != "audio":
        raise ConfigError(
            f"`data.trim_silence` applies to audio; this source holds {examples.kind}. "
            "Remove it from the config."
        )
    inputs, extra, waveforms = _inputs(examples, data)
    train_idx, val_idx, test_idx = split_indices(
        examples.labels, data["validation_split"], data["test_split"], seed, examples.test_mask
    )
    if len(train_idx) == 0:
        raise ConfigError(
            f"No training examples are left after the splits ({len(examples)} examples, "
            f"validation_split={data['validation_split']}, test_split={data['test_split']}). "
            "Lower the split fractions or add data."
        )
    if examples.kind == "text":
        inputs, extra["vocab_size"] = _vectorize(inputs, train_idx)
    targets = inputs if data["targets"] == "inputs" else examples.labels
    arrays = {
        name: (inputs[idx], targets[idx])
        for name, idx in (("train", train_idx), ("validation", val_idx), ("test", test_idx))
    }

    # Waveform augmentation of log-mel / MFCC inputs: features after it, every epoch.
    features = None
    if feature_type in ("logmel", "mfcc") and set(augment) & set(augmentation.WAVEFORM):
        features = _features_of(examples.sample_rate, data["features"], inputs.shape[1:])

    def batched(name: str, shuffle: bool):
        x, y = arrays[name]
        if len(y) == 0:
            return None
        if shuffle and features is not None:
            x = (waveforms[0][train_idx][..., None], waveforms[1][train_idx])  # (n, samples, 1)
        if not shuffle:
            dataset = tf.data.Dataset.from_tensor_slices((x, y))
            return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
        # A new order of the whole split every epoch. Positions are shuffled, not
        # examples, so the buffer holds integers however large the examples are; a
        # buffer of examples smaller than the split would hand the model long runs of
        # one class, since sources list their examples class by class.
        tensors = tf.nest.map_structure(tf.convert_to_tensor, (x, y))
        order = tf.data.Dataset.range(len(y))
        order = order.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
        dataset = order.map(
            lambda i: tf.nest.map_structure(lambda t: tf.gather(t, i), tensors),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        dataset = augmentation.apply(dataset, augment, seed, features)  # training only
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    return Dataset(
        train=batched("train", shuffle=True),
        validation=batched("validation", shuffle=False),
        test=batched("test", shuffle=False),
        num_classes=len(examples.class_names),
        class_names=list(examples.class_names),
        input_shape=tuple(int(d) for d in inputs.shape[1:]),
        sizes={name: len(x) for name, (x, _) in arrays.items()},
        sample_rate=examples.sample_rate,
        arrays=arrays,
        **extra,
    )


def _features_of(sample_rate: int, spec: dict[str, Any], shape: tuple[int, ...]):
    """The `(waveform (samples, 1), length) -> frames` function of on-the-fly features."""
    extractor = audio_features.Extractor(sample_rate, audio_features.resolve(spec))

    def compute(wave: tf.Tensor, length: tf.Tensor) -> tf.Tensor:
        frames, _ = extractor(tf.transpose(wave), length[None])
        return tf.ensure_shape(frames[0], shape)

    return compute


def _inputs(examples: Examples, data: dict[str, Any]):
    """The model inputs of every example, what the data set adds, and (for audio) the
    padded waveforms and their lengths."""
    if examples.kind == "audio":
        spec = audio_features.resolve(data["features"])
        waves = examples.inputs
        if data.get("trim_silence") is not None:
            waves = [trim_silence(w, examples.sample_rate, data["trim_silence"]) for w in waves]
        audio, lengths = pad_audio(waves, examples.sample_rate, data["max_seconds"])
        if spec["type"] != "raw":
            frame = audio_features.frame_samples(spec, examples.sample_rate)
            short = np.flatnonzero(lengths < frame)
            if short.size:
                i = int(short[0])
                raise ConfigError(
                    f"Audio {examples.names[i] if examples.names else i} is {int(lengths[i])} "
                    f"samples long (after trimming and `data.max_seconds`), shorter than one "
                    f"feature frame ({spec['frame_ms']} ms, {frame} samples at "
                    f"{examples.sample_rate} Hz). Remove it, raise `data.max_seconds`, or "
                    "lower `data.features.frame_ms`."
                )
        features, _ = audio_features.extract(audio, lengths, examples.sample_rate, spec)
        return features, {}, (audio, lengths)
    if examples.kind == "text":
        return np.asarray(examples.inputs, object), {}, None
    return np.asarray(examples.inputs, "float32"), {}, None


def trim_silence(wave: np.ndarray, sample_rate: int, top_db: float) -> np.ndarray:
    """`wave` without its leading and trailing 10 ms frames more than `top_db` below its peak.

    The frame level is the RMS in decibels, as in librosa's `effects.trim`. Recordings
    of one data set differ in how much silence surrounds the speech (FSDD: 7 ms to
    140 ms before it, depending on the speaker); trimming makes that the same.
    """
    if isinstance(top_db, bool) or not isinstance(top_db, (int, float)) or top_db <= 0:
        raise ConfigError(
            "`data.trim_silence` must be a positive number of decibels (e.g. 30: audio more "
            "than 30 dB below the utterance's peak is cut from both ends) or null. "
            f"Received: {top_db!r}."
        )
    frame = max(sample_rate // 100, 1)
    count = -(-len(wave) // frame)  # the last, shorter frame counts too
    if count == 0:
        return wave
    padded = np.zeros(count * frame)
    padded[: len(wave)] = wave
    power = np.sum(padded.reshape(count, frame) ** 2, axis=1)
    power /= np.minimum(frame, len(wave) - frame * np.arange(count))  # mean over real samples
    level = 10.0 * np.log10(power + 1e-20)
    loud = np.flatnonzero(level >= level.max() - top_db)
    return wave[loud[0] * frame : (loud[-1] + 1) * frame]


def pad_audio(waves, sample_rate: int, max_seconds: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pads (or crops) waveforms to one length; returns them and their real lengths."""
    if max_seconds is not None:
        if not isinstance(max_seconds, (int, float)) or max_seconds <= 0:
            raise ConfigError(
                f"`data.max_seconds` must be a positive number. Received: {max_seconds!r}."
            )
        length = int(round(max_seconds * sample_rate))
    else:
        length = max(len(w) for w in waves)
    audio = np.zeros((len(waves), length), "float32")
    lengths = np.zeros(len(waves), "int32")
    for i, wave in enumerate(waves):
        n = min(len(wave), length)
        audio[i, :n] = wave[:n]
        lengths[i] = n
    return audio, lengths


def _vectorize(
    texts: np.ndarray, train_idx: np.ndarray, max_tokens: int = 20000, length: int = 200
):
    import keras

    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens, output_sequence_length=length
    )
    vectorizer.adapt(tf.constant(texts[train_idx].tolist()))
    tokens = keras.ops.convert_to_numpy(vectorizer(tf.constant(texts.tolist())))
    return tokens.astype("int32"), int(vectorizer.vocabulary_size())
