"""Examples -> front end -> train / validation / test splits -> batched `tf.data` pipelines.

Audio goes through two stages:

1. Once, when the data is loaded: every clip is decoded (files in parallel, never all
   held at once), trimmed and cropped, and its features computed by the front end
   (`kzoo.data.frontend`). What does not change between epochs is kept, packed end
   to end (`kzoo.data.store`): the features, and for waveform augmentation the
   training clips. A file that fails to decode here stops the load with one line that
   names it, before a run directory exists.
2. Every epoch, inside the `tf.data` graph, in parallel (AUTOTUNE), deterministic
   given the seed: a new order of the training split (batched by length when
   `bucketing` applies, `kzoo.data.bucketing`), the examples of each batch gathered
   and zero-padded, waveform augmentation and the features after it, then the
   feature augmentations (`kzoo.data.augment`).

Images, tabular data and text (tokens from the front end) are held in memory and
batched the same way, without bucketing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from kzoo.data import augment as augmentation
from kzoo.data import bucketing, folders, store
from kzoo.data import features as audio_features
from kzoo.data.examples import Examples
from kzoo.data.frontend import Frontend, trim
from kzoo.errors import ConfigError

DECODE_BATCH = 64  # clips whose features are computed together when the data is loaded


@dataclass
class Dataset:
    """Batched, prefetched splits plus what a model builder needs to know about them.

    `arrays` holds every split as padded numpy `(inputs, targets)`, made when first
    read (for tools that need arrays, such as the tuner); the splits never need it.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset | None
    test: tf.data.Dataset | None
    num_classes: int
    class_names: list[str]
    input_shape: tuple[int | None, ...]
    sizes: dict[str, int]
    sample_rate: int | None = None
    vocab_size: int | None = None
    frontend: Frontend | None = field(default=None, repr=False)
    bucketing: dict[str, Any] | None = None
    materialize: Callable[[], dict[str, tuple[np.ndarray, np.ndarray]]] | None = field(
        default=None, repr=False
    )
    _arrays: dict[str, tuple[np.ndarray, np.ndarray]] | None = field(default=None, repr=False)

    @property
    def arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if self._arrays is None:
            self._arrays = self.materialize() if self.materialize else {}
        return self._arrays

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


def prepare(
    examples: Examples,
    data: dict[str, Any],
    batch_size: int,
    seed: int,
    variable_length: bool = False,
    steps: int | None = None,
) -> Dataset:
    """Turns loaded examples into the batched splits the training runner fits on.

    Args:
        examples: what a source loaded.
        data: a config's `data` block.
        batch_size: examples per batch.
        seed: splits, order and augmentation are a deterministic function of it.
        variable_length: whether the model takes inputs of any length, so batches of
            audio may be padded to their own longest clip (`data.bucketing`).
        steps: the time steps a trained model with a fixed input length takes: audio
            is padded or cut to them (evaluation on new data). None: the longest clip's
            (or `data.max_seconds`').
    """
    if len(examples) == 0:
        raise ConfigError("The data set is empty: the source yielded no examples.")
    frontend = Frontend.from_config(data, kind=examples.kind, sample_rate=examples.sample_rate)
    feature_type = frontend.features["type"] if examples.kind == "audio" else None
    augment = augmentation.resolve(data.get("augment"), feature_type)
    options = bucketing.resolve(data.get("bucketing", True))
    cache = store.resolve_cache(data.get("cache", "auto"))
    if not variable_length or examples.kind != "audio":
        options = None
    splits = dict(
        zip(
            ("train", "validation", "test"),
            split_indices(
                examples.labels,
                data["validation_split"],
                data["test_split"],
                seed,
                examples.test_mask,
            ),
        )
    )
    if len(splits["train"]) == 0:
        raise ConfigError(
            f"No training examples are left after the splits ({len(examples)} examples, "
            f"validation_split={data['validation_split']}, test_split={data['test_split']}). "
            "Lower the split fractions or add data."
        )
    common = dict(
        num_classes=len(examples.class_names),
        class_names=list(examples.class_names),
        sizes={name: len(idx) for name, idx in splits.items()},
        frontend=frontend,
    )
    autoencoder = data["targets"] == "inputs"
    if examples.kind != "audio":
        return _in_memory(examples, frontend, splits, autoencoder, batch_size, seed, common)
    return _audio(
        examples,
        frontend,
        splits,
        augment,
        options,
        cache,
        autoencoder,
        batch_size,
        seed,
        common,
        steps,
    )


