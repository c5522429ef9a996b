"""Autoencoders: plain, denoising, sparse and variational; dense or convolutional.

Every model maps its input to a reconstruction of the same shape and trains with
`mse` against the inputs themselves (`data.targets: inputs`). The model is
`decoder(encoder(x))` with the two halves as named sub-models, so
`model.get_layer("encoder")` embeds data and `model.get_layer("decoder")` decodes
codes (for the VAE: samples from the prior).
"""

from __future__ import annotations

import math

import keras

from kzoo.errors import check_choice
from kzoo.losses import VariationalSampling
from kzoo.models import heads, parts
from kzoo.registry import register

ARCHITECTURES = ("dense", "conv")


def _build(
    *,
    name: str,
    input_shape,
    architecture: str,
    units,
    latent_dim: int,
    kernel_size: int,
    activation: str,
    output_activation: str,
    noise_stddev: float = 0.0,
    sparsity: float = 0.0,
    variational: bool = False,
    kl_weight: float | None = None,
    seed: int | None = None,
) -> keras.Model:
    check_choice("architecture", architecture, ARCHITECTURES)
    parts.check_sizes(allow_empty=True, units=units, latent_dim=latent_dim, kernel_size=kernel_size)
    try:
        rank = len(input_shape)
    except TypeError:
        rank = None
    if architecture == "conv" and rank not in (2, 3):
        raise ValueError(
            f"Model {name!r} with architecture='conv' takes inputs of shape (time, features) "
            f"or (height, width, channels). Received: input_shape={input_shape!r}. Change "
            "`input_shape`, or use architecture='dense'."
        )
    shape = heads.check_input_shape(input_shape, rank, name, "of any rank")
    if any(d is None for d in shape):
        raise ValueError(
            f"Model {name!r} reconstructs fixed-size inputs. Received: input_shape={shape}. "
            "Set every axis (e.g. crop or pad the data with data.max_seconds)."
        )
    size = math.prod(shape)

    # Encoder: x -> code (VAE: -> [mean, log_var, z]).
    inputs = keras.Input(shape, name="inputs")
    x = inputs
    if noise_stddev:
        x = keras.layers.GaussianNoise(noise_stddev, seed=seed, name="corruption")(x)
    if architecture == "dense":
        x = keras.layers.Flatten(name="flatten")(x) if rank > 1 else x  # (batch, size)
        for i, width in enumerate(units):
            x = keras.layers.Dense(width, name=f"dense{i}")(x)
            x = parts.activation(activation, f"dense{i}_act")(x)
    else:
        spatial = rank - 1
        conv = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D}[spatial]
        factor = 2 ** len(units)
        # Pad every spatial axis to a multiple of 2 ** blocks so the decoder's strided
        # transposed convolutions return exactly the padded size, then crop.
        pads = [(-d) % factor for d in shape[:spatial]]
        padding = [(0, p) for p in pads]
        if any(pads):
            pad = {1: keras.layers.ZeroPadding1D, 2: keras.layers.ZeroPadding2D}[spatial]
            x = pad(padding[0] if spatial == 1 else padding, name="pad")(x)
        for i, filters in enumerate(units):
            x = conv(filters, kernel_size, strides=2, padding="same", name=f"conv{i}")(x)
            x = parts.activation(activation, f"conv{i}_act")(x)
        encoded_shape = tuple(x.shape[1:])  # (*spatial / 2 ** blocks, units[-1])
        x = keras.layers.Flatten(name="flatten")(x)
    if variational:
        mean = keras.layers.Dense(latent_dim, name="z_mean")(x)
        log_var = keras.layers.Dense(latent_dim, name="z_log_var")(x)
        if kl_weight is not None and (not isinstance(kl_weight, (int, float)) or kl_weight < 0):
            raise ValueError(
                f"Argument `kl_weight` must be a number >= 0, or None for 2 / input values. "
                f"Received: kl_weight={kl_weight!r}."
            )
        weight = 2.0 / size if kl_weight is None else kl_weight
        code = VariationalSampling(beta=weight, seed=seed, name="sampling")([mean, log_var])
        encoder = keras.Model(inputs, [mean, log_var, code], name="encoder")
    else:
        code = keras.layers.Dense(latent_dim, name="code")(x)  # (batch, latent_dim)
        if sparsity:
            code = keras.layers.ActivityRegularization(l1=sparsity, name="sparsity")(code)
        encoder = keras.Model(inputs, code, name="encoder")

    # Decoder: code -> reconstruction of `shape`.
    codes = keras.Input((latent_dim,), name="codes")
    y = codes
    if architecture == "dense":
        for i, width in enumerate(reversed(units)):
            y = keras.layers.Dense(width, name=f"dense{i}")(y)
            y = parts.activation(activation, f"dense{i}_act")(y)
        y = keras.layers.Dense(size, name="output")(y)
        y = keras.layers.Reshape(shape, name="reshape")(y)
    else:
        transpose = {1: keras.layers.Conv1DTranspose, 2: keras.layers.Conv2DTranspose}[spatial]
        y = keras.layers.Dense(math.prod(encoded_shape), name="expand")(y)
        y = parts.activation(activation, "expand_act")(y)
        y = keras.layers.Reshape(encoded_shape, name="reshape")(y)
        for i, filters in enumerate(reversed(units)):
            y = transpose(filters, kernel_size, strides=2, padding="same", name=f"deconv{i}")(y)
            y = parts.activation(activation, f"deconv{i}_act")(y)
        y = conv(shape[-1], kernel_size, padding="same", name="output")(y)
        if any(pads):
            crop = {1: keras.layers.Cropping1D, 2: keras.layers.Cropping2D}[spatial]
            y = crop(padding[0] if spatial == 1 else padding, name="crop")(y)
    y = keras.layers.Activation(output_activation, dtype="float32", name="output_act")(y)
    decoder = keras.Model(codes, y, name="decoder")

    code = encoder(inputs)
    outputs = decoder(code[2] if variational else code)
    return keras.Model(inputs, outputs, name=name)


