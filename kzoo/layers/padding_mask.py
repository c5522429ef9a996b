"""The frames of a zero-padded batch that hold data, as a mask that follows time pooling."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kzoo")
class PaddingMask(keras.layers.Layer):
    """A boolean (batch, time) mask: False on the all-zero frames that end an example.

    kzoo's audio pipeline zeroes the feature frames past each utterance's end, so the
    run of all-zero frames at the end of an example is its padding. Pass the mask to
    recurrent layers and to `GlobalAveragePooling1D` (`layer(x, mask=mask)`) so they
    skip the padding: a pooled utterance then no longer depends on how much padding
    it came with.

    The mask is right-padded (True up to the last frame holding a non-zero value,
    False after it), the form recurrent layers expect (cuDNN kernels require it):
    all-zero frames inside an utterance, such as SpecAugment's time masks, stay real.
    The first frame always counts as real, so an all-zero example still has one frame
    to pool and nothing divides by zero.

    When the model shortens time with max-pooling after the input, give the same
    `pool_size` and `num_pools`: the mask is pooled the same way (`padding="same"`),
    so a pooled frame is real when any frame it covers is.

    Args:
        pool_size: int, the pool size of each max-pooling step over time. Defaults to 1.
        num_pools: int, how many such pooling steps follow the input. Defaults to 0.
        **kwargs: base `Layer` arguments.

    Input shape:
        (batch, time, features).

    Output shape:
        (batch, ceil(time / pool_size ** num_pools)), boolean.

    Example:

    >>> import numpy as np, kzoo
    >>> x = np.zeros((1, 5, 2), "float32"); x[0, [0, 2]] = 1.0
    >>> np.asarray(kzoo.layers.PaddingMask()(x)).tolist()
    [[True, True, True, False, False]]
    >>> np.asarray(kzoo.layers.PaddingMask(pool_size=2, num_pools=1)(x)).tolist()
    [[True, True, False]]
    """

    def __init__(self, pool_size=1, num_pools=0, **kwargs):
        super().__init__(**kwargs)
        for name, value, low in (("pool_size", pool_size, 1), ("num_pools", num_pools, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(
                    f"Argument `{name}` must be an integer >= {low}: the pool size and the "
                    "number of MaxPooling1D steps the model applies over time (e.g. "
                    f"PaddingMask(pool_size=2, num_pools=2)). Received: {name}={value!r}."
                )
        self.pool_size = pool_size
        self.num_pools = num_pools

    def call(self, inputs):
        active = ops.any(ops.not_equal(inputs, 0), axis=-1)
        steps = ops.arange(ops.shape(inputs)[1])
        last = ops.max(ops.where(active, steps[None, :], 0), axis=1)  # 0 when all zero
        real = ops.cast(steps[None, :] <= last[:, None], "float32")[..., None]
        if self.pool_size > 1:
            for _ in range(self.num_pools):
                real = ops.max_pool(real, self.pool_size, self.pool_size, padding="same")
        return ops.greater(real[..., 0], 0.5)

    def compute_output_shape(self, input_shape):
        time = input_shape[1]
        if time is not None and self.pool_size > 1:
            for _ in range(self.num_pools):
                time = -(-time // self.pool_size)
        return (input_shape[0], time)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype="bool")

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, num_pools=self.num_pools)
        return config