def _in_memory(examples, frontend, splits, autoencoder, batch_size, seed, common) -> Dataset:
    """Images, tabular data and text: every example's inputs in one array."""
    if examples.kind == "text":
        texts = np.asarray(examples.inputs, object)
        if frontend.vocabulary is None:  # a trained run's evaluation keeps its own
            frontend.adapt(texts[splits["train"]].tolist())
        inputs = np.concatenate(
            [frontend(texts[i : i + 1024].tolist())[0].numpy() for i in range(0, len(texts), 1024)]
        )
    else:
        inputs = np.asarray(examples.inputs, "float32")
    targets = inputs if autoencoder else np.asarray(examples.labels, "int32")
    x_all, y_all = tf.constant(inputs), tf.constant(targets)

    def split(name: str, shuffle: bool):
        idx = splits[name]
        if len(idx) == 0:
            return None
        chosen = tf.constant(idx)
        order = bucketing.batches(
            np.zeros(len(idx)), batch_size, seed, shuffle=shuffle, options=None
        )

        def load(positions, _draws):
            rows = tf.gather(chosen, positions)
            return tf.gather(x_all, rows), tf.gather(y_all, rows)

        return order.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(
            tf.data.AUTOTUNE
        )

    arrays = {name: (inputs[idx], targets[idx]) for name, idx in splits.items()}
    return Dataset(
        train=split("train", True),
        validation=split("validation", False),
        test=split("test", False),
        input_shape=tuple(int(d) for d in inputs.shape[1:]),
        vocab_size=frontend.vocab_size,
        _arrays=arrays,
        **common,
    )


def _audio(
    examples,
    frontend,
    splits,
    augment,
    options,
    cache,
    autoencoder,
    batch_size,
    seed,
    common,
    steps=None,
) -> Dataset:
    train_idx = splits["train"]
    on_the_fly = frontend.features["type"] in ("logmel", "mfcc") and bool(
        set(augment) & set(augmentation.WAVEFORM)
    )
    keep = np.zeros(len(examples), bool)
    keep[train_idx] = on_the_fly
    features, waves, clip_lengths = _compute(
        examples, frontend, cache, keep if on_the_fly else None
    )
    frames = features.lengths
    names = examples.names or [f"example {i}" for i in range(len(examples))]
    _check_clips_fill_a_frame(frontend, clip_lengths, names, examples.sample_rate)
    longest = int(np.argmax(frames))
    bucketing.check_fits(options, int(frames[longest]), names[longest])
    # Without bucketing every batch has one length: the crop length, or the longest clip.
    samples = frontend.max_samples or int(clip_lengths.max())
    fixed = int(steps) if steps else frontend.frames(samples)
    dims = frontend.dims
    labels = tf.constant(np.asarray(examples.labels, "int32"))
    stretch = augment.get("time_stretch", 0.0)
    shift = augment.get("time_shift", 0.0)

    def expected_length(lengths: tf.Tensor, draws: tf.Tensor) -> tf.Tensor:
        return augmentation.expected_length(lengths, augment, draws)

    def waveform_features(waves: tf.Tensor, lengths: tf.Tensor) -> tf.Tensor:
        return frontend(waves[..., 0], lengths)[0]  # the whole batch at once

    def finish(x: tf.Tensor, chosen: tf.Tensor, longest: tf.Tensor | None):
        if options:
            if longest is None:  # augmented: as long as its longest example now is
                active = tf.reduce_any(tf.not_equal(x, 0.0), axis=-1)
                positions = tf.range(1, tf.shape(x)[1] + 1)[None]
                longest = tf.reduce_max(tf.where(active, positions, 0))
            padded = tf.cast(bucketing.padded_length(options, longest), tf.int32)
            x = x[:, :padded]
            x = tf.pad(x, [[0, 0], [0, padded - tf.shape(x)[1]], [0, 0]])
            x = tf.ensure_shape(x, [None, None, dims])
        else:
            x = x[:, :fixed]
            x = tf.pad(x, [[0, 0], [0, fixed - tf.shape(x)[1]], [0, 0]])
            x = tf.ensure_shape(x, [None, fixed, dims])
        y = features.gather(chosen, tf.shape(x)[1])[0] if autoencoder else tf.gather(labels, chosen)
        return x, y

    def split(name: str, shuffle: bool):
        idx = splits[name]
        if len(idx) == 0:
            return None
        chosen_all = tf.constant(idx)
        order = bucketing.batches(
            frames[idx],
            batch_size,
            seed,
            shuffle=shuffle,
            options=options,
            expected=expected_length if shuffle and augment else None,
        )
        split_frames = tf.constant(frames[idx])
        wave_lengths = tf.constant(waves.lengths) if (shuffle and on_the_fly) else None

        def load(positions, draws):
            chosen = tf.gather(chosen_all, positions)
            if shuffle and on_the_fly:  # waves: the training clips, in split order
                longest = tf.reduce_max(tf.gather(wave_lengths, positions))
                steps = (
                    tf.cast(tf.math.ceil(tf.cast(longest, tf.float32) * (1 + stretch)), tf.int64)
                    if options
                    else samples
                )
                wave, length = waves.gather(positions, steps)
                x = augmentation.augment_batch(wave, augment, draws, length, waveform_features)
            else:
                longest = tf.reduce_max(tf.gather(split_frames, positions))
                steps = (
                    tf.cast(tf.math.ceil(tf.cast(longest, tf.float32) * (1 + shift)), tf.int64)
                    if options
                    else fixed
                )
                x, length = features.gather(chosen, steps)
                if not (shuffle and augment):
                    return finish(x, chosen, longest)
                x = augmentation.augment_batch(x, augment, draws, length)
            return finish(x, chosen, None)

        dataset = order.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return dataset.prefetch(tf.data.AUTOTUNE)

    def materialize():
        arrays = {}
        for name, idx in splits.items():
            x = features.dense(idx, fixed)
            arrays[name] = (x, x if autoencoder else np.asarray(examples.labels)[idx])
        return arrays

    return Dataset(
        train=split("train", True),
        validation=split("validation", False),
        test=split("test", False),
        input_shape=(None, dims) if options else (fixed, dims),
        sample_rate=examples.sample_rate,
        bucketing=options,
        materialize=materialize,
        **common,
    )


