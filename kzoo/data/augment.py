"""Training-time data augmentation, chosen by a config's `data.augment` block.

```yaml
data:
  features: {type: logmel}
  augment: {spec_augment: {time_masks: 2, time_width: 8, freq_masks: 2, freq_width: 6},
            freq_warp: 0.1, time_shift: 0.1, time_stretch: 0.1, noise: {snr_db: [10, 40]}}
# or, on the raw waveform (features: {type: raw}):
  augment: {noise: {snr_db: [10, 30]}, gain_db: 6, time_shift: 0.1, time_stretch: 0.1}
```

Augmentations run in the `tf.data` pipeline of the training split only, on whole
batches at once (vectorized, batches in parallel); validation and test data are never
augmented. Each example has its own random draw from a stream seeded by the run's
seed (`tf.data.Dataset.random`, re-drawn every epoch), and its augmentation is a
function of that draw alone, whatever batch it lands in, so two runs with the same
seed see the same augmented data.

`time_stretch`, `gain_db` and `noise` act on the waveform. With log-mel or MFCC
features and one of them, the training split keeps its waveforms and computes its
features on the fly, every epoch, after them, a batch at a time (validation and test
features are computed once, by the same front end).

- `spec_augment` (Park et al., "SpecAugment: A Simple Data Augmentation Method for
  Automatic Speech Recognition", Interspeech 2019, arXiv:1904.08779): `time_masks`
  blocks of `w ~ U{0..time_width}` consecutive frames and `freq_masks` blocks of
  `f ~ U{0..freq_width}` consecutive feature bins are set to zero, which is the mean
  of normalized features. Time masks fall inside the utterance (frames before its
  zero padding). Features only (`logmel`, `mfcc`).
- `noise: {snr_db: [low, high]}`: white Gaussian noise at a signal-to-noise ratio
  drawn uniformly in `[low, high]` dB, `sigma^2 = P_signal / 10^(snr / 10)`, with the
  signal power measured over the utterance (not its padding). On the waveform, before
  any features.
- `gain_db: g`: the waveform is scaled by `10^(u / 20)`, `u ~ U[-g, g]`. Raw
  waveforms only (a gain is a constant offset of log-mel features, which their
  normalization removes).
- `freq_warp: r`: the feature bins are resampled at `k * alpha`, `alpha ~ U[1 - r,
  1 + r]` (linear interpolation, the top bin repeated past the edge): a stretch or
  squeeze of the mel axis that imitates another speaker's vocal tract length, in the
  spirit of VTLP (Jaitly and Hinton, "Vocal Tract Length Perturbation (VTLP) improves
  speech recognition", ICML 2013 WDLASL workshop), which warps the frequency axis
  before the mel filters. Log-mel features only (MFCCs mix all bins).
- `time_stretch: r`: the example is resampled along time to `a` times its length,
  `a ~ U[1 - r, 1 + r]` (linear interpolation; the samples past the new end are zero,
  and what passes the last one is dropped): speed perturbation (Ko, Peddinti, Povey
  and Khudanpur, "Audio Augmentation for Speech Recognition", Interspeech 2015), which
  changes tempo, pitch and formants together, as a faster or slower, smaller or larger
  speaker would. On the waveform, before any features.
- `time_shift: r`: the example moves `s ~ U{-r * n..r * n}` steps along time (`n`
  its unpadded length), zero-filling the steps it leaves; what is pushed past either
  end is dropped. Waveforms and features.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import tensorflow as tf

from kzoo.errors import ConfigError, did_you_mean, is_number

SPEC_AUGMENT_DEFAULTS: dict[str, int] = {
    "time_masks": 2,
    "time_width": 8,
    "freq_masks": 2,
    "freq_width": 6,
}
# name -> the feature types it applies to.
AUGMENTATIONS: dict[str, tuple[str, ...]] = {
    "spec_augment": ("logmel", "mfcc"),
    "noise": ("raw", "logmel", "mfcc"),
    "gain_db": ("raw",),
    "freq_warp": ("logmel",),
    "time_shift": ("raw", "logmel", "mfcc"),
    "time_stretch": ("raw", "logmel", "mfcc"),
}
# Applied to the waveform: for log-mel or MFCC inputs the training split's features
# are then computed after them, on the fly, every epoch.
WAVEFORM = ("time_stretch", "gain_db", "noise")


def resolve(spec: Mapping[str, Any] | None, feature_type: str | None = "raw") -> dict[str, Any]:
    """A validated, complete augmentation spec (empty when nothing is augmented).

    Args:
        spec: the `data.augment` mapping of a config.
        feature_type: `raw`, `logmel` or `mfcc` for audio; None for data that is not
            audio (images, text), which accepts no augmentation.

    Returns:
        `{name: settings}` with `spec_augment` completed from its defaults and `noise`
        as `{"snr_db": (low, high)}`.
    """
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise ConfigError(
            "`data.augment` must map augmentation names to their settings, e.g. "
            "{spec_augment: {time_masks: 2}, time_shift: 0.1}, or be {} for none. "
            f"Received: {spec!r}."
        )
    resolved: dict[str, Any] = {}
    for name, value in spec.items():
        if name not in AUGMENTATIONS:
            raise ConfigError(
                f"Unknown augmentation `data.augment.{name}`. {did_you_mean(name, AUGMENTATIONS)}"
            )
        if value is None or value is False or (is_number(value) and value == 0):
            continue  # `noise: null` or `time_stretch: 0` switches one off, e.g. from --set
        if feature_type not in AUGMENTATIONS[name]:
            where = (
                f"features of type {feature_type!r}"
                if feature_type
                else "data that is not audio (augmentation is for audio only)"
            )
            raise ConfigError(
                f"Augmentation `data.augment.{name}` does not apply to {where}. It applies to "
                f"`data.features.type` {' or '.join(AUGMENTATIONS[name])}; remove it or change "
                "the features."
            )
        resolved[name] = _CHECKS[name](value)
    return resolved


def _spec_augment(value: Any) -> dict[str, int]:
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise ConfigError(
            "`data.augment.spec_augment` must be a mapping such as "
            f"{SPEC_AUGMENT_DEFAULTS} (or true for those defaults). Received: {value!r}."
        )
    for key in value:
        if key not in SPEC_AUGMENT_DEFAULTS:
            raise ConfigError(
                f"Unknown key `data.augment.spec_augment.{key}`. "
                f"{did_you_mean(key, SPEC_AUGMENT_DEFAULTS)}"
            )
    settings = {**SPEC_AUGMENT_DEFAULTS, **value}
    for key, number in settings.items():
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ConfigError(
                f"`data.augment.spec_augment.{key}` must be a non-negative integer. "
                f"Received: {number!r}."
            )
    return settings


def _noise(value: Any) -> dict[str, tuple[float, float]]:
    snr = value.get("snr_db") if isinstance(value, Mapping) else None
    if isinstance(value, Mapping) and set(value) - {"snr_db"}:
        key = sorted(set(value) - {"snr_db"})[0]
        raise ConfigError(
            f"Unknown key `data.augment.noise.{key}`. {did_you_mean(key, ['snr_db'])}"
        )
    if is_number(snr):
        snr = [snr, snr]
    if (
        not isinstance(snr, (list, tuple))
        or len(snr) != 2
        or not all(is_number(s) for s in snr)
        or snr[0] > snr[1]
    ):
        raise ConfigError(
            "`data.augment.noise` must be {snr_db: [low, high]}, the range (in dB, low <= "
            "high) of the signal-to-noise ratio drawn for each example, e.g. "
            f"{{snr_db: [10, 30]}}. Received: {value!r}."
        )
    return {"snr_db": (float(snr[0]), float(snr[1]))}


def _gain_db(value: Any) -> float:
    if not is_number(value) or value < 0:
        raise ConfigError(
            "`data.augment.gain_db` must be a non-negative number g: each waveform is scaled "
            f"by a gain drawn uniformly in [-g, g] dB. Received: {value!r}."
        )
    return float(value)


def _time_shift(value: Any) -> float:
    if not is_number(value) or not 0 <= value < 1:
        raise ConfigError(
            "`data.augment.time_shift` must be a fraction in [0, 1): the largest shift, as "
            f"a fraction of each example's length. Received: {value!r}."
        )
    return float(value)


def _time_stretch(value: Any) -> float:
    if not is_number(value) or not 0 <= value < 1:
        raise ConfigError(
            "`data.augment.time_stretch` must be a fraction r in [0, 1): each example is "
            "resampled to a length factor drawn in [1 - r, 1 + r], e.g. 0.1 for the usual "
            f"0.9-1.1 speed perturbation. Received: {value!r}."
        )
    return float(value)


def _freq_warp(value: Any) -> float:
    if not is_number(value) or not 0 <= value < 1:
        raise ConfigError(
            "`data.augment.freq_warp` must be a fraction r in [0, 1): the mel axis is "
            f"stretched by a factor drawn in [1 - r, 1 + r]. Received: {value!r}."
        )
    return float(value)


_CHECKS = {
    "spec_augment": _spec_augment,
    "noise": _noise,
    "gain_db": _gain_db,
    "freq_warp": _freq_warp,
    "time_shift": _time_shift,
    "time_stretch": _time_stretch,
}


def apply(
    dataset: tf.data.Dataset,
    spec: dict[str, Any],
    seed: int,
    features: Callable[[tf.Tensor, tf.Tensor], tf.Tensor] | None = None,
) -> tf.data.Dataset:
    """Augments the inputs of an unbatched `(inputs, targets)` dataset; `spec` from `resolve`.

    Inputs are `(steps, channels)`: `(samples, 1)` for a waveform, `(frames, bins)` for
    features. With `features`, inputs are `(waveform (samples, 1), length)` pairs that
    `features` turns into frames after the waveform augmentations (see `augment`). The
    targets pass through unchanged.
    """
    if not spec and features is None:
        return dataset
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    paired = tf.data.Dataset.zip((dataset, draws))

    def one(example, draw):
        inputs, length = (example[0], None) if features is None else example[0]
        return (augment(inputs, spec, draw, features, length), *example[1:])

    # Stateless random ops: the same results whatever order the parallel calls run in.
    return paired.map(one, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def augment(
    x: tf.Tensor,
    spec: dict[str, Any],
    draw: tf.Tensor,
    features: Callable[[tf.Tensor, tf.Tensor], tf.Tensor] | None = None,
    length: tf.Tensor | None = None,
) -> tf.Tensor:
    """One example `x` (steps, channels) augmented as `spec` says, its randomness keyed by `draw`.

    `augment_batch` on a batch of one: `features`, when given, turns one waveform
    `(samples, 1)` and its length into frames. `length`, the number of real steps,
    defaults to the steps up to the last non-zero one.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    batch_features = None
    if features is not None:

        def batch_features(waves, lengths):
            return features(waves[0], lengths[0])[None]

    lengths = None if length is None else tf.reshape(tf.cast(length, tf.int32), [1])
    return augment_batch(x[None], spec, tf.reshape(draw, [1]), lengths, batch_features)[0]


