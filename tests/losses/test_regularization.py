import keras
import numpy as np
import pytest
from keras import ops

import kzoo
from kzoo.losses.autoencoder import SparsityRegularizer
from kzoo.losses.regularization import (
    EntropyRegularizedCrossentropy,
    entropy_regularized_crossentropy,
    regularizer,
)


@pytest.mark.parametrize("from_logits", [True, False])
def test_confidence_penalty_formula(from_logits):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 4)).astype("float32")
    labels = rng.integers(0, 4, size=5)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    q = np.eye(4)[labels] * 0.9 + 0.1 / 4
    expected = -(q * np.log(p)).sum(-1) + 0.3 * (p * np.log(p)).sum(-1)
    y_pred = logits if from_logits else p
    ours = entropy_regularized_crossentropy(labels, y_pred, 0.3, from_logits, 0.1)
    np.testing.assert_allclose(ops.convert_to_numpy(ours), expected, rtol=1e-4)
    loss = EntropyRegularizedCrossentropy(0.3, from_logits, 0.1)
    np.testing.assert_allclose(float(loss(labels, y_pred)), expected.mean(), rtol=1e-4)


def test_regularizer_by_name():
    assert regularizer(None) is None and regularizer("none") is None
    assert isinstance(regularizer("l1"), keras.regularizers.L1)
    l1_l2 = regularizer({"name": "l1_l2", "l1": 1e-5, "l2": 1e-4})
    assert isinstance(l1_l2, keras.regularizers.L1L2)
    assert isinstance(regularizer({"name": "sparsity", "rho": 0.1}), SparsityRegularizer)
    with pytest.raises(ValueError, match="Unknown regularizer"):
        regularizer("l3")
    with pytest.raises(ValueError, match="Bad arguments"):
        regularizer({"name": "l2", "factor": 1.0})


def test_config_round_trip():
    loss = kzoo.losses.get({"name": "confidence_penalty", "beta": 0.2, "from_logits": True})
    assert isinstance(loss, EntropyRegularizedCrossentropy)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert again.get_config() == loss.get_config()


def test_bad_inputs():
    with pytest.raises(ValueError, match="beta"):
        EntropyRegularizedCrossentropy(beta=-0.1)
    with pytest.raises(ValueError, match="label_smoothing"):
        EntropyRegularizedCrossentropy(label_smoothing=2.0)


def test_speechbrain_loss_aliases():
    """`nll` is the negative log-likelihood of the true class, `l1` the mean absolute error."""
    probs = np.array([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]], "float32")
    labels = np.array([0, 2])
    nll = kzoo.losses.get("nll")
    expected = -np.mean(np.log(probs[np.arange(2), labels]))
    assert float(nll(labels, probs)) == pytest.approx(expected, rel=1e-5)
    y, y_hat = np.array([[1.0, -2.0]], "float32"), np.array([[0.5, 1.0]], "float32")
    assert float(kzoo.losses.get("l1")(y, y_hat)) == pytest.approx(1.75)
