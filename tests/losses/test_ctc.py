from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

import kzoo
from kzoo.losses.ctc import (
    CTCLoss,
    ctc_beam_search_decode,
    ctc_decode,
    ctc_greedy_decode,
    ctc_loss,
)
from tests.losses._grad import value_and_grad

GOLDEN = np.load(Path(__file__).parent / "golden" / "ctc.npz")
CASES = sorted({k.split("_")[0] for k in GOLDEN.files})


def golden(i):
    return {k.split("_", 1)[1]: GOLDEN[k] for k in GOLDEN.files if k.startswith(f"{i}_")}


def rel_diff(a, b):
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    finite = np.isfinite(b)
    np.testing.assert_array_equal(np.isfinite(a), finite)
    return float(np.max(np.abs(a[finite] - b[finite]) / np.maximum(np.abs(b[finite]), 1e-6)))


@pytest.mark.parametrize("i", CASES)
def test_parity_with_torch(i):
    g = golden(i)
    kwargs = dict(input_lengths=g["input_lengths"], blank_index=int(g["blank"]), pad_value=-1)
    ours = ops.convert_to_numpy(ctc_loss(g["labels"], g["logits"], **kwargs))
    assert rel_diff(ours, g["losses"]) <= 1e-4
    ours = ops.convert_to_numpy(ctc_loss(g["labels"], g["logits"], zero_infinity=True, **kwargs))
    assert rel_diff(ours, g["losses_zero_infinity"]) <= 1e-4


@pytest.mark.parametrize("i", CASES)
def test_gradient_parity_with_torch(i):
    g = golden(i)

    def total(logits):
        return ops.sum(
            ctc_loss(
                g["labels"],
                logits,
                input_lengths=g["input_lengths"],
                blank_index=int(g["blank"]),
                zero_infinity=True,
            )
        )

    _, grad = value_and_grad(total, g["logits"])
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, g["grad_zero_infinity"], atol=1e-4, rtol=1e-4)


def test_explicit_label_lengths_match_pad_value():
    g = golden(0)
    a = ctc_loss(g["labels"], g["logits"], g["input_lengths"], blank_index=3)
    b = ctc_loss(
        np.where(g["labels"] < 0, 99, g["labels"]),
        g["logits"],
        g["input_lengths"],
        label_lengths=g["label_lengths"],
        blank_index=3,
        pad_value=99,
    )
    np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), rtol=1e-6)


def test_empty_label_is_all_blank():
    logits = np.random.default_rng(0).normal(size=(1, 4, 3)).astype("float32")
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ours = ops.convert_to_numpy(ctc_loss(np.full((1, 2), -1), logits, blank_index=2))
    np.testing.assert_allclose(ours, [-log_p[0, :, 2].sum()], rtol=1e-5)


def test_impossible_alignment_inf_or_zero_and_never_nan_gradient():
    labels = np.array([[1, 1, 1], [1, 2, -1]])
    logits = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    losses = ops.convert_to_numpy(ctc_loss(labels, logits))
    assert np.isinf(losses[0]) and np.isfinite(losses[1])
    for zero_infinity in (False, True):
        loss = CTCLoss(zero_infinity=zero_infinity)
        value, grad = value_and_grad(lambda x, loss=loss: loss(labels, x), logits)
        assert np.isinf(value) != zero_infinity
        assert np.all(np.isfinite(grad))
        assert np.all(grad[0] == 0.0)  # the impossible example contributes nothing
        assert np.any(grad[1] != 0.0)


def test_zero_length_input():
    logits = np.zeros((2, 3, 3), "float32")
    labels = np.array([[-1, -1], [1, -1]])
    out = ops.convert_to_numpy(ctc_loss(labels, logits, input_lengths=[0, 0]))
    assert out[0] == 0.0 and np.isinf(out[1])