def augment_batch(
    x: tf.Tensor,
    spec: dict[str, Any],
    draws: tf.Tensor,
    lengths: tf.Tensor | None = None,
    features: Callable[[tf.Tensor, tf.Tensor], tf.Tensor] | None = None,
) -> tf.Tensor:
    """A zero-padded batch `x` (n, steps, channels) augmented as `spec` says.

    Example i's randomness is a function of `draws[i]` alone (never of the batch it is
    in): the same `(example, spec, draw)` always gives the same result. The waveform
    augmentations (`time_stretch`, `gain_db`, `noise`) run first; then `features`
    (`(waveforms (n, samples, 1), lengths (n,)) -> frames (n, frames, dims)`), when
    given; then the rest. Each augmentation draws from its own stream, so adding one
    leaves the others' draws as they were. `lengths` (n,), the real steps of each
    example, default to the steps up to its last non-zero one.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    lengths = _lengths(x) if lengths is None else tf.cast(lengths, tf.int32)
    x, lengths = augment_waveform(x, spec, draws, lengths)
    if features is not None:
        x = features(x, lengths)
        lengths = _lengths(x)
    return augment_features(x, spec, draws, lengths)


def augment_waveform(
    x: tf.Tensor, spec: dict[str, Any], draws: tf.Tensor, lengths: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """`augment_batch`'s first part: `time_stretch`, `gain_db` and `noise`; returns the
    batch and its new lengths (the pipeline computes the features of a batch after it)."""
    lengths = tf.cast(lengths, tf.int32)
    if "time_stretch" in spec:
        x, lengths = _stretch(x, lengths, _stretch_factor(spec["time_stretch"], draws))
    if "gain_db" in spec:
        g = spec["gain_db"]
        gain_db = -g + 2 * g * _uniform(draws, "gain_db", 1)[:, 0]
        x = x * tf.pow(10.0, gain_db / 20.0)[:, None, None]
    if "noise" in spec:
        x = _add_noise(x, lengths, *spec["noise"]["snr_db"], draws)
    return x, lengths


def augment_features(
    x: tf.Tensor, spec: dict[str, Any], draws: tf.Tensor, lengths: tf.Tensor | None = None
) -> tf.Tensor:
    """`augment_batch`'s second part: `time_shift`, `freq_warp` and `spec_augment`."""
    lengths = _lengths(x) if lengths is None else tf.cast(lengths, tf.int32)
    if "time_shift" in spec:
        x = _shift(x, _shift_steps(lengths, spec["time_shift"], draws))
        lengths = _lengths(x)
    if "freq_warp" in spec:
        r = spec["freq_warp"]
        x = _warp(x, 1.0 - r + 2 * r * _uniform(draws, "freq_warp", 1)[:, 0])
    if "spec_augment" in spec:
        settings = spec["spec_augment"]
        steps, bins = tf.shape(x)[1], tf.shape(x)[2]
        keep_t = _keep(steps, lengths, settings["time_masks"], settings["time_width"], draws, 0)
        keep_f = _keep(bins, bins, settings["freq_masks"], settings["freq_width"], draws, 2)
        x = x * tf.cast(keep_t[:, :, None] & keep_f[:, None, :], x.dtype)
    return x


