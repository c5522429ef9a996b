"""SincNet: the paper's block order and bad input shapes."""

import numpy as np
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
