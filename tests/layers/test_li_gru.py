"""Tests of kzoo.layers.LiGRU and SLiGRU: SpeechBrain parity, Keras recurrent contract, errors."""

import os

import keras
import numpy as np
import pytest

from kzoo.layers import LiGRU, SLiGRU
from kzoo.testing import random_inputs, run_layer_test

# Keras's TF backend calls np.array(variable) when saving a .keras file, which numpy 2
# reports as a DeprecationWarning; not ours to fix (belongs in pyproject's filterwarnings).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

GOLDEN = np.load(os.path.join(os.path.dirname(__file__), "golden", "li_gru.npz"))

# case name -> (class, kzoo keyword arguments, number of stacked layers)
PARITY_CASES = {
    "ligru_batch_relu": (LiGRU, dict(normalization="batch", activation="relu"), 1),
    "ligru_layer_leaky_relu": (LiGRU, dict(normalization="layer", activation="leaky_relu"), 1),
    "ligru_batch_tanh_bidirectional": (
        LiGRU,
        dict(normalization="batch", activation="tanh", bidirectional=True),
        1,
    ),
    "ligru_batch_sin_stacked_bidirectional": (
        LiGRU,
        dict(normalization="batch", activation="sin", bidirectional=True),
        2,
    ),
    "sligru_batch_relu": (SLiGRU, dict(normalization="batch", activation="relu"), 1),
    "sligru_layer_tanh_affine": (
        SLiGRU,
        dict(normalization="layer", activation="tanh", recurrent_elementwise_affine=True),
        1,
    ),
}


def port_speechbrain_weights(layer, case, index):
    """Copies SpeechBrain's LiGRU_Layer / SLiGRU_Layer parameters into a built kzoo layer."""

    def get(name):
        return GOLDEN[f"{case}/{index}.{name}"]

    layer.kernel.assign(get("w.weight").T)
    layer.recurrent_kernel.assign(get("u.weight").T)
    layer.norm.gamma.assign(get("norm.weight"))
    layer.norm.beta.assign(get("norm.bias"))
    if layer.normalization == "batch":
        layer.norm.moving_mean.assign(get("norm.running_mean"))
        layer.norm.moving_variance.assign(get("norm.running_var"))
    if getattr(layer, "recurrent_elementwise_affine", False):
        layer.recurrent_gamma.assign(get("layer_norm.weight"))
        layer.recurrent_beta.assign(get("layer_norm.bias"))


@pytest.mark.parametrize("case", sorted(PARITY_CASES))
def test_matches_speechbrain_in_inference_mode(case):
    cls, kwargs, num_layers = PARITY_CASES[case]
    x = GOLDEN[f"{case}/x"]
    layers = [cls(6, return_sequences=True, **kwargs) for _ in range(num_layers)]
    y = x
    for index, layer in enumerate(layers):
        layer.build(y.shape)
        port_speechbrain_weights(layer, case, index)
        y = layer(y, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(y), GOLDEN[f"{case}/y"], atol=1e-4)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(units=4),
        dict(units=4, return_sequences=True, normalization="layer", activation="leaky_relu"),
        dict(units=3, return_sequences=True, bidirectional=True, normalization=None),
        dict(units=4, return_state=True, dropout=0.2, recurrent_dropout=0.3, seed=1),
        dict(units=4, return_sequences=True, go_backwards=True, activation="tanh"),
    ],
)
def test_layer_contract(kwargs):
    run_layer_test(LiGRU, kwargs, input_shape=(2, 5, 3), supports_masking=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(units=4, return_sequences=True, recurrent_elementwise_affine=True),
        dict(units=3, bidirectional=True, return_state=True, recurrent_dropout=0.3, seed=1),
    ],
)
def test_sligru_layer_contract(kwargs):
    run_layer_test(SLiGRU, kwargs, input_shape=(2, 5, 3), supports_masking=True)