# One random stream per augmentation (see `augment_batch`).
_STREAMS = {
    "spec_augment": 1,
    "noise": 2,
    "gain_db": 3,
    "freq_warp": 4,
    "time_shift": 5,
    "time_stretch": 6,
}
_GOLDEN = 0x9E3779B97F4A7C15  # 2^64 / golden ratio: SplitMix64's increment


def _mix(z: tf.Tensor) -> tf.Tensor:
    """SplitMix64's output function (Steele, Lea and Flood, OOPSLA 2014) on uint64."""
    z = _xor_shift(z, 30) * tf.constant(0xBF58476D1CE4E5B9, tf.uint64)
    z = _xor_shift(z, 27) * tf.constant(0x94D049BB133111EB, tf.uint64)
    return _xor_shift(z, 31)


def _xor_shift(z: tf.Tensor, bits: int) -> tf.Tensor:
    return tf.bitwise.bitwise_xor(z, _shift_right(z, bits))


def _shift_right(z: tf.Tensor, bits: int) -> tf.Tensor:
    return tf.bitwise.right_shift(z, tf.constant(bits, tf.uint64))


def _uniform(draws: tf.Tensor, name: str, count, part: int = 0) -> tf.Tensor:
    """(n, count) uniforms in [0, 1): row i a function of `draws[i]`, the stream and `part`.

    A counter-based generator (each value a hash of its key and index) instead of TF's
    stateless random ops, which take one seed per call: these are vectorized over a
    batch whose examples each have their own seed.
    """
    draws = tf.bitcast(tf.cast(tf.reshape(draws, [-1]), tf.int64), tf.uint64)
    stream = tf.constant((_STREAMS[name] * 8 + part) * _GOLDEN % 2**64, tf.uint64)
    key = _mix(draws + stream)[:, None]
    index = tf.cast(tf.range(count), tf.uint64)[None, :] + tf.constant(1, tf.uint64)
    bits = _shift_right(_mix(key + index * tf.constant(_GOLDEN, tf.uint64)), 40)  # 24 bits
    return tf.cast(tf.cast(bits, tf.int64), tf.float32) * (2.0**-24)


