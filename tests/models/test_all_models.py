"""Every registered model, with no per-model code: builds, trains a step, reloads, summarizes.

New models are covered by registering them; nothing here names a model. The large
ones are marked `slow` (see tests.helpers.model_params): `make test-slow` runs them.
"""

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import kzoo
from kzoo import summary
from tests.helpers import is_large_model, model_params

NAMES = kzoo.models.list()
EVERY_NAME = model_params()
REGULAR = [name for name in NAMES if not is_large_model(name)]
LARGE = [name for name in NAMES if is_large_model(name)]
NORMALIZED = [  # builders with a `normalization` argument
    name
    for name in REGULAR
    if "normalization" in inspect.signature(kzoo.registry.builder(name)).parameters
]


def example_batch(model: keras.Model, batch: int = 2, seed: int = 0):
    """Random inputs of the model's input shape (unknown lengths -> 16) and fitting targets."""
    rng = np.random.default_rng(seed)
    inputs = []
    for tensor in model.inputs:
        shape = (batch, *(16 if d is None else d for d in tensor.shape[1:]))
        if "int" in str(tensor.dtype):
            inputs.append(rng.integers(0, 10, size=shape).astype("int32"))
        else:
            inputs.append(rng.standard_normal(shape).astype("float32"))
    return inputs[0] if len(inputs) == 1 else inputs


def targets_for(model: keras.Model, outputs, seed: int = 0):
    rng = np.random.default_rng(seed)
    loss = type(model.loss).__name__ if not isinstance(model.loss, str) else model.loss
    out = keras.tree.flatten(outputs)[0]
    if "Sparse" in loss or "sparse" in loss:
        return rng.integers(0, out.shape[-1], size=out.shape[:-1]).astype("int32")
    return rng.standard_normal(out.shape).astype("float32")


def infer(model: keras.Model, x):
    """Inference outputs: eager on TensorFlow and PyTorch; compiled on JAX, where eager
    mode compiles every op separately (3x slower than one compiled predict function)."""
    if keras.backend.backend() == "jax":
        return model.predict_on_batch(x)
    return model(x, training=False)


@pytest.mark.parametrize("name", EVERY_NAME)
def test_model_builds_trains_and_summarizes(name):
    model = kzoo.models.get(name)
    x = example_batch(model)
    outputs = model(x)
    assert all(
        np.isfinite(keras.ops.convert_to_numpy(o)).all() for o in keras.tree.flatten(outputs)
    )
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    # Two steps: a warm-up schedule (cnn1d, mobilenet, sincnet) starts at learning rate 0.
    for _ in range(2):
        logs = model.train_on_batch(x, targets_for(model, outputs), return_dict=True)
        assert np.isfinite(logs["loss"]), logs
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    assert any(not np.array_equal(b, a) for b, a in zip(before, after)), (
        "a training step changed nothing"
    )
    table = summary.summary(model)
    assert f"Total params: {model.count_params():,}" in table


@pytest.mark.parametrize("name", EVERY_NAME)
def test_model_card(name):
    card = kzoo.models.describe(name)
    assert card.startswith(f"{name}:") and "Parameters:" in card


@pytest.mark.parametrize(
    "names",
    [
        pytest.param(REGULAR, id="regular"),
        pytest.param(LARGE, id="large", marks=pytest.mark.slow),
    ],
)
def test_every_model_reloads_in_a_fresh_process_with_identical_outputs(names, tmp_path):
    for name in names:
        model = kzoo.models.get(name)
        x = example_batch(model, seed=1)
        expected = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(infer(model, x))]
        model.save(tmp_path / f"{name}.keras")
        np.savez(
            tmp_path / f"{name}.npz",
            *keras.tree.flatten(x),
            *expected,
            n_inputs=len(keras.tree.flatten(x)),
        )
    script = textwrap.dedent(
        f"""
        import sys, numpy as np, keras, kzoo
        from tests.models.test_all_models import infer
        failures = []
        for name in {names!r}:
            saved = np.load(r"{tmp_path}/" + name + ".npz")
            n = int(saved["n_inputs"])
            arrays = [saved[f"arr_{{i}}"] for i in range(len(saved.files) - 1)]
            x = arrays[:n] if n > 1 else arrays[0]
            model = keras.saving.load_model(r"{tmp_path}/" + name + ".keras", safe_mode=True)
            got = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(infer(model, x))]
            for g, e in zip(got, arrays[n:]):
                if g.shape != e.shape or not np.allclose(g, e, atol=1e-5):
                    failures.append(name)
        print("FAILED:", failures)
        sys.exit(1 if failures else 0)
        """
    )
    root = Path(__file__).resolve().parents[2]  # the child imports tests.models.test_all_models
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]


@pytest.mark.parametrize("name", NORMALIZED)
def test_weight_normalization_in_every_builder_that_normalizes(name, tmp_path):
    """`normalization: weight` wraps the Dense/Conv layers; no normalization layer is added."""
    model = kzoo.models.get(name, normalization="weight")
    paths = [v.path for v in model.weights]
    wrapped = [p for p in paths if p.endswith("/g")]  # WeightNormalization's gains
    assert wrapped, paths
    assert not any(p.endswith("/moving_mean") for p in paths), paths  # no batch norm left
    x = example_batch(model)
    outputs = model(x)
    logs = model.train_on_batch(x, targets_for(model, outputs), return_dict=True)
    assert np.isfinite(logs["loss"]), logs
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    for got, expected in zip(
        keras.tree.flatten(infer(loaded, x)), keras.tree.flatten(infer(model, x))
    ):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(expected), atol=1e-5
        )


@pytest.mark.parametrize("name", NAMES)
def test_num_classes_below_one_is_rejected(name):
    with pytest.raises(ValueError, match="num_classes"):
        kzoo.models.get(name, num_classes=0, compile=False)
