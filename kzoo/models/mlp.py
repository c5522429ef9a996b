"""Multi-layer perceptrons for tabular (or flattened) inputs."""

from __future__ import annotations

import keras

from kzoo.models import heads, parts
from kzoo.registry import register


@register("mlp")
def mlp(
    input_shape=(24, 40),
    num_classes: int = 12,
    units=(256, 256),
    activation: str = "relu",
    normalization: str | None = "batch",
    dropout: float = 0.2,
    head: str = "classification",
) -> keras.Model:
    """A multi-layer perceptron: [Dense -> normalization -> activation -> dropout] x N -> head.

    Inputs of any rank are flattened first, so the MLP also serves as a baseline on
    spectrogram patches.

    Args:
        input_shape: shape of one example, without the batch axis.
        num_classes: output classes (or values, for a regression head).
        units: width of each hidden layer.
        activation: hidden activation, by name (`kzoo.layers.activation`).
        normalization: "batch", "layer", "group", "instance", "lrn", None, or "weight"
            (weight normalization of each Dense/Conv layer instead of a layer after it).
        dropout: dropout rate after each hidden layer.
        head: "classification", "regression" or "embedding".
    """
    heads.check_num_classes(num_classes)
    if not isinstance(units, (list, tuple)):
        raise ValueError(
            "Argument `units` must be a list of hidden-layer widths, e.g. [256, 128] "
            f"(or [64] for one layer). Received: units={units!r}."
        )
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for i, width in enumerate(units):
        dense = keras.layers.Dense(width, name=f"dense{i}")
        x = parts.normalized(dense, normalization, f"dense{i}_norm")(x)  # (batch, width)
        x = parts.activation(activation, f"dense{i}_act")(x)
        x = keras.layers.Dropout(dropout, name=f"dense{i}_dropout")(x)
    outputs = heads.apply(x, head, num_classes)
    return keras.Model(inputs, outputs, name="mlp")
