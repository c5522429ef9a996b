"""Regularizing losses and penalties: confidence penalty, weight penalties by name."""

import keras
from keras import ops

from kzoo import specs
from kzoo.losses.autoencoder import SparsityRegularizer
from kzoo.losses.focal import sparse_categorical_focal_crossentropy


def entropy_regularized_crossentropy(
    y_true, y_pred, beta=0.1, from_logits=False, label_smoothing=0.0
):
    """Per-example confidence-penalised cross-entropy `CE(y, p) - beta * H(p)`.

    `H(p) = -sum_c p_c log p_c`; penalising low entropy discourages
    over-confident outputs (Pereyra et al., 2017). `CE` takes label smoothing.

    Reference:
        Pereyra et al., "Regularizing Neural Networks by Penalizing Confident
        Output Distributions", ICLR 2017 workshop.

    Example:

    >>> import numpy as np
    >>> ce = entropy_regularized_crossentropy(np.array([0]), np.zeros((1, 2)), 0.5, True)
    >>> round(float(ce[0]), 4)  # log 2 - 0.5 log 2
    0.3466
    """
    y_pred = ops.convert_to_tensor(y_pred)
    ce = sparse_categorical_focal_crossentropy(
        y_true, y_pred, gamma=0.0, from_logits=from_logits, label_smoothing=label_smoothing
    )
    if from_logits:
        log_p = ops.log_softmax(y_pred, axis=-1)
    else:
        probs = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        log_p = ops.log(ops.clip(probs, keras.backend.epsilon(), 1.0))
    entropy = -ops.sum(ops.exp(log_p) * log_p, axis=-1)
    return ce - beta * entropy


@keras.saving.register_keras_serializable(package="kzoo")
class EntropyRegularizedCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy with a confidence penalty: `CE - beta * H(p)`.

    Reference:
        Pereyra et al., "Regularizing Neural Networks by Penalizing Confident
        Output Distributions", ICLR 2017 workshop.

    Args:
        beta: float >= 0, strength of the entropy bonus (default 0.1).
        from_logits: bool (default False).
        label_smoothing: float in [0, 1) (default 0).
        reduction: Keras reduction (default `"sum_over_batch_size"`).
        name: optional name.

    Example:

    >>> import numpy as np
    >>> loss = EntropyRegularizedCrossentropy(beta=0.0, from_logits=True)
    >>> round(float(loss(np.array([1]), np.zeros((1, 4), "float32"))), 4)
    1.3863
    """

    def __init__(
        self,
        beta=0.1,
        from_logits=False,
        label_smoothing=0.0,
        reduction="sum_over_batch_size",
        name="entropy_regularized_crossentropy",
        dtype=None,
    ):
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta < 0:
            raise ValueError(f"Argument `beta` must be a number >= 0. Received: beta={beta!r}.")
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(
                f"Argument `label_smoothing` must be in [0, 1). Received: label_smoothing={label_smoothing}."
            )
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.beta = beta
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        return entropy_regularized_crossentropy(
            y_true, y_pred, self.beta, self.from_logits, self.label_smoothing
        )

    def get_config(self):
        return {
            **super().get_config(),
            "beta": self.beta,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


REGULARIZERS = {
    "l1": keras.regularizers.L1,
    "l2": keras.regularizers.L2,
    "l1_l2": keras.regularizers.L1L2,
    "orthogonal": keras.regularizers.OrthogonalRegularizer,
    "sparsity": SparsityRegularizer,
}


def regularizer(spec):
    """A Keras regularizer from a config spec, or None for `None` / `"none"`.

    `"l2"`, `{name: l2, l2: 1e-4}`, `{name: l1_l2, l1: 1e-5, l2: 1e-4}`,
    `{name: sparsity, kind: kl, rho: 0.05}`.

    Example:

    >>> r = regularizer({"name": "l2", "l2": 1e-4})
    >>> type(r).__name__, round(float(r.l2), 6)
    ('L2', 0.0001)
    """
    if spec is None or (isinstance(spec, str) and spec.lower() == "none"):
        return None
    return specs.build(spec, REGULARIZERS, "regularizer")
