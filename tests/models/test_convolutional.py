"""kzoo/models/convolutional.py (cnn and cnn1d): channel axis for spectrograms, sizes, bad input shapes."""

import pytest

import kzoo


def test_cnn_adds_a_channel_axis_to_spectrograms_and_accepts_images():
    model = kzoo.models.get("cnn", input_shape=(31, 40), filters=[4], compile=False)
    assert tuple(model.get_layer("add_channel").output.shape) == (None, 31, 40, 1)
    model = kzoo.models.get("cnn", input_shape=(8, 8, 3), filters=[4], compile=False)
    assert tuple(model.get_layer("conv0").output.shape) == (None, 8, 8, 4)


def test_cnn_strides_valid_padding_and_flatten():
    model = kzoo.models.get(
        "cnn",
        input_shape=(16, 16, 1),
        filters=[4, 4],
        strides=2,
        padding="valid",
        pooling="none",
        global_pooling="flatten",
        compile=False,
    )
    assert tuple(model.get_layer("flatten").output.shape) == (None, 3 * 3 * 4)


@pytest.mark.parametrize("shape", [(2400, 1), (2400,)])
def test_cnn_rejects_a_waveform(shape):
    with pytest.raises(ValueError, match="cnn1d"):
        kzoo.models.get("cnn", input_shape=shape, compile=False)


def test_cnn_rejects_inputs_too_small_for_the_blocks():
    with pytest.raises(ValueError, match="too small"):
        kzoo.models.get(
            "cnn", input_shape=(4, 4), strides=2, padding="valid", filters=[4] * 4, compile=False
        )


def test_cnn1d_rejects_images_and_unknown_pooling():
    with pytest.raises(ValueError, match=r"\(time, channels\)"):
        kzoo.models.get("cnn1d", input_shape=(32, 32, 3), compile=False)
    with pytest.raises(ValueError, match="pooling"):
        kzoo.models.get("cnn1d", pooling="min", compile=False)
    with pytest.raises(ValueError, match="filters"):
        kzoo.models.get("cnn1d", filters=[0], compile=False)
