"""A torchinfo-style summary: per layer output shape, parameters and mult-adds; totals; memory.

Mult-adds are counted for the layers that dominate compute (dense, convolution,
recurrent, attention projections, SincConv1D): a kernel's weights times the positions
it is applied at (every input step, for a recurrent layer). Unknown (None) sizes are
taken as `time_steps` for the estimate.
"""

from __future__ import annotations

import math

import keras

from kzoo import layers as kzoo_layers

BYTES = 4  # float32


def _shape(tensor, time_steps: int) -> tuple[int, ...]:
    return tuple(time_steps if d is None else int(d) for d in tensor.shape[1:])


def _kernel_weights(layer: keras.layers.Layer) -> int:
    """Weights applied by multiplication (kernels, not biases or normalization scales)."""
    total = 0
    for weight in layer.weights:
        name = weight.path.rsplit("/", 1)[-1]
        if "kernel" in name or name in ("embeddings",):
            total += math.prod(weight.shape)
    return total


def mult_adds(
    layer: keras.layers.Layer, output_shape: tuple[int, ...], time_steps: int = 100
) -> int:
    """Multiply-adds of one call of `layer` on one example with this output shape.

    A kernel is applied once per output position (the last axis is the units or
    filters). A recurrent layer applies its input and recurrent kernels once per input
    step, whether it returns every step or the last. SincConv1D computes its kernel from
    two frequencies per filter, then convolves: `kernel_size` taps per output value.
    """
    if isinstance(layer, kzoo_layers.SincConv1D):
        return math.prod(output_shape) * layer.kernel_size
    kernel = _kernel_weights(layer)
    if not kernel or isinstance(layer, keras.layers.Embedding):
        return 0
    if getattr(layer, "return_sequences", None) is not None:  # RNN, Bidirectional, Li-GRU
        steps = _shape(keras.tree.flatten(layer.input)[0], time_steps)[:-1]
        return kernel * math.prod(steps)
    if not output_shape:
        return kernel
    positions = math.prod(output_shape[:-1]) if len(output_shape) > 1 else 1
    return kernel * positions


def rows(model: keras.Model, time_steps: int = 100) -> list[tuple[str, str, int, int]]:
    table = []
    for layer in model.layers:
        outputs = _outputs(layer)
        shapes = [_shape(t, time_steps) for t in outputs]
        shape_text = ", ".join(
            str(tuple(None if d is None else d for d in t.shape)) for t in outputs
        )
        adds = sum(mult_adds(layer, s, time_steps) for s in shapes)
        table.append(
            (f"{layer.name} ({type(layer).__name__})", shape_text, layer.count_params(), adds)
        )
    return table


def summary(model: keras.Model, time_steps: int = 100) -> str:
    """The summary table of `model` as text.

    >>> import keras
    >>> inputs = keras.Input((8,))
    >>> model = keras.Model(inputs, keras.layers.Dense(4, name="out")(inputs))
    >>> print(summary(model))  # doctest: +ELLIPSIS
    =====...
    Layer (type)   ...Output shape   ...Param #   ...Mult-adds
    ...
    out (Dense)    ...(None, 4)      ...36        ...32
    ...
    Total params: 36
    Trainable params: 36
    Non-trainable params: 0
    Total mult-adds: 32
    ...
    """
    table = rows(model, time_steps)
    headers = ("Layer (type)", "Output shape", "Param #", "Mult-adds")
    cells = [(n, s, f"{p:,}", f"{m:,}") for n, s, p, m in table]
    widths = [max(len(h), *(len(c[i]) for c in cells)) + 3 for i, h in enumerate(headers)]
    line = "=" * sum(widths)

    def fmt(values):
        return "".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()

    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    total_adds = sum(m for *_, m in table)
    inputs = sum(math.prod(_shape(t, time_steps)) for t in model.inputs) * BYTES
    activations = (
        sum(math.prod(_shape(t, time_steps)) for layer in model.layers[1:] for t in _outputs(layer))
        * BYTES
        * 2
    )  # forward activations, and their gradients in the backward pass
    params = (trainable + non_trainable) * BYTES
    mb = 1024 * 1024
    lines = [line, fmt(headers), line, *(fmt(c) for c in cells), line]
    lines += [
        f"Total params: {trainable + non_trainable:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {non_trainable:,}",
        f"Total mult-adds: {total_adds:,}",
        line,
        f"Input size (MB): {inputs / mb:.2f}",
        f"Forward/backward pass size (MB): {activations / mb:.2f}",
        f"Params size (MB): {params / mb:.2f}",
        f"Estimated total size (MB): {(inputs + activations + params) / mb:.2f}",
        f"(per example; unknown lengths taken as {time_steps} steps)",
        line,
    ]
    return "\n".join(lines)


def _outputs(layer):
    try:  # a layer called several times has no single output
        return keras.tree.flatten(layer.output)
    except (AttributeError, ValueError):
        return []
