"""Autoencoders: reconstruction shapes, encoder/decoder sub-models, VAE sampling and KL."""

import keras
import numpy as np
import pytest

import kzoo
from kzoo.losses import VariationalSampling

NAMES = ["autoencoder", "denoising_autoencoder", "sparse_autoencoder", "vae"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("input_shape", [(7, 5), (5, 6, 2)])
def test_conv_variant_reconstructs_odd_sizes(name, input_shape):
    model = kzoo.models.get(
        name, input_shape=input_shape, architecture="conv", units=[4, 4], latent_dim=3,
        compile=False,
    )  # fmt: skip
    assert tuple(model.output.shape) == (None, *input_shape)
    codes = model.get_layer("decoder").inputs[0]
    assert tuple(codes.shape) == (None, 3)


def test_vae_adds_the_kl_term_in_training_only_and_decodes_prior_samples():
    model = kzoo.models.get("vae", input_shape=(6,), units=[8], latent_dim=2)
    x = np.random.default_rng(0).standard_normal((4, 6)).astype("float32")
    mean, log_var, z = model.get_layer("encoder")(x, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(z), keras.ops.convert_to_numpy(mean))
    samples = model.get_layer("decoder")(keras.random.normal((3, 2), seed=1))
    assert tuple(samples.shape) == (3, 6)
    # The KL term reaches the training loss: with means of 3, KL >= 2 * 4.5 per example.
    model = kzoo.models.get("vae", input_shape=(6,), units=[8], latent_dim=2, kl_weight=100.0)
    model.get_layer("encoder").get_layer("z_mean").bias.assign(np.full(2, 3.0, "float32"))
    logs = model.train_on_batch(x, x, return_dict=True)
    assert np.isfinite(logs["loss"]) and logs["loss"] > 100


def test_kl_of_the_standard_normal_is_zero_and_known_otherwise():
    layer = VariationalSampling(beta=1.0)
    zeros = np.zeros((2, 3), "float32")
    layer([zeros, zeros], training=True)
    assert abs(float(keras.ops.convert_to_numpy(layer.losses[0]))) < 1e-7
    layer = VariationalSampling(beta=0.5)
    layer([np.ones((2, 3), "float32"), zeros], training=True)
    # KL(N(1, 1) || N(0, 1)) = 1/2 per dimension, 3 dimensions, times kl_weight
    assert float(keras.ops.convert_to_numpy(layer.losses[0])) == pytest.approx(0.75)


def test_sparse_autoencoder_penalises_the_code():
    model = kzoo.models.get("sparse_autoencoder", input_shape=(6,), units=[8], latent_dim=4)
    model(np.ones((2, 6), "float32"), training=True)
    assert len(model.losses) == 1


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("autoencoder", {"architecture": "recurrent"}, "architecture"),
        ("autoencoder", {"architecture": "conv", "input_shape": (10,)}, "architecture='dense'"),
        ("vae", {"input_shape": (None, 40)}, "fixed-size"),
        ("denoising_autoencoder", {"noise_stddev": 0}, "noise_stddev"),
        ("sparse_autoencoder", {"sparsity": -1.0}, "sparsity"),
        ("vae", {"kl_weight": -1.0}, "kl_weight"),
        ("vae", {"latent_dim": 0}, "latent_dim"),
    ],
)
def test_bad_arguments(name, overrides, message):
    with pytest.raises(ValueError, match=message):
        kzoo.models.get(name, compile=False, **overrides)