def _compute(examples: Examples, frontend: Frontend, cache, keep: np.ndarray | None):
    """Every clip decoded, clipped and turned into features once, in index order.

    Returns the features (`store.Ragged`, one entry per example), when `keep` marks
    examples their clipped waveforms (one entry per marked example, in order), and the
    length in samples of every clipped waveform.
    """
    failures: list[str] = []
    clips = _waveforms(examples, failures).map(
        lambda wave: (lambda w: (w, tf.shape(w)[0]))(frontend.clip(wave)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    batches = clips.padded_batch(DECODE_BATCH).map(
        lambda w, n: (*frontend(w, n), w, n),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    features = store.Writer(cache)
    waves = store.Writer(cache) if keep is not None else None
    index = 0
    lengths = np.zeros(len(examples), "int64")
    try:
        for x, frames, w, n in batches.prefetch(2):
            x, frames, w, n = x.numpy(), frames.numpy(), w.numpy(), n.numpy()
            for j in range(len(frames)):
                features.add(x[j, : frames[j]])
                lengths[index] = n[j]
                if waves is not None and keep[index]:
                    waves.add(w[j, : n[j], None])
                index += 1
    except tf.errors.OpError as error:
        message = failures[0] if failures else str(error.message).strip().splitlines()[0]
        raise ConfigError(message) from None
    return features.finish(), (waves.finish() if waves is not None else None), lengths


def _waveforms(examples: Examples, failures: list[str]) -> tf.data.Dataset:
    """Each example's waveform (samples,), in index order; files decoded in parallel."""
    inputs = examples.inputs
    if isinstance(inputs, folders.WavFiles):
        rate = examples.sample_rate

        def read(path: bytes) -> np.ndarray:
            try:
                found, wave = folders.read_wav(Path(path.decode()))
                if found != rate:
                    raise ConfigError(
                        f"Audio file {path.decode()} is sampled at {found} Hz; expected {rate} "
                        "Hz like the rest of the data set (it changed after it was listed)."
                    )
            except ConfigError as error:
                failures.append(str(error))
                raise
            return wave.astype("float32")

        paths = tf.data.Dataset.from_tensor_slices([str(p) for p in inputs.paths])
        return paths.map(
            lambda p: tf.ensure_shape(tf.numpy_function(read, [p], tf.float32), [None]),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    waves = [np.asarray(w, "float32").reshape(-1) for w in inputs]
    ragged = tf.RaggedTensor.from_row_lengths(
        np.concatenate(waves), np.array([len(w) for w in waves], "int64")
    )
    return tf.data.Dataset.from_tensor_slices(ragged)


def trim_silence(wave: np.ndarray, sample_rate: int, top_db: float) -> np.ndarray:
    """`wave` without its leading and trailing 10 ms frames more than `top_db` below its peak
    (the front end's `trim`, on one numpy waveform)."""
    Frontend("audio", sample_rate=sample_rate, trim_silence=top_db)  # checks top_db
    return trim(tf.constant(np.asarray(wave)), sample_rate, top_db).numpy()


def _check_clips_fill_a_frame(frontend, clip_lengths, names, sample_rate: int) -> None:
    """A clip shorter than one STFT frame (after trimming and cropping) has no features."""
    spec = frontend.features
    if spec["type"] == "raw":
        return
    frame = audio_features.frame_samples(spec, sample_rate)
    short = np.flatnonzero(np.asarray(clip_lengths) < frame)
    if short.size:
        i = int(short[0])
        raise ConfigError(
            f"Audio {names[i]} is {int(clip_lengths[i])} samples long (after trimming and "
            f"`data.max_seconds`), shorter than one feature frame ({spec['frame_ms']} ms, "
            f"{frame} samples at {sample_rate} Hz). Remove it, raise `data.max_seconds`, or "
            "lower `data.features.frame_ms`."
        )


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


__all__ = ["Dataset", "pad_audio", "prepare", "split_indices", "trim_silence"]