@pytest.mark.skipif(keras.backend.backend() == "torch", reason="XLA is a TensorFlow/JAX compiler")
def test_trains_under_xla():
    inputs = keras.Input((5, 3))
    outputs = LiGRU(4, recurrent_dropout=0.2, seed=0)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    history = model.fit(random_inputs((2, 5, 3)), np.ones((2, 4)), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("cls", [LiGRU, SLiGRU])
def test_inside_keras_bidirectional_and_stacked(cls):
    inputs = keras.Input((None, 3))
    x = keras.layers.Bidirectional(cls(4, return_sequences=True))(inputs)
    x = keras.layers.Bidirectional(cls(5, return_state=True), merge_mode="sum")(x)
    model = keras.Model(inputs, x)
    outputs = model(random_inputs((2, 6, 3)))
    assert [tuple(o.shape) for o in outputs] == [(2, 5), (2, 5), (2, 5)]


def test_keras_bidirectional_contract():
    run_layer_test(
        keras.layers.Bidirectional,
        dict(layer=LiGRU(4, return_sequences=True)),
        input_shape=(2, 5, 3),
        expected_output_shape=(2, 5, 8),
        supports_masking=True,
        run_mixed_precision=False,
    )


def test_bidirectional_wrapper_backward_direction_reads_reversed_input():
    x = random_inputs((2, 6, 3))
    wrapper = keras.layers.Bidirectional(LiGRU(4, return_sequences=True, normalization="layer"))
    y = keras.ops.convert_to_numpy(wrapper(x))
    backward = keras.ops.convert_to_numpy(wrapper.backward_layer(x))
    np.testing.assert_allclose(y[:, :, 4:], backward[:, ::-1], atol=1e-6)


def test_tied_bidirectional_is_forward_and_reversed_pass_of_one_layer():
    x = random_inputs((2, 6, 3))
    layer = LiGRU(4, return_sequences=True, bidirectional=True, normalization="layer")
    y = keras.ops.convert_to_numpy(layer(x))
    forward = LiGRU(4, return_sequences=True, normalization="layer")
    forward.build(x.shape)
    forward.set_weights(layer.get_weights())
    np.testing.assert_allclose(y[..., :4], keras.ops.convert_to_numpy(forward(x)), atol=1e-6)
    reversed_run = keras.ops.convert_to_numpy(forward(x[:, ::-1]))
    np.testing.assert_allclose(y[..., 4:], reversed_run[:, ::-1], atol=1e-6)


def test_go_backwards_equals_reversed_input():
    x = random_inputs((2, 6, 3))
    layer = LiGRU(4, return_sequences=True, go_backwards=True, normalization="layer")
    y = keras.ops.convert_to_numpy(layer(x))
    forward = LiGRU(4, return_sequences=True, normalization="layer")
    forward.build(x.shape)
    forward.set_weights(layer.get_weights())
    np.testing.assert_allclose(y, keras.ops.convert_to_numpy(forward(x[:, ::-1])), atol=1e-6)


@pytest.mark.parametrize("cls", [LiGRU, SLiGRU])
def test_masked_steps_carry_the_state(cls):
    x = random_inputs((2, 6, 3))
    mask = np.ones((2, 6), bool)
    mask[0, 4:] = False
    layer = cls(4, return_sequences=True, return_state=True, normalization="layer")
    seq, last = (keras.ops.convert_to_numpy(t) for t in layer(x, mask=mask))
    short_seq, short_last = (keras.ops.convert_to_numpy(t) for t in layer(x[:1, :4]))
    np.testing.assert_allclose(seq[0, :4], short_seq[0], atol=1e-6)
    np.testing.assert_allclose(seq[0, 4], short_seq[0, 3], atol=1e-6)  # carried
    np.testing.assert_allclose(last[0], short_last[0], atol=1e-6)
    zeros = cls.from_config({**layer.get_config(), "zero_output_for_mask": True})
    zeros.build(x.shape)
    zeros.set_weights(layer.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(zeros(x, mask=mask)[0])[0, 4:], 0.0)


@pytest.mark.parametrize("cls", [LiGRU, SLiGRU])
def test_every_length_gives_the_states_of_its_prefixes(cls):
    # The loop runs several steps per iteration and pads the sequence to a multiple of
    # them; no length may see the padding.
    x = random_inputs((2, 9, 3))
    layer = cls(4, return_sequences=True, return_state=True, normalization="layer")
    full = keras.ops.convert_to_numpy(layer(x)[0])
    for length in range(1, 10):
        prefix, last = (keras.ops.convert_to_numpy(t) for t in layer(x[:, :length]))
        np.testing.assert_allclose(prefix, full[:, :length], atol=1e-6, err_msg=f"{length=}")
        np.testing.assert_allclose(last, full[:, length - 1], atol=1e-6, err_msg=f"{length=}")


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow graphs only")
def test_unknown_length_in_a_graph():
    import tensorflow as tf

    x = random_inputs((2, 7, 3))
    mask = np.arange(7)[None] < np.array([[7], [3]])
    layer = LiGRU(4, return_sequences=True, normalization="layer", zero_output_for_mask=True)
    eager = keras.ops.convert_to_numpy(layer(x, mask=mask))
    graph = tf.function(
        lambda x, mask: layer(x, mask=mask),
        input_signature=[tf.TensorSpec((None, None, 3)), tf.TensorSpec((None, None), tf.bool)],
    )
    np.testing.assert_allclose(graph(x, mask).numpy(), eager, atol=1e-6)
    np.testing.assert_allclose(eager[1, 3:], 0.0)
    unmasked = tf.function(layer, input_signature=[tf.TensorSpec((None, None, 3))])
    np.testing.assert_allclose(unmasked(x).numpy(), keras.ops.convert_to_numpy(layer(x)), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs", [dict(bidirectional=True), dict(go_backwards=True)], ids=["tied", "backwards"]
)
def test_masked_padding_matches_the_trimmed_sequence(kwargs):
    x = random_inputs((2, 7, 3))
    mask = np.arange(7)[None] < np.array([[7], [3]])
    layer = LiGRU(4, return_sequences=True, return_state=True, normalization="layer", **kwargs)
    padded = [keras.ops.convert_to_numpy(t) for t in layer(x, mask=mask)]
    trimmed = [keras.ops.convert_to_numpy(t) for t in layer(x[1:, :3])]
    for state, alone in zip(padded[1:], trimmed[1:]):
        np.testing.assert_allclose(state[1], alone[0], atol=1e-6)
    if kwargs.get("bidirectional"):
        np.testing.assert_allclose(padded[0][1, :3], trimmed[0][0], atol=1e-6)


def test_empty_batch():
    for length in (6, 8):
        layer = LiGRU(4, return_sequences=True)
        assert tuple(layer(np.zeros((0, length, 3), "float32")).shape) == (0, length, 4)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="jax.export")
