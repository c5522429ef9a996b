"""Regularizers and initializers of a built model's weights, from `args` in any zoo config.

Every kzoo model accepts these `args`, whatever its builder's signature:

```yaml
args:
  kernel_regularizer: {name: l2, l2: 1.0e-4}   # or l1, l1_l2, orthogonal; a name alone works
  bias_regularizer: null
  recurrent_regularizer: l2                     # the recurrent kernels of GRU/LSTM/Li-GRU
  kernel_initializer: he_normal                 # or {name: variance_scaling, scale: 2.0}
  bias_initializer: zeros
  recurrent_initializer: orthogonal
```

One mechanism serves every builder: after the builder returns, `apply` visits the
model's variables by name (`...kernel` but not `recurrent_kernel`: kernel;
`recurrent_kernel`: recurrent; `bias`: bias), attaches the regularizer to each (Keras adds
`variable.regularizer(variable)` to the loss) and re-draws each from the initializer
(the model is new, so this is its initialization). The layers that hold such a setting
in their config (Dense, Conv, the cells of GRU/LSTM, Li-GRU, MultiHeadAttention, kzoo's
attention layers) get it too, so a saved `.keras` model keeps its penalty.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import keras

from kzoo import specs
from kzoo.losses import regularizer as _regularizer

ARGUMENTS = (
    "kernel_regularizer",
    "bias_regularizer",
    "recurrent_regularizer",
    "kernel_initializer",
    "bias_initializer",
    "recurrent_initializer",
)


def _initializer(spec):
    table = specs.classes_by_name(keras.initializers, keras.initializers.Initializer)
    return specs.build(spec, table, "initializer")


def parse(args: Mapping[str, Any]) -> dict[str, Any]:
    """The regularizer and initializer objects the `args` of a config name (validated).

    >>> import kzoo
    >>> settings = kzoo.weight_settings.parse({"kernel_regularizer": "l2", "units": 8})
    >>> {k: type(v).__name__ for k, v in settings.items()}
    {'kernel_regularizer': 'L2'}
    """
    settings = {}
    for key in ARGUMENTS:
        if args.get(key) is None:
            continue
        build = _regularizer if key.endswith("regularizer") else _initializer
        try:
            settings[key] = build(args[key])
        except ValueError as error:
            raise ValueError(f"`args.{key}`: {error}") from None
    return settings


def _kind(variable) -> str | None:
    name = variable.name.rsplit("/", 1)[-1]
    if name == "recurrent_kernel":
        return "recurrent"
    if name.endswith("kernel"):
        return "kernel"
    if name == "bias":
        return "bias"
    return None


def _layers(layer) -> Iterator[keras.layers.Layer]:
    """`layer` and the layers inside it that public Keras attributes (and the `inner`
    layer of kzoo's SelfAttention) reach."""
    yield layer
    children = list(getattr(layer, "layers", None) or [])
    for attribute in ("layer", "forward_layer", "backward_layer", "cell", "inner"):
        child = getattr(layer, attribute, None)
        if isinstance(child, keras.layers.Layer):
            children.append(child)
    for child in children:
        yield from _layers(child)


def apply(model: keras.Model, settings: Mapping[str, Any]) -> keras.Model:
    """Attaches the regularizers and re-initializes the weights that `settings` name.

    Args:
        model: a freshly built model (initializers replace its weights).
        settings: what `parse` returns.

    >>> import keras, kzoo
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> settings = kzoo.weight_settings.parse({"kernel_regularizer": {"name": "l2", "l2": 0.5},
    ...                                        "bias_initializer": "ones"})
    >>> model = kzoo.weight_settings.apply(model, settings)
    >>> model.layers[0].bias.numpy().tolist(), len(model.losses)
    ([1.0, 1.0], 1)
    """
    if not settings:
        return model
    for variable in model.weights:
        kind = _kind(variable)
        if kind is None:
            continue
        if f"{kind}_regularizer" in settings and variable.trainable:
            variable.regularizer = settings[f"{kind}_regularizer"]
        initializer = settings.get(f"{kind}_initializer")
        if initializer is not None:
            variable.assign(initializer(variable.shape, dtype=variable.dtype))
    for layer in _layers(model):
        for key, value in settings.items():
            attribute = _config_attribute(layer, key)
            if attribute is not None:
                setattr(layer, attribute, value)
    return model


def _config_attribute(layer: keras.layers.Layer, key: str) -> str | None:
    """The attribute holding constructor argument `key` that the layer's get_config reads.

    Most Keras layers keep it under its own name (Dense's `kernel_regularizer`);
    `MultiHeadAttention` keeps it with a leading underscore (`_kernel_regularizer`, read
    by its get_config and by its build, which passes it to the query, key, value and
    output projections when a saved model is loaded). That convention is checked on the
    supported Keras versions by tests/test_weight_settings.py
    (test_attention_keeps_its_settings_when_saved).
    """
    if key in vars(layer):
        return key
    if f"_{key}" in vars(layer) and key in layer.get_config():
        return f"_{key}"
    return None
