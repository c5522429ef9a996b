"""Training-time data augmentation, chosen by a config's `data.augment` block.

```yaml
data:
  features: {type: logmel}
  augment: {spec_augment: {time_masks: 2, time_width: 8, freq_masks: 2, freq_width: 6},
            freq_warp: 0.1, time_shift: 0.1, time_stretch: 0.1, noise: {snr_db: [10, 40]}}
# or, on the raw waveform (features: {type: raw}):
  augment: {noise: {snr_db: [10, 30]}, gain_db: 6, time_shift: 0.1, time_stretch: 0.1}
```

Augmentations run in the `tf.data` pipeline of the training split only (after the
shuffle, before batching), on one example at a time; validation and test data are
never augmented. Each example draws its own random values from a stream seeded by
the run's seed (`tf.data.Dataset.random`, re-drawn every epoch), so two runs with
the same seed see the same augmented data.

`time_stretch`, `gain_db` and `noise` act on the waveform. With log-mel or MFCC
features and one of them, the training split keeps its waveforms and computes its
features on the fly, every epoch, after them (validation and test features are
computed once, with the same code).

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

from kzoo.errors import ConfigError, did_you_mean

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
        if value is None or value is False or (_is_number(value) and value == 0):
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
    if _is_number(snr):
        snr = [snr, snr]
    if (
        not isinstance(snr, (list, tuple))
        or len(snr) != 2
        or not all(_is_number(s) for s in snr)
        or snr[0] > snr[1]
    ):
        raise ConfigError(
            "`data.augment.noise` must be {snr_db: [low, high]}, the range (in dB, low <= "
            "high) of the signal-to-noise ratio drawn for each example, e.g. "
            f"{{snr_db: [10, 30]}}. Received: {value!r}."
        )
    return {"snr_db": (float(snr[0]), float(snr[1]))}


def _gain_db(value: Any) -> float:
    if not _is_number(value) or value < 0:
        raise ConfigError(
            "`data.augment.gain_db` must be a non-negative number g: each waveform is scaled "
            f"by a gain drawn uniformly in [-g, g] dB. Received: {value!r}."
        )
    return float(value)


def _time_shift(value: Any) -> float:
    if not _is_number(value) or not 0 <= value < 1:
        raise ConfigError(
            "`data.augment.time_shift` must be a fraction in [0, 1): the largest shift, as "
            f"a fraction of each example's length. Received: {value!r}."
        )
    return float(value)


def _time_stretch(value: Any) -> float:
    if not _is_number(value) or not 0 <= value < 1:
        raise ConfigError(
            "`data.augment.time_stretch` must be a fraction r in [0, 1): each example is "
            "resampled to a length factor drawn in [1 - r, 1 + r], e.g. 0.1 for the usual "
            f"0.9-1.1 speed perturbation. Received: {value!r}."
        )
    return float(value)


def _freq_warp(value: Any) -> float:
    if not _is_number(value) or not 0 <= value < 1:
        raise ConfigError(
            "`data.augment.freq_warp` must be a fraction r in [0, 1): the mel axis is "
            f"stretched by a factor drawn in [1 - r, 1 + r]. Received: {value!r}."
        )
    return float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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

    The waveform augmentations (`time_stretch`, `gain_db`, `noise`) run first; then
    `features` (`(waveform (samples, 1), length) -> frames`), when given; then the
    rest. Each augmentation draws from its own stream, so adding one leaves the others'
    draws as they were, and the same `(x, spec, draw)` always gives the same result
    (stateless random ops). `length`, the number of real steps, defaults to the steps
    up to the last non-zero one.
    """
    x = tf.convert_to_tensor(x, tf.float32)

    def key(name: str) -> tf.Tensor:
        return _key(draw, name)

    length = _length(x) if length is None else tf.cast(length, tf.int32)
    if "time_stretch" in spec:
        x, length = _stretch(x, length, spec["time_stretch"], key("time_stretch"))
    if "gain_db" in spec:
        g = spec["gain_db"]
        gain_db = tf.random.stateless_uniform([], key("gain_db"), -g, g)
        x = x * tf.pow(10.0, gain_db / 20.0)
    if "noise" in spec:
        x = _add_noise(x, length, *spec["noise"]["snr_db"], key("noise"))
    if features is not None:
        x = features(x, length)
        length = _length(x)
    if "time_shift" in spec:
        x = _shift(x, length, spec["time_shift"], key("time_shift"))
        length = _length(x)
    if "freq_warp" in spec:
        x = _warp(x, spec["freq_warp"], key("freq_warp"))
    if "spec_augment" in spec:
        settings = spec["spec_augment"]
        steps, bins = tf.shape(x)[0], tf.shape(x)[1]
        time_seed, freq_seed = tf.unstack(
            tf.random.experimental.stateless_split(key("spec_augment"), 2)
        )
        keep_t = _keep(steps, length, settings["time_masks"], settings["time_width"], time_seed)
        keep_f = _keep(bins, bins, settings["freq_masks"], settings["freq_width"], freq_seed)
        x = x * tf.cast(keep_t[:, None] & keep_f[None, :], x.dtype)
    return x


# One random stream per augmentation (see `augment`).
_STREAMS = {
    "spec_augment": 1,
    "noise": 2,
    "gain_db": 3,
    "freq_warp": 4,
    "time_shift": 5,
    "time_stretch": 6,
}


def _key(draw: tf.Tensor, name: str) -> tf.Tensor:
    return tf.stack([tf.cast(draw, tf.int64), tf.constant(_STREAMS[name], tf.int64)])


