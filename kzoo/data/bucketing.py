"""Batching by length: the order examples are batched in, and how far each batch is padded.

Audio clips differ in length (FSDD's spoken digits: 0.2-0.9 s); padding every clip
to the longest spends most of the compute on zeros. With bucketing, each epoch's
fresh permutation of the training split is cut into windows of `window` batches,
each window is sorted by length and cut into batches, and the batches are shuffled:
every batch holds clips of about one length and is padded only to its longest
(or to the smallest of `boundaries` that holds it, so a compiled model meets few
distinct shapes). Every epoch still sees each example once, in `ceil(n / batch_size)`
batches, in an order that is a deterministic function of the seed. Validation and
test batches are sorted by length outright.

```yaml
data:
  bucketing: true                   # the default; false pads every clip to one length
  bucketing: {window: 64, boundaries: [32, 64, 128]}   # frames (model time steps)
```

It applies to audio when the model's time axis is variable (its builder's default
`input_shape` starts with None: cnn_mlp_rnn, the recurrent models, transformer);
models with a fixed input length (mlp, the autoencoders, anything that flattens)
keep one padded length.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from kzoo.errors import ConfigError, did_you_mean

DEFAULTS: dict[str, Any] = {"window": 64, "boundaries": None}


def resolve(spec: Any) -> dict[str, Any] | None:
    """Validated bucketing options, or None when bucketing is off.

    Args:
        spec: `data.bucketing`: true (defaults), false or null (off), or a mapping of
            `window` (batches sorted together, a positive integer) and `boundaries`
            (ascending positive frame counts a batch is padded up to, or null to pad to
            its longest example).
    """
    if spec is None or spec is False:
        return None
    if spec is True:
        return dict(DEFAULTS)
    if not isinstance(spec, Mapping):
        raise ConfigError(
            "`data.bucketing` must be true (batch clips of similar length together), false "
            "(pad every clip to one length) or a mapping such as {window: 64, boundaries: "
            f"[32, 64, 128]}}. Received: {spec!r}."
        )
    for key in spec:
        if key not in DEFAULTS:
            raise ConfigError(
                f"Unknown key `data.bucketing.{key}`. {did_you_mean(str(key), DEFAULTS)}"
            )
    options = {**DEFAULTS, **spec}
    window = options["window"]
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ConfigError(
            "`data.bucketing.window` must be a positive integer: how many batches are "
            f"sorted by length together. Received: {window!r}."
        )
    bounds = options["boundaries"]
    if bounds is not None:
        if (
            not isinstance(bounds, (list, tuple))
            or not bounds
            or not all(isinstance(b, int) and not isinstance(b, bool) and b > 0 for b in bounds)
            or list(bounds) != sorted(set(bounds))
        ):
            raise ConfigError(
                "`data.bucketing.boundaries` must be a list of ascending positive integers "
                "(frames a batch is padded up to, e.g. [32, 64, 128]) or null. "
                f"Received: {bounds!r}."
            )
        options["boundaries"] = [int(b) for b in bounds]
    return options


def variable_length(config: Mapping[str, Any], *, trained: bool = False) -> bool:
    """Whether a config's model takes inputs of any length: a time axis of None in its
    `args.input_shape` or in its builder's default one.

    With `trained`, `config` is a run's (its `args.input_shape` is the one the model
    was built with), and that alone decides: a model trained on one padded length
    keeps it.
    """
    from kzoo import registry

    shape = config.get("args", {}).get("input_shape")
    if _starts_with_none(shape) or trained:
        return _starts_with_none(shape)
    try:
        parameter = registry.builder_arguments(config["model"]).get("input_shape")
    except ValueError:
        return False  # an unknown model: the config check after loading the data says so
    return parameter is not None and _starts_with_none(parameter.default)


def _starts_with_none(shape: Any) -> bool:
    return isinstance(shape, (list, tuple)) and len(shape) >= 2 and shape[0] is None


def check_fits(options: dict[str, Any] | None, longest: int, name: str) -> None:
    """Raises when the largest boundary cannot hold the longest example (`name`)."""
    if options and options["boundaries"] and longest > options["boundaries"][-1]:
        raise ConfigError(
            f"`data.bucketing.boundaries` {options['boundaries']} cannot hold the longest "
            f"example, {name} ({longest} frames). Add a boundary of at least {longest}, "
            "remove `boundaries` to pad each batch to its longest example, or crop the audio "
            "with `data.max_seconds`."
        )


def padded_length(options: dict[str, Any] | None, longest: tf.Tensor) -> tf.Tensor:
    """The steps a batch whose longest example has `longest` steps is padded to."""
    longest = tf.maximum(tf.cast(longest, tf.int64), 1)
    if not options or not options["boundaries"]:
        return longest
    bounds = tf.constant(options["boundaries"], tf.int64)
    fitting = tf.boolean_mask(bounds, bounds >= longest)
    return tf.cond(tf.size(fitting) > 0, lambda: fitting[0], lambda: bounds[-1])


def batches(
    lengths: np.ndarray,
    batch_size: int,
    seed: int,
    *,
    shuffle: bool,
    options: dict[str, Any] | None,
    expected: Callable[[tf.Tensor, tf.Tensor], tf.Tensor] | None = None,
) -> tf.data.Dataset:
    """`(positions (b,), draws (b,))` batches: which examples each batch holds, in order.

    `positions` index `lengths`; `draws` are per-example random integers, new every
    epoch, that key the example's augmentation (zeros when not shuffled).
    `expected(lengths, draws)`, when given, is the length examples will have after
    augmentation (vectorized): windows are sorted on it.
    """
    n = len(lengths)
    if not shuffle:
        order = np.argsort(lengths, kind="stable") if options else np.arange(n)
        positions = tf.data.Dataset.from_tensor_slices(order.astype("int64"))
        draws = positions.map(lambda _: tf.constant(0, tf.int64))
        return tf.data.Dataset.zip(positions, draws).batch(batch_size)
    # A new order of the whole split every epoch. Positions are shuffled, not examples,
    # so the buffer holds integers however large the examples are; a buffer of examples
    # smaller than the split would hand the model long runs of one class, since sources
    # list their examples class by class.
    positions = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True)
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    examples = tf.data.Dataset.zip(positions, draws)
    if not options:
        return examples.batch(batch_size)
    table = tf.constant(np.asarray(lengths, "int64"))

    def by_length(position, draw):
        length = tf.cast(tf.gather(table, position), tf.float32)
        if expected is not None:
            length = expected(length, draw)
        order = tf.argsort(length, stable=True)
        return tf.gather(position, order), tf.gather(draw, order)

    # Every window but the last holds whole batches, so only the last batch is short.
    sorted_examples = examples.batch(batch_size * options["window"]).map(by_length).unbatch()
    count = math.ceil(n / batch_size)
    batched = sorted_examples.batch(batch_size).shuffle(
        count, seed=seed + 1, reshuffle_each_iteration=True
    )
    # `unbatch` loses the count, which Keras's progress bar and step counts want.
    return batched.apply(tf.data.experimental.assert_cardinality(count))


__all__ = ["DEFAULTS", "batches", "check_fits", "padded_length", "resolve", "variable_length"]
