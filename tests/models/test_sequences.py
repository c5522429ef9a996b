"""Recurrent families: masking of padded frames, CTC head, bad input shapes."""

import keras
import numpy as np
import pytest

import kzoo


def test_zero_padded_frames_do_not_change_the_prediction():
    model = kzoo.models.get("gru", input_shape=(None, 6), units=8, compile=False)
    x = np.random.default_rng(0).standard_normal((1, 5, 6)).astype("float32")
    padded = np.concatenate([x, np.zeros((1, 3, 6), "float32")], axis=1)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(model(padded)), atol=1e-5
    )


def test_ctc_head_keeps_frames_and_adds_the_blank():
    model = kzoo.models.get(
        "ligru", input_shape=(7, 6), units=4, num_classes=5, head="ctc", compile=False
    )
    assert tuple(model.output.shape) == (None, 7, 6)


def test_stacked_bidirectional_layers_are_named():
    model = kzoo.models.get("lstm", num_layers=2, bidirectional=True, units=4, compile=False)
    assert isinstance(model.get_layer("lstm1"), keras.layers.Bidirectional)


def test_a_waveform_without_feature_axis_is_rejected():
    with pytest.raises(ValueError, match=r"\(time, features\).*input_shape=\(2400,\)"):
        kzoo.models.get("lstm", input_shape=(2400,), compile=False)


def test_bad_recurrent_sizes_are_rejected():
    with pytest.raises(ValueError, match="num_layers"):
        kzoo.models.get("rnn", num_layers=0, compile=False)
    with pytest.raises(ValueError, match="head"):
        kzoo.models.get("bilstm", head="softmax", compile=False)
