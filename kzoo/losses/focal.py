"""Focal loss for integer labels, with per-class alpha and label smoothing.

Keras ships `BinaryFocalCrossentropy` and `CategoricalFocalCrossentropy`
(one-hot labels, one scalar alpha); kzoo adds the sparse-label version with a
per-class alpha, and lists the Keras pair under short config names.
"""

import keras
import numpy as np
from keras import ops


def _check_focal_args(alpha, gamma, label_smoothing):
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or gamma < 0:
        raise ValueError(
            "Argument `gamma` must be a number >= 0 (0 gives plain cross-entropy). "
            f"Received: gamma={gamma!r}. The paper's default is 2.0."
        )
    if alpha is not None:
        values = np.atleast_1d(np.asarray(alpha, dtype="float64"))
        if values.ndim != 1 or np.any(values < 0) or not np.all(np.isfinite(values)):
            raise ValueError(
                "Argument `alpha` must be None, a number >= 0, or a list of one weight "
                f">= 0 per class. Received: alpha={alpha!r}."
            )
    if not 0.0 <= float(label_smoothing) < 1.0:
        raise ValueError(
            f"Argument `label_smoothing` must be in [0, 1). Received: label_smoothing={label_smoothing}."
        )


def sparse_categorical_focal_crossentropy(
    y_true, y_pred, alpha=None, gamma=2.0, from_logits=False, label_smoothing=0.0
):
    """Per-example focal loss `-sum_c alpha_c q_c (1 - p_c)^gamma log p_c` of integer labels.

    `q` is the one-hot label, smoothed to `(1 - eps) q + eps / C` when
    `label_smoothing = eps`; without smoothing the sum is the paper's
    `-alpha_t (1 - p_t)^gamma log p_t`. From logits, `log p` is a log-softmax, so
    confident wrong predictions give large finite losses rather than `inf`.

    Reference:
        Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.

    Args:
        y_true: integer labels `(...)` (or `(..., 1)`).
        y_pred: logits or probabilities `(..., num_classes)`.
        alpha: None (no weighting), a number, or a list of one weight per class.
        gamma: focusing parameter >= 0.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: float in [0, 1).

    Returns:
        Losses of shape `(...)`.

    Example:

    >>> import numpy as np
    >>> probs = np.array([[0.5, 0.5]], "float32")
    >>> round(float(sparse_categorical_focal_crossentropy(np.array([0]), probs)[0]), 4)
    0.1733
    """
    _check_focal_args(alpha, gamma, label_smoothing)
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    if len(y_true.shape) != len(y_pred.shape) - 1 or any(
        a is not None and b is not None and a != b
        for a, b in zip(y_true.shape, y_pred.shape[:-1], strict=False)
    ):
        raise ValueError(
            "Sparse focal loss expects integer labels shaped like y_pred without its last "
            f"(class) axis. Received: y_true.shape={tuple(y_true.shape)}, "
            f"y_pred.shape={tuple(y_pred.shape)}. For one-hot labels use "
            "`categorical_focal` (keras.losses.CategoricalFocalCrossentropy)."
        )
    num_classes = y_pred.shape[-1]
    if from_logits:
        log_p = ops.log_softmax(y_pred, axis=-1)
    else:
        eps = keras.backend.epsilon()
        probs = ops.clip(y_pred / ops.sum(y_pred, axis=-1, keepdims=True), eps, 1.0 - eps)
        log_p = ops.log(probs)
    q = ops.one_hot(ops.cast(y_true, "int32"), num_classes, dtype=log_p.dtype)
    if label_smoothing:
        q = q * (1.0 - label_smoothing) + label_smoothing / num_classes
    # (1 - p) from log p without cancellation; the floor keeps the gradient of
    # x**gamma finite at x = 0 when gamma < 1.
    one_minus_p = ops.maximum(-ops.expm1(log_p), 1e-12)
    terms = -q * ops.power(one_minus_p, gamma) * log_p
    if alpha is not None:
        weights = np.atleast_1d(np.asarray(alpha, dtype="float32"))
        if weights.size > 1 and num_classes is not None and weights.size != num_classes:
            raise ValueError(
                f"Argument `alpha` has {weights.size} weights but y_pred has {num_classes} "
                f"classes. Received: alpha={alpha!r}. Give one weight per class."
            )
        terms = terms * ops.cast(weights, terms.dtype)
    return ops.sum(terms, axis=-1)


@keras.saving.register_keras_serializable(package="kzoo")
class SparseCategoricalFocalCrossentropy(keras.losses.Loss):
    """Focal loss for integer labels: `-alpha_t (1 - p_t)^gamma log p_t`.

    Down-weights well-classified examples so training focuses on hard ones
    (Lin et al., 2017). With one-hot labels and a scalar `alpha` it equals Keras's
    `CategoricalFocalCrossentropy`; `alpha` may also be a list of per-class
    weights (Keras's default scalar 0.25 is not applied here: `alpha=None` means
    no weighting). `gamma=0` and `alpha=None` give sparse categorical
    cross-entropy. Works on sequences: a Keras mask on `y_pred` drops padded frames.

    Reference:
        Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.

    Args:
        alpha: None, a number, or a list of one weight per class (default None).
        gamma: float >= 0, the focusing parameter (default 2.0).
        from_logits: bool, whether `y_pred` holds logits (default False).
        label_smoothing: float in [0, 1) (default 0).
        reduction: Keras reduction (default `"sum_over_batch_size"`).
        name: optional name.

    Example:

    >>> import numpy as np
    >>> loss = SparseCategoricalFocalCrossentropy(gamma=0.0, from_logits=True)
    >>> round(float(loss(np.array([1]), np.zeros((1, 4), "float32"))), 4)  # log(4)
    1.3863
    """

    def __init__(
        self,
        alpha=None,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        reduction="sum_over_batch_size",
        name="sparse_categorical_focal_crossentropy",
        dtype=None,
    ):
        _check_focal_args(alpha, gamma, label_smoothing)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(alpha, (list, tuple, np.ndarray)):
            alpha = [float(a) for a in alpha]
        self.alpha = alpha
        self.gamma = gamma
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        return sparse_categorical_focal_crossentropy(
            y_true, y_pred, self.alpha, self.gamma, self.from_logits, self.label_smoothing
        )

    def get_config(self):
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "gamma": self.gamma,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }
