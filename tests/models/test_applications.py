"""keras.applications backbones: offline weights, local weight files, freezing, bad shapes."""

import keras
import numpy as np
import pytest

import kzoo

TINY = {"input_shape": (32, 32, 3), "alpha": 0.35, "resize": None, "compile": False}


def test_local_weights_file_is_loaded_and_grey_inputs_become_rgb(tmp_path):
    source = kzoo.models.get("mobilenet_v2", **TINY)
    path = tmp_path / "backbone.weights.h5"
    source.get_layer("mobilenetv2_0.35_32").save_weights(path)
    model = kzoo.models.get(
        "mobilenet_v2",
        input_shape=(32, 32),
        alpha=0.35,
        resize=None,
        weights=str(path),
        compile=False,
    )
    assert tuple(model.get_layer("grey_to_rgb").output.shape) == (None, 32, 32, 3)
    for a, b in zip(
        source.get_layer("mobilenetv2_0.35_32").weights,
        model.get_layer("mobilenetv2_0.35_32").weights,
    ):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_freeze_leaves_only_the_head_trainable():
    model = kzoo.models.get("mobilenet_v2", freeze=True, **TINY)
    assert [w.path for w in model.trainable_weights] == ["classifier/kernel", "classifier/bias"]


def test_include_top_uses_the_application_classifier():
    model = kzoo.models.get("mobilenet_v2", include_top=True, num_classes=3, **TINY)
    assert tuple(model.output.shape) == (None, 3)


def test_resize_brings_spectrograms_to_the_minimum_size():
    model = kzoo.models.get(
        "mobilenet_v2", input_shape=(31, 40), resize=(32, 40), alpha=0.35, compile=False
    )
    assert tuple(model.get_layer("resize").output.shape) == (None, 32, 40, 1)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"weights": "imagenet"}, "offline.*weights='/path/to/file.h5'"),
        ({"weights": "/no/such/file.h5"}, "existing weights file"),
        ({"include_top": True, "head": "embedding"}, "include_top=False"),
        ({"input_shape": (31, 40)}, r"at least 32x32.*resize"),
        ({"input_shape": (2400,)}, "height, width"),
        ({"pooling": "sum"}, "pooling"),
        ({"alpha": 0}, "alpha"),
        ({"batch_norm_momentum": 1.0}, r"batch_norm_momentum.*\[0, 1\)"),
        ({"batch_norm_momentum": "fast"}, "batch_norm_momentum"),
    ],
)
def test_bad_arguments(overrides, message):
    arguments = {**TINY, **overrides}
    with pytest.raises(ValueError, match=message):
        kzoo.models.get("mobilenet_v2", **arguments)


def test_inception_minimum_size_is_named():
    with pytest.raises(ValueError, match="75x75"):
        kzoo.models.get("inception_v3", input_shape=(32, 32, 3), resize=None, compile=False)


def test_batch_norm_momentum_reaches_every_backbone_batch_norm_and_its_saved_file(tmp_path):
    def momenta(model):
        backbone = model.get_layer("mobilenetv2_0.35_32")
        return {
            layer.momentum
            for layer in backbone.layers
            if isinstance(layer, keras.layers.BatchNormalization)
        }

    keras_own = kzoo.models.get("mobilenet_v2", batch_norm_momentum=None, **TINY)
    assert momenta(keras_own) == {0.999}
    model = kzoo.models.get("mobilenet_v2", batch_norm_momentum=0.9, **TINY)
    assert momenta(model) == {0.9}
    path = tmp_path / "model.keras"
    model.save(path)
    assert momenta(keras.saving.load_model(path)) == {0.9}

    # Batch norm reads its momentum at each call: from the same weights and batch, the
    # first layer's moving mean moves 0.1 / 0.001 = 100 times as far at 0.9 as at 0.999.
    slow = kzoo.models.get("mobilenet_v2", batch_norm_momentum=0.999, **TINY)
    slow.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(4, 32, 32, 3)).astype("float32")
    moved = []
    for m in (model, slow):
        first = next(
            layer
            for layer in m.get_layer("mobilenetv2_0.35_32").layers
            if isinstance(layer, keras.layers.BatchNormalization)
        )
        before = keras.ops.convert_to_numpy(first.moving_mean)
        m(x, training=True)
        moved.append(keras.ops.convert_to_numpy(first.moving_mean) - before)
    np.testing.assert_allclose(moved[0], 100 * moved[1], rtol=1e-3, atol=1e-7)