def test_jax_export_with_a_symbolic_length():
    import jax

    layer = LiGRU(4, return_sequences=True, normalization="layer")
    x = random_inputs((2, 7, 3))
    expected = keras.ops.convert_to_numpy(layer(x))
    trainable = [v.value for v in layer.trainable_variables]
    fixed = [v.value for v in layer.non_trainable_variables]

    def forward(trainable, x):
        return layer.stateless_call(trainable, fixed, x)[0]

    batch, time = jax.export.symbolic_shape("b, t")
    exported = jax.export.export(jax.jit(forward))(
        trainable, jax.ShapeDtypeStruct((batch, time, 3), np.float32)
    )
    np.testing.assert_allclose(np.asarray(exported.call(trainable, x)), expected, atol=1e-6)


def test_mask_propagates_through_stacked_layers():
    inputs = keras.Input((None, 3))
    x = keras.layers.Masking(0.0)(inputs)
    x = LiGRU(4, return_sequences=True)(x)
    x = LiGRU(4)(x)
    model = keras.Model(inputs, x)
    data = random_inputs((2, 6, 3))
    padded = data.copy()
    padded[0, 4:] = 0.0
    out = keras.ops.convert_to_numpy(model(padded))
    short = keras.ops.convert_to_numpy(model(padded[:1, :4]))
    np.testing.assert_allclose(out[0], short[0], atol=1e-5)