def expected_length(length: tf.Tensor, spec: dict[str, Any], draws: tf.Tensor) -> tf.Tensor:
    """About how many steps examples of `length` steps span after `augment_batch` with
    `draws` (per example, vectorized).

    The same draws as `augment_batch` (speed perturbation stretches an example, a shift
    moves its end), so batching by length can group examples by the length they will
    have; exact up to the rounding of frames.
    """
    length = tf.cast(length, tf.float32)
    if "time_stretch" in spec:
        length *= _stretch_factor(spec["time_stretch"], draws)
    if "time_shift" in spec:
        shift = _shift_steps(tf.cast(length, tf.int32), spec["time_shift"], draws)
        length += tf.cast(shift, tf.float32)
    return length


def _stretch_factor(ratio: float, draws: tf.Tensor) -> tf.Tensor:
    return 1.0 - ratio + 2 * ratio * _uniform(draws, "time_stretch", 1)[:, 0]


def _shift_steps(lengths: tf.Tensor, fraction: float, draws: tf.Tensor) -> tf.Tensor:
    """A shift drawn uniformly in {-limit..limit}, limit = floor(fraction * length)."""
    limit = tf.floor(fraction * tf.cast(lengths, tf.float32))
    u = _uniform(draws, "time_shift", 1)[:, 0]
    return tf.cast(tf.minimum(tf.floor(u * (2 * limit + 1)), 2 * limit) - limit, tf.int32)


