"""resnet, densenet, mobilenet: 1-D or 2-D from the input rank, and bad arguments."""

import keras
import pytest

import kzoo

TINY = {
    "resnet": {"stem_filters": 4, "filters": [4, 8], "blocks": 1},
    "densenet": {"growth_rate": 2, "blocks": [1, 1]},
    "mobilenet": {"stem_filters": 4, "filters": [4, 8], "repeats": 1, "strides": [1, 2]},
}


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize(
    ("input_shape", "conv_dims", "conv"),
    [((16, 6), None, keras.layers.Conv1D), ((8, 8, 3), None, keras.layers.Conv2D),
     ((8, 6), 2, keras.layers.Conv2D)],
)  # fmt: skip
def test_rank_of_the_convolutions(name, input_shape, conv_dims, conv):
    model = kzoo.models.get(
        name, input_shape=input_shape, conv_dims=conv_dims, compile=False, **TINY[name]
    )
    assert isinstance(model.get_layer("stem"), conv)
    assert tuple(model.output.shape) == (None, 12)


def test_resnet_bottleneck_stages_downsample():
    model = kzoo.models.get(
        "resnet", input_shape=(16, 16, 1), block="bottleneck", compile=False, **TINY["resnet"]
    )
    assert tuple(model.get_layer("stage1_block0").output.shape) == (None, 8, 8, 32)


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("resnet", {"input_shape": (2400,)}, "input_shape"),
        ("resnet", {"conv_dims": 3}, "conv_dims"),
        ("resnet", {"block": "wide"}, "block"),
        ("resnet", {"filters": [8, 16], "blocks": [1, 1, 1]}, "one per stage"),
        ("mobilenet", {"input_shape": (2400, 1), "conv_dims": 2}, "waveform"),
        ("densenet", {"input_shape": (4, 3), "blocks": [1, 1, 1, 1]}, "too small"),
    ],
)
def test_bad_arguments(name, overrides, message):
    with pytest.raises(ValueError, match=message):
        kzoo.models.get(name, compile=False, **overrides)
