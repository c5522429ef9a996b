import keras
import numpy as np
import pytest

import kzoo
from kzoo.models import parts


@pytest.mark.parametrize("rnn", parts.RECURRENT)
def test_every_recurrent_choice_trains(rnn):
    model = kzoo.models.get(
        "cnn_mlp_rnn",
        rnn=rnn,
        rnn_units=8,
        conv_filters=[8],
        dense_units=8,
        head_units=8,
        num_classes=3,
    )
    x = np.random.default_rng(0).standard_normal((4, 31, 40)).astype("float32")
    logs = model.train_on_batch(x, np.array([0, 1, 2, 0]), return_dict=True)
    assert np.isfinite(logs["loss"])
    assert model.get_layer(f"{rnn}0") is not None


def test_ctc_head_keeps_frames_and_adds_a_blank():
    model = kzoo.models.get("cnn_mlp_rnn", head="ctc", num_classes=5, pool_size=1, compile=False)
    assert model.output.shape == (None, 31, 6)


def test_stacked_unidirectional():
    model = kzoo.models.get(
        "cnn_mlp_rnn", rnn="lstm", rnn_layers=2, bidirectional=False, compile=False
    )
    assert model.get_layer("lstm1").output.shape[-1] == 96


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"input_shape": [2400, 40, 1]}, r"takes inputs of shape \(time, features\).*input_shape"),
        ({"rnn": "gruu"}, r"Argument `rnn`.*'gru'"),
        ({"head": "classifier"}, r"Argument `head`.*'classification'"),
        ({"num_classes": 0}, r"num_classes"),
        ({"activation": "reluu"}, r"Unknown activation 'reluu'"),
        ({"normalization": "btach"}, r"Unknown normalization 'btach'"),
        ({"mask_padding": "no"}, r"Argument `mask_padding` must be true or false"),
    ],
)
def test_bad_arguments_name_the_argument(overrides, message):
    with pytest.raises(ValueError, match=message):
        kzoo.models.get("cnn_mlp_rnn", compile=False, **overrides)


def test_mlp_rejects_ctc_head():
    with pytest.raises(ValueError, match="head='ctc' needs a model that keeps the time axis"):
        kzoo.models.get("mlp", head="ctc", compile=False)


@pytest.mark.parametrize("rnn", ["gru", "ligru"])
def test_mask_padding_makes_predictions_independent_of_the_padding(rnn, tmp_path):
    kwargs = dict(
        input_shape=(None, 13),
        num_classes=4,
        rnn=rnn,
        rnn_units=8,
        conv_filters=[8, 8],
        dense_units=8,
        head_units=8,
    )
    x = np.random.default_rng(0).standard_normal((3, 20, 13)).astype("float32")
    short = np.concatenate([x, np.zeros((3, 12, 13), "float32")], axis=1)
    long = np.concatenate([x, np.zeros((3, 40, 13), "float32")], axis=1)
    masked = kzoo.models.get("cnn_mlp_rnn", mask_padding=True, **kwargs)
    assert masked.get_layer("padding_mask").num_pools == 2  # the mask follows both conv pools
    np.testing.assert_allclose(
        masked.predict_on_batch(short), masked.predict_on_batch(long), atol=1e-5
    )
    plain = kzoo.models.get("cnn_mlp_rnn", **kwargs)  # averages over the padding too
    assert not np.allclose(plain.predict_on_batch(short), plain.predict_on_batch(long), atol=1e-5)
    logs = masked.train_on_batch(long, np.array([0, 1, 2]), return_dict=True)
    assert np.isfinite(logs["loss"])
    path = tmp_path / "masked.keras"
    masked.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        restored.predict_on_batch(long), masked.predict_on_batch(long), atol=1e-6
    )