@register("autoencoder")
def autoencoder(
    input_shape=(31, 40),
    num_classes: int = 1,
    architecture: str = "dense",
    units=(256, 64),
    latent_dim: int = 16,
    kernel_size: int = 3,
    activation: str = "relu",
    output_activation: str = "linear",
) -> keras.Model:
    """An autoencoder: encoder (x -> code) and decoder (code -> x) sub-models, trained to reconstruct x.

    Reference:
        G. E. Hinton and R. R. Salakhutdinov, "Reducing the Dimensionality of Data with
        Neural Networks", Science 313, 2006.

    Args:
        input_shape: shape of one example; every axis fixed.
        num_classes: unused by the reconstruction; kept so every zoo model takes it
            (must still be a positive integer).
        architecture: "dense" (flatten -> Dense layers) or "conv" (strided Conv1D over
            (time, features) or Conv2D over (height, width, channels), mirrored by
            transposed convolutions).
        units: widths of the encoder's Dense layers, or filters of its conv layers; the
            decoder mirrors them.
        latent_dim: size of the code.
        kernel_size: conv kernel size ("conv").
        activation: hidden activation by name.
        output_activation: activation of the reconstruction ("linear" for features,
            "sigmoid" for data in [0, 1]).
    """
    heads.check_num_classes(num_classes)
    return _build(
        name="autoencoder",
        input_shape=input_shape,
        architecture=architecture,
        units=units,
        latent_dim=latent_dim,
        kernel_size=kernel_size,
        activation=activation,
        output_activation=output_activation,
    )


@register("denoising_autoencoder")
def denoising_autoencoder(
    input_shape=(31, 40),
    num_classes: int = 1,
    architecture: str = "dense",
    units=(256, 64),
    latent_dim: int = 16,
    kernel_size: int = 3,
    activation: str = "relu",
    output_activation: str = "linear",
    noise_stddev: float = 0.3,
    seed: int | None = None,
) -> keras.Model:
    """A denoising autoencoder: Gaussian noise on the input in training, reconstruct the clean input.

    Reference:
        P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol, "Extracting and
        Composing Robust Features with Denoising Autoencoders", ICML 2008.

    Args:
        input_shape: shape of one example; every axis fixed.
        num_classes: unused by the reconstruction; kept so every zoo model takes it
            (must still be a positive integer).
        architecture: "dense" (flatten -> Dense layers) or "conv" (strided Conv1D over
            (time, features) or Conv2D over (height, width, channels), mirrored by
            transposed convolutions).
        units: widths of the encoder's Dense layers, or filters of its conv layers; the
            decoder mirrors them.
        latent_dim: size of the code.
        kernel_size: conv kernel size ("conv").
        activation: hidden activation by name.
        output_activation: activation of the reconstruction ("linear" for features,
            "sigmoid" for data in [0, 1]).
        noise_stddev: standard deviation of the Gaussian corruption (training only).
        seed: seed of the corruption noise.
    """
    heads.check_num_classes(num_classes)
    if not isinstance(noise_stddev, (int, float)) or noise_stddev <= 0:
        raise ValueError(
            "Argument `noise_stddev` must be a positive number (use `autoencoder` for no "
            f"corruption). Received: noise_stddev={noise_stddev!r}."
        )
    return _build(
        name="denoising_autoencoder",
        input_shape=input_shape,
        architecture=architecture,
        units=units,
        latent_dim=latent_dim,
        kernel_size=kernel_size,
        activation=activation,
        output_activation=output_activation,
        noise_stddev=noise_stddev,
        seed=seed,
    )