def test_lengths_from_keras_mask_in_fit_and_evaluate():
    g = golden(1)
    logits, lengths = g["logits"], g["input_lengths"]
    frames = logits.shape[1]
    mask = np.arange(frames)[None] < lengths[:, None]
    inputs = keras.Input((frames, logits.shape[2]))
    # Masking marks the padded frames; the identity Dense keeps the logits and the mask.
    masked = keras.layers.Masking(mask_value=0.0)(inputs)
    dense = keras.layers.Dense(logits.shape[2], kernel_initializer="identity", use_bias=False)
    model = keras.Model(inputs, dense(masked))
    model.compile(optimizer="sgd", loss=CTCLoss(blank_index=4, zero_infinity=True))
    x = np.where(mask[..., None], logits, 0.0).astype("float32")
    expected = ops.convert_to_numpy(
        ctc_loss(g["labels"], logits, lengths, blank_index=4, zero_infinity=True)
    ).mean()
    got = model.evaluate(x, g["labels"], batch_size=len(x), verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    history = model.fit(x, g["labels"], batch_size=len(x), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def _ctc_model(logits_shape, jit_compile, blank_index):
    """Masking + Dense on logits-shaped inputs: padded frames (all zero) are masked."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input(logits_shape[1:])
    masked = keras.layers.Masking(mask_value=0.0)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(logits_shape[2])(masked))
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss=CTCLoss(blank_index=blank_index, zero_infinity=True),
        jit_compile=jit_compile,
    )
    return model


@pytest.mark.skipif(keras.backend.backend() == "torch", reason="XLA is a TensorFlow/JAX compiler")
def test_fit_with_jit_compile_matches_without():
    # Issue #4: under XLA the forward recursion and its gradient must compile (a bounded
    # loop), with the same losses as without XLA, variable lengths from the Keras mask.
    g = golden(1)
    logits, lengths = g["logits"][:3], g["input_lengths"][:3]
    mask = np.arange(logits.shape[1])[None] < lengths[:, None]
    x = np.where(mask[..., None], logits, 0.0).astype("float32")
    histories = []
    for jit_compile in (False, True):
        model = _ctc_model(x.shape, jit_compile, blank_index=4)
        history = model.fit(x, g["labels"][:3], batch_size=len(x), epochs=2, verbose=0)
        histories.append(history.history["loss"])
    assert np.all(np.isfinite(histories[1]))
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="unknown dimensions exist in TF graphs only"
)
@pytest.mark.parametrize("jit_compile", [False, True])
def test_unknown_time_and_label_dimensions_in_tf_graph(jit_compile):
    import tensorflow as tf

    g = golden(1)
    blank = int(g["blank"])
    spec = [
        tf.TensorSpec([None, None], tf.int32),
        tf.TensorSpec([None, None, g["logits"].shape[2]], tf.float32),
        tf.TensorSpec([None], tf.int32),
    ]

    @tf.function(input_signature=spec, jit_compile=jit_compile)
    def losses_and_grad(labels, logits, lengths):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            losses = ctc_loss(labels, logits, lengths, blank_index=blank, zero_infinity=True)
            total = tf.reduce_sum(losses)
        return losses, tape.gradient(total, logits)

    losses, grad = losses_and_grad(g["labels"].astype("int32"), g["logits"], g["input_lengths"])
    assert rel_diff(losses.numpy(), g["losses_zero_infinity"]) <= 1e-4
    np.testing.assert_allclose(grad.numpy(), g["grad_zero_infinity"], atol=1e-4, rtol=1e-4)


def test_reductions_and_sample_weight():
    g = golden(2)
    per = ops.convert_to_numpy(ctc_loss(g["labels"], g["logits"], blank_index=0))[:2]
    labels, logits = g["labels"][:2], g["logits"][:2]
    assert np.isclose(float(CTCLoss(reduction="sum")(labels, logits)), per.sum(), rtol=1e-5)
    weighted = CTCLoss()(labels, logits, sample_weight=np.array([1.0, 0.0]))
    assert np.isclose(float(weighted), per[0] / 2, rtol=1e-5)


def test_config_round_trip_and_by_name():
    loss = kzoo.losses.get({"name": "ctc", "blank_index": 5, "zero_infinity": True})
    assert isinstance(loss, CTCLoss)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert again.get_config() == loss.get_config()
    assert again.blank_index == 5 and again.zero_infinity


def test_bad_inputs():
    logits = np.zeros((1, 3, 4), "float32")
    with pytest.raises(ValueError, match="blank_index"):
        ctc_loss(np.array([[1]]), logits, blank_index=4)
    with pytest.raises(ValueError, match="blank_index"):
        CTCLoss(blank_index=-1)
    with pytest.raises(ValueError, match="blank_index"):
        CTCLoss(blank_index=1.5)
    with pytest.raises(ValueError, match="num_classes"):
        ctc_loss(np.array([[1]]), np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="max_label_length"):
        ctc_loss(np.array([1]), logits)
    with pytest.raises(ValueError, match="strategy"):
        ctc_decode(logits, strategy="beam")
    with pytest.raises(ValueError, match="top_paths"):
        ctc_decode(logits, strategy="beam_search", beam_width=2, top_paths=3)


def one_hot_logits(path, classes, scale=10.0):
    return (np.eye(classes, dtype="float32")[path] * scale)[None]


def test_greedy_decode_with_lengths_and_blank_index():
    logits = np.concatenate(
        [one_hot_logits([1, 1, 3, 1, 2, 2], 4), one_hot_logits([2, 3, 3, 0, 0, 1], 4)]
    )
    assert ctc_greedy_decode(logits, blank_index=3) == [[1, 1, 2], [2, 0, 1]]
    assert ctc_greedy_decode(logits, lengths=[4, 2], blank_index=3) == [[1, 1], [2]]


def test_beam_search_decode():
    logits = one_hot_logits([0, 1, 1, 3, 1, 2], 4, scale=5.0)
    top2 = ctc_beam_search_decode(logits, blank_index=3, beam_width=4, top_paths=2)
    assert len(top2) == 1 and len(top2[0]) == 2 and top2[0][0] == [0, 1, 1, 2]
    assert ctc_decode(logits, strategy="greedy", blank_index=3) == [[0, 1, 1, 2]]
