"""GAN losses: least-squares GAN and CycleGAN's cycle consistency."""

import keras
from keras import ops


def _check_weight(argument, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(
            f"Argument `{argument}` must be a number >= 0. Received: {argument}={value!r}."
        )


def _per_example_mean(values):
    values = ops.convert_to_tensor(values)
    if len(values.shape) <= 1:
        return values
    return ops.mean(ops.reshape(values, (ops.shape(values)[0], -1)), axis=1)


def lsgan_discriminator_loss(real_scores, fake_scores):
    """Per-example least-squares discriminator loss `0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2`.

    Mao et al.'s (2017) choice `a = 0, b = c = 1`; scores of any shape
    `(batch, ...)` are averaged per example.

    Reference:
        Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017.

    Example:

    >>> import numpy as np
    >>> float(lsgan_discriminator_loss(np.array([1.0]), np.array([1.0]))[0])
    0.5
    """
    real = _per_example_mean(ops.square(ops.convert_to_tensor(real_scores) - 1.0))
    fake = _per_example_mean(ops.square(ops.convert_to_tensor(fake_scores)))
    return 0.5 * (real + fake)


def lsgan_generator_loss(fake_scores):
    """Per-example least-squares generator loss `0.5 (D(G(z)) - 1)^2`.

    Reference:
        Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017.

    Example:

    >>> import numpy as np
    >>> float(lsgan_generator_loss(np.array([0.0]))[0])
    0.5
    """
    return 0.5 * _per_example_mean(ops.square(ops.convert_to_tensor(fake_scores) - 1.0))


@keras.saving.register_keras_serializable(package="kzoo")
class LeastSquaresGANLoss(keras.losses.Loss):
    """Least-squares GAN loss against target labels: `0.5 (D(.) - y)^2`.

    With `y_true = 1` for real images and `0` for generated ones it is the
    discriminator's loss; with `y_true = 1` on generated images it is the
    generator's (Mao et al., 2017). Scores are averaged per example.

    Reference:
        Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017.

    Args:
        reduction: Keras reduction (default `"sum_over_batch_size"`).
        name: optional name.

    Example:

    >>> import numpy as np
    >>> loss = LeastSquaresGANLoss()
    >>> float(loss(np.array([[1.0], [0.0]]), np.array([[0.0], [0.0]])))
    0.25
    """

    def __init__(self, reduction="sum_over_batch_size", name="lsgan", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        if len(y_true.shape) < len(y_pred.shape):
            y_true = ops.reshape(
                y_true, ops.shape(y_true) + (1,) * (len(y_pred.shape) - len(y_true.shape))
            )
        return 0.5 * _per_example_mean(ops.square(y_pred - y_true))


def cycle_consistency_loss(x, x_cycled):
    """Per-example L1 cycle loss `mean |x - F(G(x))|` (apply it to both domains).

    Reference:
        Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent
        Adversarial Networks", ICCV 2017.

    Example:

    >>> import numpy as np
    >>> float(cycle_consistency_loss(np.zeros((1, 2)), np.array([[1.0, 3.0]]))[0])
    2.0
    """
    x = ops.convert_to_tensor(x)
    x_cycled = ops.convert_to_tensor(x_cycled)
    if tuple(x.shape) != tuple(x_cycled.shape):
        raise ValueError(
            "Cycle consistency compares an input with its reconstruction, so both need the same "
            f"shape. Received: x.shape={tuple(x.shape)}, x_cycled.shape={tuple(x_cycled.shape)}."
        )
    return _per_example_mean(ops.abs(x - x_cycled))


@keras.saving.register_keras_serializable(package="kzoo")
class CycleConsistencyLoss(keras.losses.Loss):
    """CycleGAN's weighted L1 cycle loss `weight * mean |x - F(G(x))|`.

    `y_true` is `x`, `y_pred` is its round trip `F(G(x))`; use one instance for
    each direction (`x -> G -> F` and `y -> F -> G`). `weight` is CycleGAN's
    `lambda` (10 in the paper).

    Reference:
        Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent
        Adversarial Networks", ICCV 2017.

    Args:
        weight: float >= 0 (default 10.0).
        reduction: Keras reduction (default `"sum_over_batch_size"`).
        name: optional name.

    Example:

    >>> import numpy as np
    >>> float(CycleConsistencyLoss(weight=10.0)(np.zeros((1, 2)), np.array([[1.0, 3.0]])))
    20.0
    """

    def __init__(
        self, weight=10.0, reduction="sum_over_batch_size", name="cycle_consistency", dtype=None
    ):
        _check_weight("weight", weight)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.weight = weight

    def call(self, y_true, y_pred):
        return self.weight * cycle_consistency_loss(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}