@register("sparse_autoencoder")
def sparse_autoencoder(
    input_shape=(31, 40),
    num_classes: int = 1,
    architecture: str = "dense",
    units=(256,),
    latent_dim: int = 128,
    kernel_size: int = 3,
    activation: str = "relu",
    output_activation: str = "linear",
    sparsity: float = 1e-4,
) -> keras.Model:
    """A sparse autoencoder: an L1 penalty on the code makes few code units active per input.

    The penalty `sparsity * sum(|code|)` is added to the loss in training, so the
    code can be wider than the input's intrinsic dimension (overcomplete) and still
    learn features.

    Reference:
        A. Ng, "Sparse autoencoder", CS294A lecture notes, Stanford, 2011; A. Makhzani
        and B. Frey, "k-Sparse Autoencoders", ICLR 2014 (the L1 variant as baseline).

    Args:
        input_shape: shape of one example; every axis fixed.
        num_classes: unused by the reconstruction; kept so every zoo model takes it
            (must still be a positive integer).
        architecture: "dense" (flatten -> Dense layers) or "conv" (strided Conv1D over
            (time, features) or Conv2D over (height, width, channels), mirrored by
            transposed convolutions).
        units: widths of the encoder's Dense layers, or filters of its conv layers; the
            decoder mirrors them.
        latent_dim: size of the code.
        kernel_size: conv kernel size ("conv").
        activation: hidden activation by name.
        output_activation: activation of the reconstruction ("linear" for features,
            "sigmoid" for data in [0, 1]).
        sparsity: weight of the L1 penalty on the code.
    """
    heads.check_num_classes(num_classes)
    if not isinstance(sparsity, (int, float)) or sparsity <= 0:
        raise ValueError(
            "Argument `sparsity` must be a positive number (use `autoencoder` for no "
            f"penalty). Received: sparsity={sparsity!r}."
        )
    return _build(
        name="sparse_autoencoder",
        input_shape=input_shape,
        architecture=architecture,
        units=units,
        latent_dim=latent_dim,
        kernel_size=kernel_size,
        activation=activation,
        output_activation=output_activation,
        sparsity=sparsity,
    )


@register("vae")
def vae(
    input_shape=(31, 40),
    num_classes: int = 1,
    architecture: str = "dense",
    units=(256, 64),
    latent_dim: int = 8,
    kernel_size: int = 3,
    activation: str = "relu",
    output_activation: str = "linear",
    kl_weight: float | None = None,
    seed: int | None = None,
) -> keras.Model:
    """A variational autoencoder: the encoder gives a Gaussian over codes, the decoder samples back.

    The encoder sub-model outputs `[z_mean, z_log_var, z]`; `VariationalSampling`
    draws z in training and adds `kl_weight * KL(q(z|x) || N(0, I))` to the loss (the
    recipe's `mse` is the reconstruction term). At inference z is the mean. New data:
    `model.get_layer("decoder")(keras.random.normal((n, latent_dim)))`.

    Reference:
        D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014,
        https://arxiv.org/abs/1312.6114.

    Args:
        input_shape: shape of one example; every axis fixed.
        num_classes: unused by the reconstruction; kept so every zoo model takes it
            (must still be a positive integer).
        architecture: "dense" (flatten -> Dense layers) or "conv" (strided Conv1D over
            (time, features) or Conv2D over (height, width, channels), mirrored by
            transposed convolutions).
        units: widths of the encoder's Dense layers, or filters of its conv layers; the
            decoder mirrors them.
        latent_dim: size of the code.
        kernel_size: conv kernel size ("conv").
        activation: hidden activation by name.
        output_activation: activation of the reconstruction ("linear" for features,
            "sigmoid" for data in [0, 1]).
        kl_weight: weight of the KL term; None uses 2 / (number of input values), which
            makes `mse + KL` the negative ELBO of a unit-variance Gaussian decoder divided
            by half the input size.
        seed: seed of the sampling noise.
    """
    heads.check_num_classes(num_classes)
    return _build(
        name="vae",
        input_shape=input_shape,
        architecture=architecture,
        units=units,
        latent_dim=latent_dim,
        kernel_size=kernel_size,
        activation=activation,
        output_activation=output_activation,
        variational=True,
        kl_weight=kl_weight,
        seed=seed,
    )
