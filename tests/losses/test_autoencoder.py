import keras
import numpy as np
import pytest
from keras import ops

import kzoo
from kzoo.losses.autoencoder import SparsityRegularizer, VariationalSampling, kl_divergence
from kzoo.testing import run_layer_test


def test_kl_divergence_formula():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    var = np.exp(log_var)
    # KL(N(m, v) || N(0, 1)) per dimension = 0.5 (v + m^2 - 1 - log v)
    expected = 0.5 * (var + mean**2 - 1 - log_var).sum(1)
    np.testing.assert_allclose(
        ops.convert_to_numpy(kl_divergence(mean, log_var)), expected, rtol=1e-6
    )


def test_variational_sampling_layer_checks():
    run_layer_test(
        VariationalSampling,
        {"beta": 0.5, "seed": 1},
        input_shape=(2, 6),
        expected_output_shape=(2, 3),
        run_mixed_precision=False,
    )


def test_sampling_statistics_and_added_loss():
    layer = VariationalSampling(beta=2.0, seed=0)
    mean = np.full((4000, 2), 3.0, "float32")
    log_var = np.full((4000, 2), np.log(4.0), "float32")
    z = ops.convert_to_numpy(layer([mean, log_var], training=True))
    assert abs(z.mean() - 3.0) < 0.1 and abs(z.std() - 2.0) < 0.1
    kl = ops.convert_to_numpy(kl_divergence(mean[:1], log_var[:1]))[0]
    np.testing.assert_allclose(float(layer.losses[-1]), 2.0 * kl, rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(layer([mean, log_var])), mean)


def test_vae_trains_with_plain_fit():
    x = np.random.default_rng(1).normal(size=(16, 5)).astype("float32")
    inputs = keras.Input((5,))
    stats = keras.layers.Dense(4)(inputs)
    z = kzoo.losses.VariationalSampling(seed=0)(stats)
    model = keras.Model(inputs, keras.layers.Dense(5)(z))
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, x, batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    # evaluate reports reconstruction + KL (the layer returns the mean outside training).
    s = keras.Model(inputs, stats).predict(x, verbose=0)
    kl = ops.convert_to_numpy(kl_divergence(s[:, :2], s[:, 2:])).mean()
    recon = ((model.predict(x, verbose=0) - x) ** 2).mean()
    total = model.evaluate(x, x, batch_size=16, verbose=0)
    np.testing.assert_allclose(total, recon + kl, rtol=1e-4)


def test_sparsity_regularizer():
    rng = np.random.default_rng(2)
    a = rng.uniform(0.01, 0.99, size=(8, 3)).astype("float32")
    rho_hat = a.mean(0)
    rho = 0.1
    kl = (rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))).sum()
    np.testing.assert_allclose(float(SparsityRegularizer("kl", rho, 0.5)(a)), 0.5 * kl, rtol=1e-5)
    np.testing.assert_allclose(
        float(SparsityRegularizer("l1", weight=2.0)(a)), 2 * np.abs(a).sum(1).mean(), rtol=1e-5
    )
    layer = keras.layers.Dense(3, activation="sigmoid", activity_regularizer=SparsityRegularizer())
    model = keras.Sequential([keras.Input((4,)), layer])
    again = keras.Sequential.from_config(model.get_config())
    assert again.layers[0].activity_regularizer.get_config() == SparsityRegularizer().get_config()


def test_bad_inputs():
    with pytest.raises(ValueError, match="beta"):
        VariationalSampling(beta=-1.0)
    with pytest.raises(ValueError, match="even"):
        VariationalSampling()(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="rho"):
        SparsityRegularizer(rho=1.5)
    with pytest.raises(ValueError, match="kind"):
        SparsityRegularizer(kind="l2")
    with pytest.raises(ValueError, match="weight"):
        SparsityRegularizer(weight=-1.0)
