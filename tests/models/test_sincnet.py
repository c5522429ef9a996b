"""SincNet: the paper's block order, the optional log compression, bad input shapes."""

import keras
import numpy as np
import pytest

import kzoo
from kzoo.models.sincnet import LogCompression
from kzoo.testing import random_inputs, run_layer_test


def test_sinc_front_end_is_valid_conv_then_abs_pool_norm_act():
    model = kzoo.models.get("sincnet", compile=False)
    names = [layer.name for layer in model.layers]
    start = names.index("sinc")
    assert names[start : start + 5] == ["sinc", "sinc_abs", "sinc_pool", "sinc_norm", "sinc_act"]
    # The zoo config's 40 filters of 129 taps: (2400 - 129 + 1) // 3 frames after the sinc block
    assert tuple(model.get_layer("sinc_pool").output.shape) == (None, 757, 40)


@pytest.mark.parametrize(
    ("shape", "message"),
    [((31, 40), "mono waveform"), ((None, 1), "fixed"), ((150, 1), "too short")],
)
def test_bad_waveform_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        kzoo.models.get("sincnet", input_shape=shape, compile=False)


def test_average_pooling_takes_any_clip_length():
    model = kzoo.models.get(
        "sincnet", input_shape=(None, 1), global_pooling="average", num_classes=3, compile=False
    )
    assert "global_pool" in [layer.name for layer in model.layers]
    rng = np.random.default_rng(0)
    for samples in (2400, 3100):
        probabilities = model.predict(rng.standard_normal((2, samples, 1)), verbose=0)
        assert probabilities.shape == (2, 3)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_unknown_global_pooling_names_the_choices():
    with pytest.raises(
        ValueError,
        match=r"`global_pooling` must be one of \['average', 'flatten', 'max'\]. Received: "
        r"global_pooling='mean'",
    ):
        kzoo.models.get("sincnet", global_pooling="mean", compile=False)


def test_log_compression_follows_the_sinc_pool_and_survives_saving(tmp_path):
    model = kzoo.models.get(
        "sincnet", compression="log", global_pooling="average", num_classes=3, compile=False
    )
    names = [layer.name for layer in model.layers]
    start = names.index("sinc_pool")
    assert names[start : start + 3] == ["sinc_pool", "sinc_log", "sinc_norm"]
    x = np.random.default_rng(0).standard_normal((2, 2400, 1)).astype("float32")
    pooled = keras.Model(model.input, model.get_layer("sinc_pool").output).predict(x, verbose=0)
    logged = keras.Model(model.input, model.get_layer("sinc_log").output).predict(x, verbose=0)
    np.testing.assert_allclose(logged, np.log(pooled + 1e-3), rtol=1e-5, atol=1e-5)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(
        restored.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6
    )


def test_log_compression_layer_battery():
    # Non-negative inputs, as the pooled |sinc| outputs it follows.
    data = np.abs(random_inputs((2, 8, 4)))
    layer = run_layer_test(
        LogCompression, {"epsilon": 0.01}, input_data=data, supports_masking=True
    )
    np.testing.assert_allclose(np.asarray(layer(data)), np.log(data + 0.01), rtol=1e-6)


def test_compression_none_is_the_paper_and_takes_null_too():
    for value in ("none", None):
        model = kzoo.models.get("sincnet", compression=value, compile=False)
        assert "sinc_log" not in [layer.name for layer in model.layers]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("logg", r"`compression` must be one of \['log', 'none'\].*Did you mean 'log'"),
        ("None", r"`compression` must be one of \['log', 'none'\].*Did you mean 'none'"),
    ],
)
def test_bad_compression_names_the_choices(value, message):
    with pytest.raises(ValueError, match=message):
        kzoo.models.get("sincnet", compression=value, compile=False)


@pytest.mark.parametrize("epsilon", [0, -1.0, "1e-3", True])
def test_log_compression_needs_a_positive_epsilon(epsilon):
    with pytest.raises(ValueError, match=r"`epsilon` of LogCompression must be a positive"):
        LogCompression(epsilon=epsilon)
