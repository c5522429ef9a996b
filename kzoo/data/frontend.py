"""The feature front end: what turns a raw example into what a model reads.

- audio: waveform -> silence trimmed (`trim_silence`) -> cropped (`max_seconds`) ->
  features (`raw`, `logmel` or `mfcc`, see `kzoo.data.features`);
- text: string -> token ids over a fixed vocabulary, `sequence_length` long;
- images and tabular data pass through.

One implementation, in TensorFlow ops, for the training and evaluation pipelines
(inside `tf.data`, on every Keras backend) and for prediction, so a model sees the
same features whichever of them feeds it. `get_config` is plain JSON data that a run
directory stores, and `Frontend.from_config` rebuilds the same front end from it (or
from a config's `data` block).

>>> import numpy as np
>>> frontend = Frontend.from_config({"features": {"type": "logmel", "num_mel_bins": 16}},
...                                 kind="audio", sample_rate=8000)
>>> x, frames = frontend(np.zeros((2, 800), "float32"), np.array([800, 400]))
>>> tuple(x.shape), frames.numpy().tolist()
((2, 11, 16), [11, 6])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from kzoo.data import features as audio_features
from kzoo.data.examples import KINDS
from kzoo.errors import ConfigError, did_you_mean

SEQUENCE_LENGTH = 200  # tokens per text
MAX_TOKENS = 20000  # vocabulary size, counting the padding and out-of-vocabulary tokens


class Frontend:
    """`inputs -> (model inputs, lengths)`, one batch at a time.

    Args:
        kind: "audio", "text", "image" or "tabular".
        sample_rate: Hz (audio).
        features: a features spec (`kzoo.data.features.resolve`; audio).
        trim_silence: dB: leading and trailing 10 ms frames more than this below the
            utterance's peak are cut (audio; None keeps them).
        max_seconds: longer audio is cropped to this duration (audio; None keeps it).
        vocabulary: the token list (text), index 0 padding and 1 out-of-vocabulary;
            None until `adapt` sets it.
        sequence_length: tokens per text (longer ones are cut, shorter ones padded).
    """

    def __init__(
        self,
        kind: str,
        *,
        sample_rate: int | None = None,
        features: Mapping[str, Any] | str | None = None,
        trim_silence: float | None = None,
        max_seconds: float | None = None,
        vocabulary: list[str] | None = None,
        sequence_length: int = SEQUENCE_LENGTH,
    ):
        if kind not in KINDS:
            raise ConfigError(f"Unknown kind of data {kind!r}. {did_you_mean(kind, KINDS)}")
        if kind != "audio" and trim_silence is not None:
            raise ConfigError(
                f"`data.trim_silence` applies to audio; this source holds {kind}. "
                "Remove it from the config."
            )
        if trim_silence is not None and (
            isinstance(trim_silence, bool)
            or not isinstance(trim_silence, (int, float))
            or trim_silence <= 0
        ):
            raise ConfigError(
                "`data.trim_silence` must be a positive number of decibels (e.g. 30: audio more "
                "than 30 dB below the utterance's peak is cut from both ends) or null. "
                f"Received: {trim_silence!r}."
            )
        if max_seconds is not None and (
            isinstance(max_seconds, bool)
            or not isinstance(max_seconds, (int, float))
            or max_seconds <= 0
        ):
            raise ConfigError(
                f"`data.max_seconds` must be a positive number. Received: {max_seconds!r}."
            )
        if kind == "audio" and (
            isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0
        ):
            raise ConfigError(
                f"Audio needs a positive integer sample rate in Hz. Received: {sample_rate!r}."
            )
        self.kind = kind
        self.sample_rate = sample_rate if kind == "audio" else None
        self.features = audio_features.resolve(features) if kind == "audio" else None
        self.trim_silence = trim_silence
        self.max_seconds = max_seconds
        self.sequence_length = int(sequence_length)
        self.vocabulary = None if vocabulary is None else [str(t) for t in vocabulary]
        self._extractor = (
            audio_features.Extractor(sample_rate, self.features) if kind == "audio" else None
        )
        self._vectorizer = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> Frontend:
        """A front end from `get_config()`'s output or from a config's `data` block.

        Keys a front end does not use (a data block's `source`, splits ...) are ignored;
        `overrides` (e.g. `kind="audio", sample_rate=8000`, which a data block does not
        hold) win over the mapping.
        """
        merged = {**config, **overrides}
        names = (
            "sample_rate",
            "features",
            "trim_silence",
            "max_seconds",
            "vocabulary",
            "sequence_length",
        )
        return cls(merged.get("kind", "audio"), **{k: merged[k] for k in names if k in merged})

    def get_config(self) -> dict[str, Any]:
        """Plain JSON data: `Frontend.from_config(frontend.get_config())` is the same front end."""
        config: dict[str, Any] = {"kind": self.kind}
        if self.kind == "audio":
            config.update(
                sample_rate=self.sample_rate,
                features=dict(self.features),
                trim_silence=self.trim_silence,
                max_seconds=self.max_seconds,
            )
        if self.kind == "text":
            config.update(vocabulary=self.vocabulary, sequence_length=self.sequence_length)
        return config

    # --- audio --------------------------------------------------------------------------

    @property
    def max_samples(self) -> int | None:
        """The crop length in samples (`max_seconds`), None when audio is not cropped."""
        if self.max_seconds is None:
            return None
        return int(round(self.max_seconds * self.sample_rate))

    def frames(self, num_samples: int) -> int:
        """Feature frames (time steps) of `num_samples` samples of audio."""
        return audio_features.frame_count(int(num_samples), self.sample_rate, self.features)

    @property
    def dims(self) -> int:
        """Values per feature frame."""
        kind = self.features["type"]
        if kind == "raw":
            return 1
        return int(self.features["num_mfcc" if kind == "mfcc" else "num_mel_bins"])

    def clip(self, wave: tf.Tensor) -> tf.Tensor:
        """One waveform (samples,) with its silent ends trimmed and cropped to `max_seconds`."""
        wave = tf.convert_to_tensor(wave, tf.float32)
        if self.trim_silence is not None:
            wave = trim(wave, self.sample_rate, self.trim_silence)
        if self.max_samples is not None:
            wave = wave[: self.max_samples]
        return wave

    def clip_batch(self, waveforms, lengths) -> tuple[tf.Tensor, tf.Tensor]:
        """A zero-padded batch `clip`ped: `(waveforms (n, samples), lengths (n,))`, cut to
        the longest clipped waveform.

        Trimming silence finds each utterance's own start and end, so it runs `clip` on
        one waveform at a time; cropping alone is a slice of the whole batch, which
        converts to LiteRT's built-in ops.
        """
        waveforms = tf.convert_to_tensor(waveforms, tf.float32)
        lengths = tf.cast(lengths, tf.int32)
        if self.trim_silence is not None:
            width = tf.shape(waveforms)[1]

            def one(pair):
                wave, length = pair
                clipped = self.clip(wave[:length])
                count = tf.shape(clipped)[0]
                return tf.pad(clipped, [[0, width - count]]), count

            waveforms, lengths = tf.map_fn(
                one,
                (waveforms, lengths),
                fn_output_signature=(tf.TensorSpec([None], tf.float32), tf.int32),
            )
        elif self.max_samples is not None:
            lengths = tf.minimum(lengths, self.max_samples)
        return waveforms[:, : tf.reduce_max(lengths)], lengths

    def __call__(self, inputs, lengths=None) -> tuple[tf.Tensor, tf.Tensor]:
        """A batch: `(model inputs, lengths)`.

        audio: `inputs` float32 (n, samples), zero-padded, `lengths` (n,) real samples
        (default: all) -> features (n, frames, dims) with the frames past each
        utterance's end exactly zero, and the real frames of each. Audio is expected
        already `clip`ped. text: strings (n,) -> int32 tokens (n, sequence_length) and
        the tokens each holds. Other kinds pass through, with their batch length.
        """
        if self.kind == "audio":
            inputs = tf.convert_to_tensor(inputs, tf.float32)
            if lengths is None:
                lengths = tf.fill([tf.shape(inputs)[0]], tf.shape(inputs)[1])
            return self._extractor(inputs, lengths)
        if self.kind == "text":
            tokens = tf.cast(self.vectorizer(tf.convert_to_tensor(inputs, tf.string)), tf.int32)
            return tokens, tf.reduce_sum(tf.cast(tokens > 0, tf.int32), axis=-1)
        inputs = tf.convert_to_tensor(inputs)
        return inputs, tf.fill([tf.shape(inputs)[0]], tf.shape(inputs)[1])

    # --- text ---------------------------------------------------------------------------

    def adapt(self, texts) -> Frontend:
        """Sets the text vocabulary from `texts` (the training split's), most frequent first."""
        import keras

        vectorizer = keras.layers.TextVectorization(
            max_tokens=MAX_TOKENS, output_sequence_length=self.sequence_length
        )
        vectorizer.adapt(tf.constant(list(texts)))
        self.vocabulary = [str(t) for t in vectorizer.get_vocabulary()]
        self._vectorizer = vectorizer
        return self

    @property
    def vectorizer(self):
        """The `keras.layers.TextVectorization` layer that turns strings into token ids.

        Made once from `vocabulary` (or by `adapt`) and built, it is what `__call__` applies to
        text, in training, evaluation and prediction alike; a raw-input export tracks
        this same layer so the artifact carries the vocabulary. Its output is int64
        (n, sequence_length); `__call__` casts it to the int32 the models read.
        """
        if self.kind != "text":
            raise ValueError(
                f"Only a text front end has a vectorizer; this one is for {self.kind}."
            )
        if self._vectorizer is None:
            if self.vocabulary is None:
                raise ValueError(
                    "This text front end has no vocabulary yet. Call `adapt(texts)` on the "
                    "training texts, or build it from a config that holds `vocabulary`."
                )
            import keras

            self._vectorizer = keras.layers.TextVectorization(
                vocabulary=self.vocabulary, output_sequence_length=self.sequence_length
            )
        if not self._vectorizer.built:  # an export tracks only built layers
            self._vectorizer.build((None,))
        return self._vectorizer

    @property
    def vocab_size(self) -> int | None:
        return None if self.vocabulary is None else len(self.vocabulary)


def trim(wave: tf.Tensor, sample_rate: int, top_db: float) -> tf.Tensor:
    """`wave` without its leading and trailing 10 ms frames more than `top_db` below its peak.

    The frame level is the RMS in decibels, as in librosa's `effects.trim`; the last,
    shorter frame is measured over its real samples. Recordings of one data set differ
    in how much silence surrounds the speech (FSDD: 7 ms to 140 ms before it,
    depending on the speaker); trimming makes that the same.
    """
    frame = max(sample_rate // 100, 1)
    n = tf.shape(wave)[0]
    count = (n + frame - 1) // frame
    padded = tf.pad(tf.cast(wave, tf.float64), [[0, count * frame - n]])
    power = tf.reduce_sum(tf.reshape(padded, [count, frame]) ** 2, axis=1)
    power /= tf.cast(tf.minimum(frame, n - frame * tf.range(count)), tf.float64)
    level = 10.0 * tf.math.log(power + 1e-20) / np.log(10.0)
    loud = tf.cast(tf.where(level >= tf.reduce_max(level) - top_db)[:, 0], tf.int32)
    start = tf.cond(count > 0, lambda: loud[0] * frame, lambda: 0)
    end = tf.cond(count > 0, lambda: tf.minimum((loud[-1] + 1) * frame, n), lambda: n)
    return wave[start:end]


__all__ = ["Frontend", "trim"]
