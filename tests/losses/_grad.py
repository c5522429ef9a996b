"""Backend-switching gradient helper for loss tests (tests may use the backends directly)."""

import keras
import numpy as np


def value_and_grad(fn, x):
    """(fn(x), d fn / d x) as numpy, for a scalar `fn` of one float32 array."""
    x = np.asarray(x, "float32")
    if keras.backend.backend() == "jax":
        import jax

        value, grad = jax.jit(jax.value_and_grad(fn))(x)  # jit: eager scans retrace per op
        return np.asarray(value), np.asarray(grad)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        v = tf.Variable(x)
        with tf.GradientTape() as tape:
            value = fn(v)
        return np.asarray(value), np.asarray(tape.gradient(value, v))
    import torch

    v = torch.tensor(x, requires_grad=True)
    value = fn(v)
    value.backward()
    return value.detach().numpy(), v.grad.numpy()
