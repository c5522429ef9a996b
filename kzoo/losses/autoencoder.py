"""Autoencoder losses: the VAE's KL term (with its sampling layer) and sparsity penalties."""

import keras
from keras import ops

from kzoo.errors import check_choice


def kl_divergence(mean, log_var):
    """Per-example `KL(N(mean, exp(log_var)) || N(0, I))`.

    `-0.5 * sum_j (1 + log_var_j - mean_j^2 - exp(log_var_j))` (Kingma and
    Welling, 2014, appendix B).

    Reference:
        Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014.

    Example:

    >>> import numpy as np
    >>> float(kl_divergence(np.array([[1.0, 0.0]]), np.zeros((1, 2)))[0])
    0.5
    """
    mean = ops.convert_to_tensor(mean)
    log_var = ops.convert_to_tensor(log_var)
    terms = 1.0 + log_var - ops.square(mean) - ops.exp(log_var)
    return -0.5 * ops.sum(ops.reshape(terms, (ops.shape(terms)[0], -1)), axis=1)


@keras.saving.register_keras_serializable(package="kzoo")
class VariationalSampling(keras.layers.Layer):
    """VAE reparameterisation `z = mean + exp(log_var / 2) * eps` that adds its KL loss.

    In training the layer samples `eps ~ N(0, I)` and calls
    `add_loss(beta * mean_batch KL(q(z|x) || N(0, I)))`, so a VAE trains with a
    plain `fit` and only its reconstruction loss in `compile`. Outside training it
    returns `mean` (deterministic encodings); the KL term is added in both cases so
    `evaluate` reports the full objective. `beta > 1` is the beta-VAE.

    Reference:
        Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
        Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a
        Constrained Variational Framework", ICLR 2017.

    Args:
        beta: float >= 0, weight of the KL term (default 1.0).
        seed: int or None, seed of the noise.

    Call arguments:
        inputs: `[mean, log_var]`, two tensors `(batch, latent)`, or one tensor
            `(batch, 2 * latent)` holding them concatenated on the last axis.
        training: bool, sample (True) or return the mean.

    Output shape:
        `(batch, latent)`.

    Example:

    >>> import numpy as np
    >>> layer = VariationalSampling(beta=1.0, seed=0)
    >>> tuple(layer([np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")]).shape)
    (2, 3)
    """

    def __init__(self, beta=1.0, seed=None, **kwargs):
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta < 0:
            raise ValueError(f"Argument `beta` must be a number >= 0. Received: beta={beta!r}.")
        super().__init__(**kwargs)
        self.beta = beta
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _split(self, inputs):
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 2:
                raise ValueError(
                    f"VariationalSampling takes [mean, log_var]. Received {len(inputs)} tensors."
                )
            return inputs[0], inputs[1]
        width = inputs.shape[-1]
        if width is None or width % 2:
            raise ValueError(
                "VariationalSampling on one tensor needs an even last axis: mean and log_var "
                f"concatenated. Received: shape={tuple(inputs.shape)}."
            )
        return inputs[..., : width // 2], inputs[..., width // 2 :]

    def call(self, inputs, training=False):
        mean, log_var = self._split(inputs)
        kl = kl_divergence(ops.cast(mean, "float32"), ops.cast(log_var, "float32"))
        self.add_loss(self.beta * ops.mean(kl))
        if not training:
            return mean
        eps = keras.random.normal(ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple)):
            return tuple(input_shape[0])
        return (*input_shape[:-1], input_shape[-1] // 2)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "seed": self.seed}


@keras.saving.register_keras_serializable(package="kzoo")
class SparsityRegularizer(keras.regularizers.Regularizer):
    """Sparse-autoencoder activity penalty: KL to a target mean activation, or L1.

    `kind="kl"`: `weight * sum_j KL(rho || rho_hat_j)` with `rho_hat_j` the mean
    activation of unit `j` over the batch (activations in (0, 1), e.g. sigmoid),
    `KL = rho log(rho / rho_hat) + (1 - rho) log((1 - rho) / (1 - rho_hat))`
    (Ng, 2011). `kind="l1"`: `weight * mean_batch sum_j |a_j|`. Use it as a layer's
    `activity_regularizer`.

    Reference:
        Ng, "Sparse autoencoder", CS294A lecture notes, Stanford, 2011.

    Args:
        kind: `"kl"` (default) or `"l1"`.
        rho: float in (0, 1), the target mean activation for `"kl"` (default 0.05).
        weight: float >= 0 (default 1e-3).

    Example:

    >>> import numpy as np
    >>> reg = SparsityRegularizer(kind="l1", weight=0.5)
    >>> float(reg(np.array([[1.0, -2.0], [0.0, 1.0]], "float32")))
    1.0
    """

    def __init__(self, kind="kl", rho=0.05, weight=1e-3):
        check_choice("kind", kind, ["kl", "l1"])
        if not 0.0 < float(rho) < 1.0:
            raise ValueError(f"Argument `rho` must be in (0, 1). Received: rho={rho}. Try 0.05.")
        if float(weight) < 0:
            raise ValueError(f"Argument `weight` must be >= 0. Received: weight={weight}.")
        self.kind = kind
        self.rho = rho
        self.weight = weight

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        x = ops.reshape(x, (-1, ops.shape(x)[-1]))
        if self.kind == "l1":
            return self.weight * ops.mean(ops.sum(ops.abs(x), axis=1))
        eps = 1e-7
        rho_hat = ops.clip(ops.mean(x, axis=0), eps, 1.0 - eps)
        rho = self.rho
        kl = rho * ops.log(rho / rho_hat) + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - rho_hat))
        return self.weight * ops.sum(kl)

    def get_config(self):
        return {"kind": self.kind, "rho": self.rho, "weight": self.weight}
