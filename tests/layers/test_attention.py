"""Tests of kzoo.layers attention: numpy formulas, masks, causal, factory, errors."""

import keras
import numpy as np
import pytest

from kzoo.layers import (
    ATTENTIONS,
    AdditiveAttention,
    MultiHeadAttention,
    ScaledDotProductAttention,
    SelfAttention,
    attention,
)
from kzoo.testing import random_inputs, run_layer_test

# Keras's TF backend calls np.array(variable) when saving a .keras file, which numpy 2
# reports as a DeprecationWarning; not ours to fix (belongs in pyproject's filterwarnings).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_attend(scores, value, allowed=None):
    if allowed is not None:
        scores = np.where(allowed, scores, -1e9)
    weights = np_softmax(scores)
    return weights @ value, weights


def to_np(x):
    return keras.ops.convert_to_numpy(x)


Q = random_inputs((2, 4, 3), seed=1)
K = random_inputs((2, 6, 3), seed=2)
V = random_inputs((2, 6, 5), seed=3)
V3 = random_inputs((2, 6, 3), seed=4)  # same size as the query: the fused path


@pytest.mark.parametrize("value", [V, V3], ids=["unfused", "fused"])
def test_scaled_dot_product_matches_numpy(value):
    expected, expected_weights = np_attend(Q @ K.transpose(0, 2, 1) / np.sqrt(3), value)
    layer = ScaledDotProductAttention()
    np.testing.assert_allclose(to_np(layer(Q, value, key=K)), expected, atol=1e-5)
    out, weights = layer(Q, value, key=K, return_attention_scores=True)
    np.testing.assert_allclose(to_np(out), expected, atol=1e-5)
    np.testing.assert_allclose(to_np(weights), expected_weights, atol=1e-6)


def test_scaled_dot_product_custom_scale_and_default_key():
    expected, _ = np_attend(0.5 * Q @ V3[:, :4].transpose(0, 2, 1), V3[:, :4])
    got = ScaledDotProductAttention(scale=0.5)(Q, V3[:, :4])
    np.testing.assert_allclose(to_np(got), expected, atol=1e-5)


@pytest.mark.parametrize("value", [V, V3], ids=["unfused", "fused"])
def test_masks_and_causal_match_numpy(value):
    value_mask = np.ones((2, 6), bool)
    value_mask[0, 4:] = False
    attention_mask = np.ones((2, 4, 6), bool)
    attention_mask[1, 2:, 1] = False
    query_mask = np.array([[True, True, True, False], [True] * 4])
    causal = np.tril(np.ones((4, 6), bool))
    allowed = value_mask[:, None, :] & attention_mask & causal[None]
    expected, expected_weights = np_attend(Q @ K.transpose(0, 2, 1) / np.sqrt(3), value, allowed)
    expected = expected * query_mask[..., None]
    layer = ScaledDotProductAttention(causal=True)
    kwargs = dict(
        key=K, query_mask=query_mask, value_mask=value_mask, attention_mask=attention_mask
    )
    np.testing.assert_allclose(to_np(layer(Q, value, **kwargs)), expected, atol=1e-5)
    out, weights = layer(Q, value, return_attention_scores=True, **kwargs)
    np.testing.assert_allclose(to_np(out), expected, atol=1e-5)
    np.testing.assert_allclose(to_np(weights), expected_weights, atol=1e-6)
    assert np.all(to_np(weights)[~np.broadcast_to(allowed, weights.shape)] < 1e-6)


def test_keras_masks_are_used():
    inputs = keras.Input((None, 3))
    masked = keras.layers.Masking(0.0)(inputs)
    model = keras.Model(inputs, ScaledDotProductAttention()(masked))
    x = random_inputs((1, 5, 3))
    x[0, 3:] = 0.0
    expected, _ = np_attend(x[:, :3] @ x[:, :3].transpose(0, 2, 1) / np.sqrt(3), x[:, :3])
    got = to_np(model(x))
    np.testing.assert_allclose(got[:, :3], expected, atol=1e-5)
    np.testing.assert_allclose(got[:, 3:], 0.0)


