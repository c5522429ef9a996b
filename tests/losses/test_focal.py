import keras
import numpy as np
import pytest

import kzoo
from kzoo.losses.focal import (
    SparseCategoricalFocalCrossentropy,
    sparse_categorical_focal_crossentropy,
)
from tests.losses._grad import value_and_grad


def data(seed=0, classes=5, batch=8):
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(batch, classes)) * 3).astype("float32")
    labels = rng.integers(0, classes, size=batch)
    return logits, labels


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("gamma, alpha, smoothing", [(2.0, 0.25, 0.0), (0.5, 1.0, 0.1)])
def test_matches_keras_categorical_focal_with_one_hot(from_logits, gamma, alpha, smoothing):
    logits, labels = data()
    y_pred = logits if from_logits else np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    ours = SparseCategoricalFocalCrossentropy(
        alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=smoothing
    )(labels, y_pred)
    theirs = keras.losses.CategoricalFocalCrossentropy(
        alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=smoothing
    )(np.eye(5)[labels], y_pred)
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-5)


def test_per_class_alpha_matches_formula():
    logits, labels = data(1)
    alpha = [0.1, 0.2, 0.3, 0.4, 1.0]
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    p_t = p[np.arange(len(labels)), labels]
    expected = -np.asarray(alpha)[labels] * (1 - p_t) ** 2 * np.log(p_t)
    ours = keras.ops.convert_to_numpy(
        sparse_categorical_focal_crossentropy(labels, logits, alpha=alpha, from_logits=True)
    )
    np.testing.assert_allclose(ours, expected, rtol=1e-4)


def test_gamma_zero_is_cross_entropy():
    logits, labels = data(2)
    ours = SparseCategoricalFocalCrossentropy(gamma=0.0, from_logits=True)(labels, logits)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    np.testing.assert_allclose(float(ours), float(ce), rtol=1e-5)


def test_finite_gradient_for_confident_predictions_and_small_gamma():
    labels = np.array([0, 1])
    logits = np.array([[60.0, -60.0, 0.0], [0.0, -60.0, 60.0]], "float32")
    loss = SparseCategoricalFocalCrossentropy(gamma=0.5, from_logits=True)
    value, grad = value_and_grad(lambda x: loss(labels, x), logits)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_sequence_with_keras_mask_and_column_labels():
    logits, labels = data(3, batch=6)
    a = SparseCategoricalFocalCrossentropy(from_logits=True)(labels[:, None], logits)
    b = SparseCategoricalFocalCrossentropy(from_logits=True)(labels, logits)
    np.testing.assert_allclose(float(a), float(b), rtol=1e-6)
    x = logits.reshape(2, 3, 5)
    x[1, 2] = 0.0
    inputs = keras.Input((3, 5))
    dense = keras.layers.Dense(5, kernel_initializer="identity", use_bias=False)
    model = keras.Model(inputs, dense(keras.layers.Masking()(inputs)))
    model.compile(loss=kzoo.losses.get({"name": "focal", "from_logits": True}))
    got = model.evaluate(x, labels.reshape(2, 3), verbose=0)
    per = keras.ops.convert_to_numpy(
        sparse_categorical_focal_crossentropy(labels, logits, from_logits=True)
    )
    np.testing.assert_allclose(got, per[[0, 1, 2, 3, 4]].mean(), rtol=1e-5)


@pytest.mark.parametrize(
    "spec, cls",
    [
        ({"name": "focal", "alpha": [0.5, 2.0], "gamma": 1.0}, SparseCategoricalFocalCrossentropy),
        ({"name": "categorical_focal", "gamma": 1.0}, keras.losses.CategoricalFocalCrossentropy),
        ({"name": "binary_focal", "gamma": 1.0}, keras.losses.BinaryFocalCrossentropy),
    ],
)
def test_by_name_and_config_round_trip(spec, cls):
    loss = kzoo.losses.get(spec)
    assert type(loss) is cls
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert again.get_config() == loss.get_config()


def test_bad_inputs():
    logits, labels = data()
    with pytest.raises(ValueError, match="gamma"):
        SparseCategoricalFocalCrossentropy(gamma=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        SparseCategoricalFocalCrossentropy(alpha=[0.5, -1.0])
    with pytest.raises(ValueError, match="label_smoothing"):
        SparseCategoricalFocalCrossentropy(label_smoothing=1.0)
    with pytest.raises(ValueError, match="5 classes"):
        sparse_categorical_focal_crossentropy(labels, logits, alpha=[1.0, 2.0])
    with pytest.raises(ValueError, match="one-hot"):
        SparseCategoricalFocalCrossentropy()(np.eye(5)[labels], logits)
    with pytest.raises(ValueError, match="one-hot"):
        sparse_categorical_focal_crossentropy(labels[:4], logits)