def _lengths(x: tf.Tensor) -> tf.Tensor:
    """(n,) steps up to the last one holding a non-zero value: examples without padding."""
    active = tf.reduce_any(tf.not_equal(x, 0.0), axis=-1)
    positions = tf.range(1, tf.shape(x)[1] + 1)[None, :]
    return tf.reduce_max(tf.where(active, positions, 0), axis=1)


def _shift(x: tf.Tensor, shifts: tf.Tensor) -> tf.Tensor:
    steps = tf.shape(x)[1]
    source = tf.range(steps)[None, :] - shifts[:, None]  # where each output step reads from
    valid = (source >= 0) & (source < steps)
    moved = tf.gather(x, tf.clip_by_value(source, 0, steps - 1), axis=1, batch_dims=1)
    return tf.where(valid[..., None], moved, tf.zeros_like(moved))


def _stretch(x: tf.Tensor, lengths: tf.Tensor, factors: tf.Tensor):
    """Step t of example i reads its step t / a_i (linear interpolation), up to a_i * length.

    Returns the stretched batch and its lengths.
    """
    steps = tf.shape(x)[1]
    last = tf.maximum(lengths - 1, 0)
    source = tf.range(tf.cast(steps, tf.float32))[None, :] / factors[:, None]
    inside = source <= tf.cast(last, tf.float32)[:, None]
    moved = _interpolate(x, source, last, axis=1)
    stretched = tf.reduce_sum(tf.cast(inside, tf.int32), axis=1) * tf.cast(lengths > 0, tf.int32)
    return tf.where(inside[..., None], moved, tf.zeros_like(moved)), stretched