def expected_length(length: tf.Tensor, spec: dict[str, Any], draw: tf.Tensor) -> tf.Tensor:
    """About how many steps an example of `length` steps spans after `augment` with `draw`.

    The same draws as `augment` (speed perturbation stretches it, a shift moves its end),
    so batching by length can group examples by the length they will have; exact up to
    the rounding of frames.
    """
    length = tf.cast(length, tf.float32)
    if "time_stretch" in spec:
        length *= _stretch_factor(spec["time_stretch"], _key(draw, "time_stretch"))
    if "time_shift" in spec:
        shift = _shift_steps(
            tf.cast(length, tf.int32), spec["time_shift"], _key(draw, "time_shift")
        )
        length += tf.cast(shift, tf.float32)
    return length


def _stretch_factor(ratio: float, seed: tf.Tensor) -> tf.Tensor:
    return tf.random.stateless_uniform([], seed, 1.0 - ratio, 1.0 + ratio)


def _shift_steps(length: tf.Tensor, fraction: float, seed: tf.Tensor) -> tf.Tensor:
    limit = tf.cast(tf.floor(fraction * tf.cast(length, tf.float32)), tf.int32)
    return tf.random.stateless_uniform([], seed, -limit, limit + 1, dtype=tf.int32)


def _length(x: tf.Tensor) -> tf.Tensor:
    """Steps up to the last one holding a non-zero value: the example without its padding."""
    active = tf.reduce_any(tf.not_equal(x, 0.0), axis=-1)
    positions = tf.range(1, tf.shape(x)[0] + 1)
    return tf.reduce_max(tf.where(active, positions, 0))


def _shift(x: tf.Tensor, length: tf.Tensor, fraction: float, seed: tf.Tensor) -> tf.Tensor:
    shift = _shift_steps(length, fraction, seed)
    steps = tf.shape(x)[0]
    source = tf.range(steps) - shift  # where each output step reads from
    valid = (source >= 0) & (source < steps)
    moved = tf.gather(x, tf.clip_by_value(source, 0, steps - 1))
    return tf.where(valid[:, None], moved, tf.zeros_like(moved))


def _stretch(x: tf.Tensor, length: tf.Tensor, ratio: float, seed: tf.Tensor):
    """Step t of the output reads step t / a of `x` (linear interpolation), up to a * length.

    Returns the stretched example and its length.
    """
    factor = _stretch_factor(ratio, seed)
    steps = tf.shape(x)[0]
    last = tf.maximum(length - 1, 0)
    source = tf.range(tf.cast(steps, tf.float32)) / factor
    inside = source <= tf.cast(last, tf.float32)
    moved = _interpolate(x, source, last, axis=0)
    stretched = tf.reduce_sum(tf.cast(inside, tf.int32)) * tf.cast(length > 0, tf.int32)
    return tf.where(inside[:, None], moved, tf.zeros_like(moved)), stretched


def _warp(x: tf.Tensor, ratio: float, seed: tf.Tensor) -> tf.Tensor:
    bins = tf.shape(x)[1]
    alpha = tf.random.stateless_uniform([], seed, 1.0 - ratio, 1.0 + ratio)
    return _interpolate(x, tf.range(tf.cast(bins, tf.float32)) * alpha, bins - 1, axis=1)


def _interpolate(x: tf.Tensor, source: tf.Tensor, top: tf.Tensor, axis: int) -> tf.Tensor:
    """`x` read at the fractional positions `source` along `axis` (linear interpolation),
    positions past `top` reading position `top`."""
    source = tf.minimum(source, tf.cast(top, tf.float32))
    below = tf.cast(tf.floor(source), tf.int32)
    above = tf.minimum(below + 1, tf.cast(top, tf.int32))
    weight = source - tf.floor(source)
    if axis == 0:
        weight = weight[:, None]
    return tf.gather(x, below, axis=axis) * (1.0 - weight) + tf.gather(x, above, axis=axis) * weight


def _add_noise(x: tf.Tensor, length: tf.Tensor, low: float, high: float, seed: tf.Tensor):
    inside = tf.cast(tf.range(tf.shape(x)[0]) < length, x.dtype)[:, None]
    count = tf.maximum(tf.reduce_sum(inside) * tf.cast(tf.shape(x)[1], x.dtype), 1.0)
    power = tf.reduce_sum(tf.square(x) * inside) / count
    snr_seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    snr_db = tf.random.stateless_uniform([], snr_seed, low, high) if high > low else low
    sigma = tf.sqrt(power / tf.pow(10.0, snr_db / 10.0))
    noise = tf.random.stateless_normal(tf.shape(x), noise_seed, dtype=x.dtype)
    return x + sigma * noise * inside


def _keep(size: tf.Tensor, span: tf.Tensor, masks: int, width: int, seed: tf.Tensor) -> tf.Tensor:
    """False on `masks` blocks of up to `width` positions among the first `span` of `size`."""
    keep = tf.ones([size], tf.bool)
    if masks == 0 or width == 0:
        return keep
    width_seed, start_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    widths = tf.random.stateless_uniform([masks], width_seed, 0, width + 1, dtype=tf.int32)
    widths = tf.minimum(widths, tf.cast(span, tf.int32))
    room = tf.cast(span, tf.int32) - widths + 1  # start positions that keep a block inside
    starts = tf.cast(
        tf.random.stateless_uniform([masks], start_seed) * tf.cast(room, tf.float32), tf.int32
    )
    positions = tf.range(size)[None, :]
    masked = (positions >= starts[:, None]) & (positions < (starts + widths)[:, None])
    return keep & ~tf.reduce_any(masked, axis=0)


__all__ = [
    "AUGMENTATIONS",
    "SPEC_AUGMENT_DEFAULTS",
    "WAVEFORM",
    "apply",
    "augment",
    "expected_length",
    "resolve",
]
