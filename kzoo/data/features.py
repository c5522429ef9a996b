"""Audio front ends chosen by config: raw waveform, log-mel spectrogram, MFCC.

```yaml
features: {type: logmel, num_mel_bins: 40, frame_ms: 25, hop_ms: 10, top_db: 80,
           normalize: utterance}
```
Features are computed once per data set, on padded batches, with Keras's own
`MelSpectrogram` layer (and, when the waveforms are augmented, again for each
training batch every epoch, by the same `Extractor`; `kzoo.data.frontend` wraps it). An utterance's features
depend on its own samples only, never on the batch or the padding it was computed
with; frames past its end are set to zero so masking layers (`keras.layers.Masking`)
and length-aware losses can ignore them. Log-mel values are floored `top_db` below each utterance's loudest bin (librosa's
`power_to_db(top_db=...)` rule, per utterance), so an utterance's features do not
depend on the others it was computed with, and near-digital silence does not
reach down to the numeric floor.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kzoo.errors import ConfigError, check_number, did_you_mean

TYPES = ("raw", "logmel", "mfcc")
DEFAULTS: dict[str, dict[str, Any]] = {
    "raw": {"normalize": "utterance"},
    "logmel": {
        "num_mel_bins": 40,
        "frame_ms": 25.0,
        "hop_ms": 10.0,
        "top_db": 80.0,
        "normalize": "utterance",
    },
    "mfcc": {
        "num_mel_bins": 40,
        "num_mfcc": 13,
        "frame_ms": 25.0,
        "hop_ms": 10.0,
        "top_db": 80.0,
        "normalize": "utterance",
    },
}
# "utterance": one mean and variance per utterance (removes level, keeps spectral shape);
# "cmvn": per utterance and feature (cepstral mean and variance normalization, which on a
# short stationary sound removes the spectral envelope itself).
NORMALIZATIONS = (None, "utterance", "cmvn")
# key -> (a count?, the largest value accepted): far above real use, below what exhausts memory.
_RANGES = {
    "num_mel_bins": (True, 1024),
    "num_mfcc": (True, 1024),
    "frame_ms": (False, 10_000.0),
    "hop_ms": (False, 10_000.0),
    "top_db": (False, 1_000.0),
}


def resolve(spec: dict[str, Any] | str | None) -> dict[str, Any]:
    """A complete features spec: the type's defaults overridden by `spec`."""
    if spec is not None and not isinstance(spec, (str, dict)):
        raise ConfigError(
            "`data.features` must be a type name (raw, logmel, mfcc) or a mapping such as "
            f"{{type: logmel, num_mel_bins: 40}}. Received: {spec!r}."
        )
    spec = {"type": spec} if isinstance(spec, str) else dict(spec or {"type": "raw"})
    kind = spec.get("type", "raw")
    if not isinstance(kind, str) or kind not in TYPES:
        raise ConfigError(f"Unknown `data.features.type` {kind!r}. {did_you_mean(kind, TYPES)}")
    unknown = set(spec) - set(DEFAULTS[kind]) - {"type"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(
            f"Unknown key `data.features.{key}` for features of type {kind!r}. "
            f"{did_you_mean(key, DEFAULTS[kind])}"
        )
    resolved = {"type": kind, **DEFAULTS[kind], **spec}
    for key, (integer, largest) in _RANGES.items():
        if key in resolved:
            check_number(
                f"data.features.{key}",
                resolved[key],
                integer=integer,
                minimum=0,
                exclusive_minimum=True,
                maximum=largest,
            )
    if resolved["normalize"] not in NORMALIZATIONS:
        raise ConfigError(
            "`data.features.normalize` must be `utterance` (zero mean, unit variance per "
            "utterance), `cmvn` (per utterance and feature) or null. "
            f"Received: {resolved['normalize']!r}."
        )
    return resolved


def frame_count(num_samples: int, sample_rate: int, spec: dict[str, Any]) -> int:
    """How many feature frames `num_samples` samples give (samples for raw audio)."""
    if spec["type"] == "raw":
        return num_samples
    hop = _samples(spec["hop_ms"], sample_rate)
    return 1 + num_samples // hop


def extract(audio: np.ndarray, lengths: np.ndarray, sample_rate: int, spec: dict[str, Any]):
    """Features of a padded batch of waveforms, computed by an `Extractor` in chunks.

    Args:
        audio: float32 (n, samples), zero-padded.
        lengths: (n,) number of real samples of each waveform.
        sample_rate: Hz.
        spec: a resolved features spec.

    Returns:
        (features, frame_lengths): float32 (n, frames, dims) with padded frames zeroed,
        and the number of real frames of each example.
    """
    extractor = Extractor(sample_rate, spec)
    chunks = tf.data.Dataset.from_tensor_slices(
        (np.asarray(audio, "float32"), np.asarray(lengths, "int32"))
    )
    computed = [(x.numpy(), n.numpy()) for x, n in chunks.batch(256).map(extractor)]
    if not computed:
        dims = {"raw": 1, "logmel": spec.get("num_mel_bins"), "mfcc": spec.get("num_mfcc")}
        frames = frame_count(audio.shape[1], sample_rate, spec)
        return np.zeros((0, frames, dims[spec["type"]]), "float32"), np.zeros(0, "int32")
    return np.concatenate([x for x, _ in computed]), np.concatenate([n for _, n in computed])


class Extractor:
    """`(audio (n, samples), lengths (n,)) -> (features (n, frames, dims), frames (n,))`.

    TensorFlow ops (Keras's `MelSpectrogram` runs on TensorFlow inside `tf.data` on
    every backend), for use inside `tf.data` pipelines: `extract` maps it over a data
    set once; with waveform augmentation the training pipeline applies it to each
    batch, after augmenting the waveforms.
    """

    def __init__(self, sample_rate: int, spec: dict[str, Any]):
        self.spec = spec
        if spec["type"] == "raw":
            return
        frame = _samples(spec["frame_ms"], sample_rate)
        self.hop = _samples(spec["hop_ms"], sample_rate)
        self.mel = keras.layers.MelSpectrogram(
            fft_length=int(2 ** np.ceil(np.log2(frame))),
            sequence_stride=self.hop,
            sequence_length=frame,
            num_mel_bins=spec["num_mel_bins"],
            sampling_rate=sample_rate,
            max_freq=sample_rate / 2,
            power_to_db=False,  # in decibels per utterance below (Keras floors per batch)
            dtype="float32",
        )
        if spec["type"] == "mfcc":
            self.dct = tf.constant(_dct_matrix(spec["num_mel_bins"], spec["num_mfcc"]))

    def __call__(self, audio: tf.Tensor, lengths: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        lengths = tf.cast(lengths, tf.int32)
        audio = tf.convert_to_tensor(audio, tf.float32)
        # Samples past each utterance's end are zero, however the batch was padded.
        audio = tf.where(tf.range(tf.shape(audio)[1])[None, :] < lengths[:, None], audio, 0.0)
        if self.spec["type"] == "raw":
            features, frames = audio[..., None], lengths
        else:
            # The STFT reflects the buffer's last half window back into it. At least that
            # many zeros after the longest utterance make every frame a function of its
            # own utterance alone: the same features alone, in a batch, at any padding.
            steps = 1 + tf.shape(audio)[1] // self.hop
            padded = tf.pad(audio, [[0, 0], [0, self.mel.fft_length // 2]])
            power = tf.transpose(self.mel(padded), (0, 2, 1))[:, :steps]  # (n, frames, mels)
            frames = tf.minimum(1 + lengths // self.hop, steps)
            features = _to_db(power, _mask(power, frames), self.spec["top_db"])
            if self.spec["type"] == "mfcc":
                features = tf.tensordot(features, self.dct, axes=1)
        mask = _mask(features, frames)
        if self.spec["normalize"]:
            features = _normalize(features, mask, self.spec["normalize"] == "cmvn")
        return tf.where(tf.expand_dims(mask, -1), features, 0.0), frames


def frame_samples(spec: dict[str, Any], sample_rate: int) -> int:
    """How many samples one feature frame spans."""
    return _samples(spec["frame_ms"], sample_rate)


def _samples(ms: float, sample_rate: int) -> int:
    return max(int(round(ms * sample_rate / 1000)), 1)


def _mask(x: tf.Tensor, frames: tf.Tensor) -> tf.Tensor:
    """(n, steps): True on the first `frames[i]` steps of example i."""
    return tf.range(tf.shape(x)[1])[None, :] < frames[:, None]


def _to_db(power: tf.Tensor, real: tf.Tensor, top_db: float) -> tf.Tensor:
    """10 log10(power), floored `top_db` below the loudest real bin of each utterance."""
    db = 10.0 * tf.math.log(tf.maximum(power, 1e-10)) / tf.math.log(10.0)
    loudest = tf.reduce_max(
        tf.where(tf.expand_dims(real, -1), db, tf.float32.min), axis=(1, 2), keepdims=True
    )
    return tf.maximum(db, loudest - top_db)


def _dct_matrix(num_mel_bins: int, num_mfcc: int) -> np.ndarray:
    """Orthonormal DCT-II basis, (mels, mfcc): MFCCs are the DCT of the log-mel frames."""
    n = np.arange(num_mel_bins)[:, None]
    k = np.arange(num_mfcc)[None, :]
    basis = np.cos(np.pi / num_mel_bins * (n + 0.5) * k) * np.sqrt(2.0 / num_mel_bins)
    basis[:, 0] /= np.sqrt(2.0)
    return basis.astype("float32")


def _normalize(features: tf.Tensor, mask: tf.Tensor, per_feature: bool) -> tf.Tensor:
    """Zero mean and unit variance per utterance (and feature), over real frames only."""
    axes = (1,) if per_feature else (1, 2)
    weights = tf.broadcast_to(tf.cast(tf.expand_dims(mask, -1), features.dtype), tf.shape(features))
    count = tf.maximum(tf.reduce_sum(weights, axis=axes, keepdims=True), 1.0)
    mean = tf.reduce_sum(features * weights, axis=axes, keepdims=True) / count
    var = tf.reduce_sum(((features - mean) ** 2) * weights, axis=axes, keepdims=True) / count
    return (features - mean) / tf.sqrt(var + 1e-5)
