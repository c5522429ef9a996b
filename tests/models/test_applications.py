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
    ],
)
def test_bad_arguments(overrides, message):
    arguments = {**TINY, **overrides}
    with pytest.raises(ValueError, match=message):
        kzoo.models.get("mobilenet_v2", **arguments)


def test_inception_minimum_size_is_named():
    with pytest.raises(ValueError, match="75x75"):
        kzoo.models.get("inception_v3", input_shape=(32, 32, 3), resize=None, compile=False)