def test_stateful_keeps_and_resets_state():
    x = random_inputs((2, 4, 3))
    layer = LiGRU(4, stateful=True, return_sequences=True, normalization="layer")
    full = LiGRU(4, return_sequences=True, normalization="layer")
    layer.build(x.shape)
    full.build((2, 8, 3))
    full.set_weights([keras.ops.convert_to_numpy(w) for w in layer.trainable_weights])
    both = np.concatenate([x, x[:, ::-1]], axis=1)
    first = keras.ops.convert_to_numpy(layer(x))
    second = keras.ops.convert_to_numpy(layer(x[:, ::-1]))
    expected = keras.ops.convert_to_numpy(full(both))
    np.testing.assert_allclose(np.concatenate([first, second], 1), expected, atol=1e-5)
    layer.reset_state()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), first, atol=1e-6)


def test_initial_state_and_return_state():
    x = random_inputs((2, 5, 3))
    h0 = random_inputs((2, 4), seed=1)
    layer = LiGRU(4, return_state=True, normalization="layer")
    out, state = layer(x, initial_state=h0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(state))
    zero_out, _ = layer(x)
    assert not np.allclose(keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(zero_out))


def test_recurrent_dropout_only_in_training():
    x = random_inputs((2, 5, 3))
    layer = LiGRU(4, return_sequences=True, recurrent_dropout=0.5, dropout=0.5, seed=3)
    inference = keras.ops.convert_to_numpy(layer(x, training=False))
    again = keras.ops.convert_to_numpy(layer(x, training=False))
    training = keras.ops.convert_to_numpy(layer(x, training=True))
    np.testing.assert_allclose(inference, again)
    assert not np.allclose(inference, training)
    assert np.isfinite(training).all()


def test_batch_norm_uses_speechbrain_defaults():
    layer = LiGRU(4)
    assert layer.norm.momentum == pytest.approx(0.95)
    assert layer.norm.epsilon == pytest.approx(1e-5)
    layer.build((None, None, 3))
    assert tuple(layer.kernel.shape) == (3, 8)
    assert tuple(layer.recurrent_kernel.shape) == (4, 8)
    assert tuple(layer.norm.gamma.shape) == (8,)
    u = keras.ops.convert_to_numpy(layer.recurrent_kernel)
    np.testing.assert_allclose(u @ u.T, np.eye(4), atol=1e-5)  # orthogonal rows


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units=2.5), "units"),
        (dict(units=4, activation="rellu"), "Did you mean 'relu'"),
        (dict(units=4, normalization="batchnorm"), "Did you mean 'batch'"),
        (dict(units=4, dropout=1.0), "dropout"),
        (dict(units=4, recurrent_dropout=-0.1), "recurrent_dropout"),
        (dict(units=4, bidirectional=True, go_backwards=True), "exclude each other"),
    ],
)
@pytest.mark.parametrize("cls", [LiGRU, SLiGRU])
def test_bad_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("cls", [LiGRU, SLiGRU])
def test_bad_input_rank(cls):
    with pytest.raises(ValueError, match="rank 3"):
        cls(4)(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="rank 3"):
        cls(4).build((2, 3, 4, 5))


def test_stateful_needs_fixed_batch():
    with pytest.raises(ValueError, match="fixed batch size"):
        LiGRU(4, stateful=True).build((None, 5, 3))


def test_wrong_number_of_initial_states():
    x = random_inputs((2, 5, 3))
    with pytest.raises(ValueError, match="initial state"):
        LiGRU(4, bidirectional=True)(x, initial_state=[np.zeros((2, 4), "float32")])
