import keras
import numpy as np
import pytest
from keras import ops

import kzoo
from kzoo.losses.masked import (
    MaskedMeanAbsoluteError,
    MaskedMeanSquaredError,
    MaskedSparseCategoricalCrossentropy,
    masked_sequence_loss_per_example,
)

LENGTHS = np.array([6, 2, 4])


def batch(seed=0, classes=5):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(3, 6, classes)).astype("float32")
    labels = rng.integers(0, classes, size=(3, 6))
    real = np.arange(6)[None] < LENGTHS[:, None]
    return logits, np.where(real, labels, -1), real


def unpadded_means(loss_fn, logits, labels):
    """Each example's mean loss computed on its unpadded frames alone."""
    return np.array([float(loss_fn(labels[i, :n], logits[i, :n])) for i, n in enumerate(LENGTHS)])


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_padded_batch_averages_over_all_real_frames(label_smoothing):
    logits, labels, _ = batch()
    reference = keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=label_smoothing
    )

    def keras_loss(y, x):
        return reference(np.eye(5)[y], x)

    per_example = unpadded_means(keras_loss, logits, labels)
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=label_smoothing, pad_value=-1)
    # Default reduction: every real frame of the batch weighs the same.
    expected = (per_example * LENGTHS).sum() / LENGTHS.sum()
    np.testing.assert_allclose(float(loss(labels, logits)), expected, rtol=1e-5)
    # Per-example means, then their mean: reduction="none" + masked_sequence_loss_per_example.
    frames = MaskedSparseCategoricalCrossentropy(
        label_smoothing=label_smoothing, pad_value=-1, reduction="none"
    )(labels, logits)
    means = ops.convert_to_numpy(masked_sequence_loss_per_example(frames, labels != -1))
    np.testing.assert_allclose(means, per_example, rtol=1e-5)


def test_probabilities_and_sample_weight():
    logits, labels, real = batch(1)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    a = MaskedSparseCategoricalCrossentropy(pad_value=-1)(labels, logits)
    b = MaskedSparseCategoricalCrossentropy(from_logits=False, pad_value=-1)(labels, probs)
    np.testing.assert_allclose(float(a), float(b), rtol=1e-5)
    weights = np.array([1.0, 0.0, 0.0])
    c = MaskedSparseCategoricalCrossentropy(pad_value=-1)(labels, logits, sample_weight=weights)
    first = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels[0], logits[0])
    # Frames of the zero-weighted examples still count in the denominator (Keras's convention).
    np.testing.assert_allclose(float(c), float(first) * 6 / real.sum(), rtol=1e-5)


@pytest.mark.parametrize(
    "cls, reference",
    [
        (MaskedMeanSquaredError, keras.losses.MeanSquaredError()),
        (MaskedMeanAbsoluteError, keras.losses.MeanAbsoluteError()),
    ],
)
def test_regression_losses_with_pad_value(cls, reference):
    rng = np.random.default_rng(2)
    y_pred = rng.normal(size=(3, 6, 2)).astype("float32")
    y_true = rng.normal(size=(3, 6, 2)).astype("float32")
    real = np.arange(6)[None] < LENGTHS[:, None]
    y_true[~real] = -100.0
    per_example = np.array(
        [float(reference(y_true[i, :n], y_pred[i, :n])) for i, n in enumerate(LENGTHS)]
    )
    expected = (per_example * LENGTHS).sum() / LENGTHS.sum()
    np.testing.assert_allclose(float(cls(pad_value=-100.0)(y_true, y_pred)), expected, rtol=1e-5)


def test_keras_mask_in_fit_matches_unpadded_losses():
    logits, labels, real = batch(3, classes=4)
    x = np.where(real[..., None], logits, 0.0).astype("float32")
    inputs = keras.Input((6, 4))
    dense = keras.layers.Dense(4, kernel_initializer="identity", use_bias=False)
    model = keras.Model(inputs, dense(keras.layers.Masking()(inputs)))
    # No pad_value: only the Keras mask says which frames are real.
    model.compile(optimizer="sgd", loss=kzoo.losses.get("masked_nll"))
    y = np.where(real, labels, 0)
    reference = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    per_example = unpadded_means(reference, logits, y)
    got = model.evaluate(x, y, batch_size=3, verbose=0)
    np.testing.assert_allclose(got, (per_example * LENGTHS).sum() / LENGTHS.sum(), rtol=1e-5)
    history = model.fit(x, y, batch_size=3, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_unmasked_equals_keras():
    logits, labels, _ = batch(4)
    labels = np.abs(labels)
    ours = MaskedSparseCategoricalCrossentropy()(labels, logits)
    theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-5)


@pytest.mark.parametrize(
    "name, cls",
    [
        ("masked_nll", MaskedSparseCategoricalCrossentropy),
        ("masked_mse", MaskedMeanSquaredError),
        ("masked_l1", MaskedMeanAbsoluteError),
    ],
)
def test_config_round_trip(name, cls):
    loss = kzoo.losses.get({"name": name, "pad_value": -1})
    assert isinstance(loss, cls)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(again) is cls and again.get_config() == loss.get_config()


def test_bad_inputs():
    logits, labels, _ = batch()
    with pytest.raises(ValueError, match="label_smoothing"):
        MaskedSparseCategoricalCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="y_true"):
        MaskedSparseCategoricalCrossentropy()(labels[:, :, None], logits)
    with pytest.raises(ValueError, match="disagree"):
        MaskedSparseCategoricalCrossentropy()(labels[:, :4], logits)
    with pytest.raises(ValueError, match="y_true"):
        MaskedMeanSquaredError()(logits[..., 0], logits)
