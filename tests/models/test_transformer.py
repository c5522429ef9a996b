"""Transformer and text classifier: masking, attention kinds, positions, bad arguments."""

import keras
import numpy as np
import pytest

import kzoo
from kzoo.models.transformer import SinusoidalPositionalEncoding
from kzoo.testing import run_layer_test


@pytest.mark.parametrize("attention", ["multi_head", "scaled_dot_product", "additive"])
def test_zero_padded_frames_do_not_change_the_prediction(attention):
    model = kzoo.models.get(
        "transformer", input_shape=(None, 6), d_model=8, num_heads=2, ff_units=8,
        attention=attention, compile=False,
    )  # fmt: skip
    x = np.random.default_rng(0).standard_normal((1, 5, 6)).astype("float32")
    padded = np.concatenate([x, np.zeros((1, 3, 6), "float32")], axis=1)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(model(padded)), atol=1e-5
    )


def test_positional_encoding_layer():
    run_layer_test(
        SinusoidalPositionalEncoding,
        init_kwargs={"scale": 2.0},
        input_shape=(2, 5, 6),
        expected_output_shape=(2, 5, 6),
        supports_masking=True,
        run_training_step=False,  # no weights
    )


@pytest.mark.parametrize("encoder", ["lstm", "additive", "scaled_dot_product"])
def test_text_classifier_encoders(encoder):
    model = kzoo.models.get(
        "text_classifier", input_shape=(None,), vocab_size=50, embedding_dim=8, units=8,
        num_heads=2, encoder=encoder, num_classes=3, compile=False,
    )  # fmt: skip
    tokens = np.array([[4, 7, 9] + [0] * 9], "int32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(tokens)),
        keras.ops.convert_to_numpy(model(tokens[:, :3])),
        atol=1e-5,
    )


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("transformer", {"d_model": 10, "num_heads": 4}, "divisible"),
        ("transformer", {"attention": "dot"}, "attention"),
        ("transformer", {"input_shape": (2400,)}, r"\(time, features\)"),
        ("text_classifier", {"input_shape": (31, 40)}, r"\(tokens,\)"),
        ("text_classifier", {"encoder": "bert"}, "encoder"),
        ("text_classifier", {"vocab_size": 0}, "vocab_size"),
    ],
)
def test_bad_arguments(name, overrides, message):
    with pytest.raises(ValueError, match=message):
        kzoo.models.get(name, compile=False, **overrides)


def test_attention_choices_use_kzoo_layers(tmp_path):
    """additive is kzoo's Bahdanau layer (learned projections), not keras's AdditiveAttention."""
    for attention, inner in (
        ("additive", kzoo.layers.AdditiveAttention),
        ("scaled_dot_product", kzoo.layers.ScaledDotProductAttention),
    ):
        model = kzoo.models.get(
            "transformer", input_shape=(None, 6), d_model=8, num_heads=2, ff_units=8,
            num_layers=1, attention=attention, compile=False,
        )  # fmt: skip
        layer = model.get_layer("encoder0_attention")
        assert isinstance(layer, kzoo.layers.SelfAttention) and isinstance(layer.inner, inner)
        if attention == "additive":
            assert {"query_kernel", "key_kernel", "score_kernel"} <= {w.name for w in layer.weights}
        x = np.random.default_rng(1).standard_normal((2, 4, 6)).astype("float32")
        model.save(tmp_path / f"{attention}.keras")
        loaded = keras.saving.load_model(tmp_path / f"{attention}.keras")
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(loaded(x)), atol=1e-6
        )
