"""Losses by name: CTC with lengths, focal, metric learning, masked, GAN, autoencoder.

Each loss is a function holding the maths (per-example values) and a
`keras.losses.Loss` class adding reduction and config, as Keras pairs
`mean_squared_error` with `MeanSquaredError`.
"""

import keras

from kzoo import specs

# kzoo's own losses by config name; each loss module adds its entries.
LOSSES: dict = {}

_ALIASES = {
    "mse": keras.losses.MeanSquaredError,
    "mae": keras.losses.MeanAbsoluteError,
}


def get(spec):
    """A loss from a config spec: a kzoo or Keras loss name, or `{name: ..., <args>}`.

    >>> import kzoo
    >>> type(kzoo.losses.get("sparse_categorical_crossentropy")).__name__
    'SparseCategoricalCrossentropy'
    >>> kzoo.losses.get({"name": "binary_crossentropy", "from_logits": True}).from_logits
    True
    """
    table = {**specs.classes_by_name(keras.losses, keras.losses.Loss), **_ALIASES, **LOSSES}
    return specs.build(spec, table, "loss")
