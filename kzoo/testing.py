"""Test helpers for kzoo's layers and losses (like Keras's `run_layer_test`).

`run_layer_test` checks what every public kzoo layer promises: its config round-trips,
a `.keras` file reloads with identical outputs, symbolic and eager shapes agree, one
training step runs and changes its trainable weights, it runs under mixed precision,
and (where asked) it consumes masks.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import keras
import numpy as np


def random_inputs(shape, dtype="float32", seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if "int" in str(dtype):
        return rng.integers(0, 4, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def run_layer_test(
    layer_cls,
    init_kwargs: dict[str, Any],
    input_shape=None,
    input_data=None,
    expected_output_shape=None,
    call_kwargs: dict[str, Any] | None = None,
    supports_masking: bool = False,
    run_training_step: bool = True,
    run_mixed_precision: bool = True,
    atol: float = 1e-6,
) -> keras.layers.Layer:
    """Runs the standard battery of layer checks and returns the built layer."""
    call_kwargs = call_kwargs or {}
    if input_data is None:
        input_data = random_inputs(input_shape)
    input_data = np.asarray(input_data)
    input_shape = input_data.shape

    # 1. Config round trip: every constructor argument comes back.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    for key, value in init_kwargs.items():
        if key in config and not isinstance(value, (keras.layers.Layer, dict)):
            got = config[key]
            if isinstance(value, (list, tuple)):
                value, got = list(value), list(got)
            if got != value:
                raise AssertionError(f"get_config()[{key!r}] is {got!r}, expected {value!r}")
    clone = layer_cls.from_config(config)
    if clone.get_config() != config:
        raise AssertionError("from_config(get_config()) does not reproduce the config")

    # 2. Symbolic and eager shapes agree.
    symbolic = keras.Input(batch_shape=input_shape, dtype=str(input_data.dtype))
    symbolic_out = layer(symbolic, **call_kwargs)
    eager_out = layer(input_data, **call_kwargs)
    for s, e in zip(keras.tree.flatten(symbolic_out), keras.tree.flatten(eager_out)):
        if tuple(s.shape) != tuple(e.shape):
            raise AssertionError(f"symbolic shape {s.shape} != eager shape {e.shape}")
    if expected_output_shape is not None:
        first = keras.tree.flatten(eager_out)[0]
        if tuple(first.shape) != tuple(expected_output_shape):
            raise AssertionError(f"output shape {first.shape} != expected {expected_output_shape}")

    # 3. A model around the layer survives .keras save/load with identical outputs.
    model = keras.Model(symbolic, symbolic_out)
    expected = [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(model(input_data))]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "layer.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
    got = [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(loaded(input_data))]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=atol, err_msg="outputs differ after .keras reload")

    # 4. One training step moves the trainable weights.
    if run_training_step and layer.trainable_weights:
        before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
        outputs = keras.tree.flatten(model(input_data))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        targets = [np.ones(o.shape, "float32") for o in outputs]
        model.fit(
            input_data,
            targets if len(targets) > 1 else targets[0],
            epochs=1,
            batch_size=input_shape[0],
            verbose=0,
        )
        after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
        if all(np.array_equal(b, a) for b, a in zip(before, after)):
            raise AssertionError("one training step left every trainable weight unchanged")
        if not all(np.isfinite(a).all() for a in after):
            raise AssertionError("one training step produced non-finite weights")

    # 5. Mixed precision: computes in float16, keeps float32 variables, stays finite.
    if run_mixed_precision:
        mixed = layer_cls(**init_kwargs, dtype="mixed_float16")
        out = keras.tree.flatten(mixed(input_data, **call_kwargs))[0]
        if "int" not in str(out.dtype) and "bool" not in str(out.dtype):
            if keras.backend.standardize_dtype(out.dtype) != "float16":
                raise AssertionError(f"mixed_float16 output dtype is {out.dtype}, expected float16")
            if not np.isfinite(keras.ops.convert_to_numpy(out)).all():
                raise AssertionError("mixed_float16 output is not finite")
        for weight in mixed.weights:
            if weight.trainable and weight.dtype != "float32":
                raise AssertionError(f"mixed precision weight {weight.name} is {weight.dtype}")

    # 6. Masks: the layer accepts one and the mask changes nothing for unmasked steps.
    if supports_masking:
        if not layer.supports_masking:
            raise AssertionError("layer.supports_masking is False")
        mask = np.ones(input_shape[:2], bool)
        mask[0, input_shape[1] // 2 :] = False
        masked = layer(input_data, mask=mask, **call_kwargs)
        if not np.isfinite(keras.ops.convert_to_numpy(keras.tree.flatten(masked)[0])).all():
            raise AssertionError("masked call is not finite")
    return layer