def _warp(x: tf.Tensor, alphas: tf.Tensor) -> tf.Tensor:
    bins = tf.shape(x)[2]
    source = tf.range(tf.cast(bins, tf.float32))[None, :] * alphas[:, None]
    top = tf.fill(tf.shape(alphas), bins - 1)
    return _interpolate(x, source, top, axis=2)


def _interpolate(x: tf.Tensor, source: tf.Tensor, top: tf.Tensor, axis: int) -> tf.Tensor:
    """Each example of `x` read at its fractional positions `source` (n, positions) along
    `axis` (1 or 2; linear interpolation), positions past its `top` (n,) reading `top`."""
    source = tf.minimum(source, tf.cast(top, tf.float32)[:, None])
    below = tf.cast(tf.floor(source), tf.int32)
    above = tf.minimum(below + 1, tf.cast(top, tf.int32)[:, None])
    weight = source - tf.floor(source)
    weight = weight[:, :, None] if axis == 1 else weight[:, None, :]
    low = tf.gather(x, below, axis=axis, batch_dims=1)
    high = tf.gather(x, above, axis=axis, batch_dims=1)
    return low * (1.0 - weight) + high * weight


def _add_noise(x: tf.Tensor, lengths: tf.Tensor, low: float, high: float, draws: tf.Tensor):
    steps, channels = tf.shape(x)[1], tf.shape(x)[2]
    inside = tf.cast(tf.range(steps)[None, :] < lengths[:, None], x.dtype)[..., None]
    count = tf.maximum(tf.reduce_sum(inside, axis=(1, 2)) * tf.cast(channels, x.dtype), 1.0)
    power = tf.reduce_sum(tf.square(x) * inside, axis=(1, 2)) / count
    snr_db = low + (high - low) * _uniform(draws, "noise", 1)[:, 0]
    sigma = tf.sqrt(power / tf.pow(10.0, snr_db / 10.0))
    # Box-Muller: two uniforms per normal value.
    u = _uniform(draws, "noise", 2 * steps * channels, part=1)
    radius = tf.sqrt(-2.0 * tf.math.log(1.0 - u[:, 0::2]))
    noise = tf.reshape(radius * tf.cos(2.0 * math.pi * u[:, 1::2]), tf.shape(x))
    return x + sigma[:, None, None] * noise * inside


def _keep(size, span, masks: int, width: int, draws: tf.Tensor, part: int) -> tf.Tensor:
    """(n, size): False on `masks` blocks of up to `width` positions among the first
    `span` (a number, or one per example) of `size`."""
    n = tf.shape(draws)[0]
    if masks == 0 or width == 0:
        return tf.ones([n, size], tf.bool)
    span = tf.broadcast_to(tf.cast(span, tf.int32), [n])[:, None]
    widths = tf.cast(_uniform(draws, "spec_augment", masks, part) * (width + 1), tf.int32)
    widths = tf.minimum(widths, span)
    room = span - widths + 1  # start positions that keep a block inside
    starts = tf.cast(
        _uniform(draws, "spec_augment", masks, part + 1) * tf.cast(room, tf.float32), tf.int32
    )
    positions = tf.range(size)[None, None, :]
    masked = (positions >= starts[..., None]) & (positions < (starts + widths)[..., None])
    return ~tf.reduce_any(masked, axis=1)


__all__ = [
    "AUGMENTATIONS",
    "SPEC_AUGMENT_DEFAULTS",
    "WAVEFORM",
    "apply",
    "augment",
    "augment_batch",
    "augment_features",
    "augment_waveform",
    "expected_length",
    "resolve",
]