def test_additive_matches_numpy():
    layer = AdditiveAttention(units=7, causal=True)
    out, weights = layer(Q, V, key=K, return_attention_scores=True)
    wq, wk, b, v = (
        to_np(w) for w in (layer.query_kernel, layer.key_kernel, layer.bias, layer.score_kernel)
    )
    hidden = np.tanh((Q @ wq)[:, :, None, :] + (K @ wk)[:, None, :, :] + b)
    expected, expected_weights = np_attend(hidden @ v, V, np.tril(np.ones((4, 6), bool)))
    np.testing.assert_allclose(to_np(out), expected, atol=1e-5)
    np.testing.assert_allclose(to_np(weights), expected_weights, atol=1e-6)


def test_attention_dropout_only_in_training():
    layer = ScaledDotProductAttention(dropout=0.5, seed=0)
    inference = to_np(layer(Q, V, key=K, training=False))
    training = to_np(layer(Q, V, key=K, training=True))
    np.testing.assert_allclose(inference, to_np(layer(Q, V, key=K)))
    assert not np.allclose(inference, training)


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (ScaledDotProductAttention, dict(causal=True)),
        (ScaledDotProductAttention, dict(dropout=0.1, scale=0.3, seed=1)),
        (AdditiveAttention, dict(units=5)),
        (AdditiveAttention, dict(units=4, use_bias=False, causal=True, dropout=0.2, seed=0)),
        (SelfAttention, dict(attention="scaled_dot_product", causal=True)),
        (SelfAttention, dict(attention="additive", units=6)),
        (SelfAttention, dict(attention="multi_head", num_heads=2, key_dim=3, causal=True)),
    ],
)
def test_layer_contract(cls, kwargs):
    run_layer_test(cls, kwargs, input_shape=(2, 5, 4), supports_masking=True)


def test_self_attention_is_attention_on_itself_with_its_mask():
    x = random_inputs((2, 5, 4))
    mask = np.ones((2, 5), bool)
    mask[1, 3:] = False
    layer = SelfAttention(causal=True)
    expected = ScaledDotProductAttention(causal=True)(x, x, query_mask=mask, value_mask=mask)
    np.testing.assert_allclose(to_np(layer(x, mask=mask)), to_np(expected), atol=1e-6)
    out, weights = layer(x, mask=mask, return_attention_scores=True)
    assert tuple(weights.shape) == (2, 5, 5)


def test_factory_builds_every_name():
    assert set(ATTENTIONS) == {"scaled_dot_product", "additive", "multi_head"}
    assert isinstance(attention("scaled_dot_product", causal=True), ScaledDotProductAttention)
    assert isinstance(attention("additive", units=3), AdditiveAttention)
    mha = attention("multi_head", num_heads=2, key_dim=4)
    assert isinstance(mha, keras.layers.MultiHeadAttention)
    assert MultiHeadAttention is keras.layers.MultiHeadAttention


def test_factory_unknown_name():
    with pytest.raises(ValueError, match="Did you mean 'multi_head'"):
        attention("multihead")
    with pytest.raises(ValueError, match="Did you mean 'additive'"):
        SelfAttention("addititve")


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: AdditiveAttention(units=0), "units"),
        (lambda: AdditiveAttention(units=True), "units"),
        (lambda: ScaledDotProductAttention(dropout=1.5), "dropout"),
        (lambda: ScaledDotProductAttention(scale=0.0), "scale"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_wrong_input_rank():
    with pytest.raises(ValueError, match="rank 3"):
        ScaledDotProductAttention()(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="rank 3"):
        AdditiveAttention(units=3)(Q, np.zeros((2, 6, 5, 1), "float32"))
    with pytest.raises(ValueError, match="rank 3"):
        SelfAttention()(np.zeros((2, 4, 3, 1), "float32"))
