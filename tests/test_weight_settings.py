"""Regularizers, initializers and mixed precision of every kzoo model, from a config."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import kzoo
from kzoo import configs, training
from kzoo.models import factory
from tests.helpers import is_large_model, tiny_config, vowel_folders

SMALL_MODELS = [name for name in kzoo.models.list() if not is_large_model(name)]
L2 = {"name": "l2", "l2": 1e-3}


def _kernels(model, name="kernel"):
    return [
        v
        for v in model.weights
        if v.name.endswith(name) and (name != "kernel" or v.name != "recurrent_kernel")
    ]


@pytest.mark.parametrize("name", SMALL_MODELS)
def test_every_model_takes_kernel_regularizer_and_initializer(name):
    model = kzoo.models.get(
        name,
        compile=False,
        kernel_regularizer=L2,
        kernel_initializer="ones",
        bias_initializer="ones",
    )
    kernels = [v for v in _kernels(model) if v.trainable]
    assert kernels, f"{name} has no kernels"
    for variable in kernels:
        assert isinstance(variable.regularizer, keras.regularizers.L2), variable.path
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), 1.0)
    biases = [v for v in model.weights if v.name == "bias"]
    assert all(np.all(keras.ops.convert_to_numpy(v) == 1.0) for v in biases)


def test_recurrent_settings_and_the_penalty_in_the_loss(tmp_path):
    model = kzoo.models.get(
        "gru",
        compile=False,
        units=4,
        recurrent_regularizer={"name": "l1", "l1": 0.5},
        recurrent_initializer="zeros",
    )
    (recurrent,) = _kernels(model, "recurrent_kernel")
    assert not np.any(keras.ops.convert_to_numpy(recurrent))
    assert isinstance(recurrent.regularizer, keras.regularizers.L1)
    plain = kzoo.models.get("gru", compile=False, units=4)
    assert len(model.losses) == len(plain.losses) + 1
    # The setting is in the layer's config too, so the saved model keeps its penalty.
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    (reloaded,) = _kernels(loaded, "recurrent_kernel")
    assert isinstance(reloaded.regularizer, keras.regularizers.L1)
    assert float(reloaded.regularizer.l1) == pytest.approx(0.5)


def test_a_builder_that_takes_the_argument_gets_it_itself():
    @kzoo.models.register("test_own_regularizer")
    def test_own_regularizer(input_shape=(3,), num_classes=2, kernel_regularizer=None):
        inputs = keras.Input(input_shape)
        dense = keras.layers.Dense(num_classes, kernel_regularizer=kernel_regularizer)
        return keras.Model(inputs, dense(inputs))

    try:
        model = kzoo.models.get("test_own_regularizer", compile=False, kernel_regularizer="l1")
    finally:
        kzoo.registry.unregister("test_own_regularizer")
    assert isinstance(model.layers[-1].kernel_regularizer, keras.regularizers.L1)


@pytest.mark.parametrize(
    "override, message",
    [
        ("args.kernel_regularizer=l3", r"args.kernel_regularizer.*Unknown regularizer 'l3'.*'l2'"),
        ("args.kernel_initializer=he_normall", r"Unknown initializer 'he_normall'.*'he_normal'"),
        ("args.kernel_regulariser=l2", r"args.kernel_regulariser.*'kernel_regularizer'"),
        ("train.mixed_precision=mixed_float8", r"mixed_precision.*'mixed_float16'"),
    ],
)
def test_bad_settings_name_the_close_matches(override, message):
    with pytest.raises(kzoo.ConfigError, match=message):
        configs.load("mlp", [override])


def test_mixed_precision_from_the_config(tmp_path):
    config = configs.load("mlp", ["train.mixed_precision=mixed_float16", "args.num_classes=3"])
    model = factory.build(config)
    assert model.dtype_policy.name == "mixed_float16"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left alone
    kzoo.recipe.compile_model(model, config)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_training_with_mixed_precision_and_a_regularizer(tmp_path):
    folder = vowel_folders(tmp_path / "data")
    path = tiny_config(tmp_path / "c.yaml", mixed_precision="mixed_bfloat16", tensorboard=False)
    config = configs.load(path, {"args.kernel_regularizer": L2})
    results = training.train(config, source=str(folder), output=tmp_path / "run", verbose=0)
    assert np.isfinite(results["final"]["loss"])
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    # The hidden layers compute in bfloat16; the head keeps float32 outputs.
    assert "mixed_bfloat16" in {layer.dtype_policy.name for layer in model.layers}
    assert any(isinstance(v.regularizer, keras.regularizers.L2) for v in model.weights)


def test_parse_names_the_argument_of_a_bad_setting():
    from kzoo import weight_settings

    assert weight_settings.parse({"units": 8}) == {}
    assert set(weight_settings.parse({"kernel_initializer": "he_normal"})) == {"kernel_initializer"}
    with pytest.raises(ValueError, match="`args.kernel_regularizer`"):
        weight_settings.parse({"kernel_regularizer": "l3"})


@pytest.mark.parametrize("attention", ["multi_head", "additive"])
def test_attention_keeps_its_settings_when_saved(tmp_path, attention):
    # MultiHeadAttention keeps its settings as `_kernel_regularizer` etc.; a Keras that
    # renamed them would drop the penalty from saved models, which this catches.
    model = kzoo.models.get(
        "transformer",
        compile=False,
        attention=attention,
        num_layers=1,
        kernel_regularizer=L2,
        kernel_initializer="ones",
    )
    layer = model.get_layer("encoder0_attention")
    config = layer.get_config()
    assert config["kernel_regularizer"]["config"]["l2"] == pytest.approx(1e-3)
    assert config["kernel_initializer"]["class_name"] == "Ones"
    kernels = [v for v in layer.weights if v.name.endswith("kernel")]
    assert len(kernels) in (3, 4)  # query, key, value (multi-head), output / score
    for variable in kernels:
        assert isinstance(variable.regularizer, keras.regularizers.L2), variable.path
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), 1.0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    reloaded = loaded.get_layer("encoder0_attention").weights
    assert all(
        isinstance(v.regularizer, keras.regularizers.L2)
        for v in reloaded
        if v.name.endswith("kernel")
    )
    penalty = sorted(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses)
    assert len(loaded.losses) == len(penalty)
    np.testing.assert_allclose(
        sorted(float(keras.ops.convert_to_numpy(loss)) for loss in loaded.losses), penalty
    )
