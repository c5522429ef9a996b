"""SincNet: the paper's block order and bad input shapes."""

import pytest

import kzoo


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
