"""Metric-learning losses: triplet (semi-hard, hard, batch-all), contrastive, NT-Xent.

Distances are computed so that identical embeddings (distance 0) have a
finite, zero gradient: the square root is only taken where the squared
distance is positive.
"""

import keras
from keras import ops

from kzoo.errors import check_choice

_DISTANCES = ("l2", "squared_l2", "cosine")
_STRATEGIES = ("semi_hard", "hard", "batch_all")


def _check_nonnegative(argument, value, hint):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(
            f"Argument `{argument}` must be a number >= 0. Received: {argument}={value!r}. {hint}"
        )


def _safe_sqrt(x):
    positive = x > 0.0
    return ops.where(positive, ops.sqrt(ops.where(positive, x, 1.0)), 0.0)


def _l2_normalize(x, axis=-1):
    squared = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return x * ops.rsqrt(ops.maximum(squared, 1e-12))


def pairwise_distances(embeddings, distance="l2"):
    """`(batch, batch)` distances between rows of `(batch, dim)` embeddings.

    `"squared_l2"`: `||a - b||^2`; `"l2"`: `||a - b||`; `"cosine"`:
    `1 - cos(a, b)`. The diagonal is exactly 0.

    Example:

    >>> import numpy as np
    >>> x = np.array([[0.0, 0.0], [3.0, 4.0]], "float32")
    >>> float(pairwise_distances(x)[0, 1])
    5.0
    """
    check_choice("distance", distance, _DISTANCES)
    x = ops.convert_to_tensor(embeddings)
    eye = ops.eye(ops.shape(x)[0], dtype="bool")
    if distance == "cosine":
        x = _l2_normalize(x)
        return ops.where(eye, 0.0, 1.0 - ops.matmul(x, ops.transpose(x)))
    squared_norms = ops.sum(ops.square(x), axis=1)
    squared = (
        squared_norms[:, None] + squared_norms[None, :] - 2.0 * ops.matmul(x, ops.transpose(x))
    )
    squared = ops.where(eye, 0.0, ops.maximum(squared, 0.0))
    if distance == "squared_l2":
        return squared
    return _safe_sqrt(squared)


def _labels_vector(y_true, y_pred):
    labels = ops.convert_to_tensor(y_true)
    if len(labels.shape) == 2 and labels.shape[1] == 1:
        labels = ops.squeeze(labels, 1)
    if len(labels.shape) != 1 or len(y_pred.shape) != 2:
        raise ValueError(
            "Triplet loss expects integer labels (batch,) and embeddings (batch, dim). "
            f"Received: y_true.shape={tuple(ops.shape(y_true))}, y_pred.shape={tuple(y_pred.shape)}."
        )
    if (
        labels.shape[0] is not None
        and y_pred.shape[0] is not None
        and labels.shape[0] != y_pred.shape[0]
    ):
        raise ValueError(
            "y_true and y_pred must have the same batch size. Received: "
            f"y_true.shape={tuple(labels.shape)}, y_pred.shape={tuple(y_pred.shape)}."
        )
    return ops.cast(labels, "int32")


def triplet_loss(y_true, y_pred, margin=1.0, strategy="semi_hard", distance="l2", soft=False):
    """Batch triplet loss with online mining (a scalar for the whole batch).

    With `d` the pairwise distances, positives `P(a)` (same label, not `a`) and
    negatives `N(a)` (other labels), and `h(x) = max(x + margin, 0)`, or
    `log(1 + exp(x))` (margin unused) when `soft`:

    - `"semi_hard"` (Schroff et al., 2015; TensorFlow Addons' `TripletSemiHardLoss`):
      for each pair `(a, p)`, `n*` is the closest negative farther than `d(a, p)`,
      else the farthest negative; loss `= sum h(d(a,p) - d(a,n*)) / #pairs`.
    - `"hard"` (Hermans et al., 2017; Addons' `TripletHardLoss`): per anchor,
      `h(max_P d(a,p) - min_N d(a,n))` (the max is 0 without positives), averaged
      over anchors.
    - `"batch_all"` (Hermans et al., 2017): `h(d(a,p) - d(a,n))` for every triplet,
      averaged over the triplets with a positive loss (all triplets when `soft`).

    An anchor with no negative (e.g. a single-class batch) forms no triplet and
    contributes 0; a batch with no triplet at all gives 0.

    Reference:
        Schroff et al., "FaceNet: A Unified Embedding for Face Recognition and
        Clustering", CVPR 2015. Hermans et al., "In Defense of the Triplet Loss
        for Person Re-Identification", arXiv:1703.07737, 2017.

    Args:
        y_true: integer labels `(batch,)` or `(batch, 1)`.
        y_pred: embeddings `(batch, dim)`.
        margin: float >= 0.
        strategy: `"semi_hard"`, `"hard"` or `"batch_all"`.
        distance: `"l2"`, `"squared_l2"` or `"cosine"`.
        soft: bool, softplus instead of the hinge.

    Returns:
        A scalar.

    Example:

    >>> import numpy as np
    >>> emb = np.array([[0.0], [0.5], [1.0], [3.0]], "float32")
    >>> round(float(triplet_loss(np.array([0, 0, 1, 1]), emb, strategy="hard")), 4)
    1.125
    """
    _check_nonnegative("margin", margin, "Use 0 for no margin or a positive value such as 1.0.")
    check_choice("strategy", strategy, _STRATEGIES)
    check_choice("distance", distance, _DISTANCES)
    y_pred = ops.convert_to_tensor(y_pred)
    labels = _labels_vector(y_true, y_pred)
    d = ops.cast(pairwise_distances(ops.cast(y_pred, "float32"), distance), "float32")
    same = ops.equal(labels[:, None], labels[None, :])
    eye = ops.eye(ops.shape(labels)[0], dtype="bool")
    positive = ops.logical_and(same, ops.logical_not(eye))
    negative = ops.logical_not(same)
    has_negative = ops.any(negative, axis=1)  # (batch,)

    def hinge(x):
        return ops.softplus(x) if soft else ops.relu(x + margin)

    big = ops.max(d) + 1.0
    if strategy == "hard":
        hardest_positive = ops.max(ops.where(positive, d, 0.0), axis=1)
        hardest_negative = ops.min(ops.where(negative, d, big), axis=1)
        per_anchor = ops.where(has_negative, hinge(hardest_positive - hardest_negative), 0.0)
        return ops.mean(per_anchor)
    if strategy == "semi_hard":
        d_ap = d[:, :, None]  # [a, p, 1]
        d_an = d[:, None, :]  # [a, 1, n]
        farther = ops.logical_and(negative[:, None, :], d_an > d_ap)  # [a, p, n]
        closest_farther = ops.min(ops.where(farther, d_an, big), axis=2)
        farthest = ops.max(ops.where(negative, d, -1.0), axis=1)[:, None]
        chosen = ops.where(ops.any(farther, axis=2), closest_farther, farthest)
        valid = ops.logical_and(positive, has_negative[:, None])
        pair_losses = ops.where(valid, hinge(d - chosen), 0.0)
        pairs = ops.sum(ops.cast(positive, "float32"))
        return ops.divide_no_nan(ops.sum(pair_losses), pairs)
    # batch_all
    valid = ops.logical_and(positive[:, :, None], negative[:, None, :])  # [a, p, n]
    losses = ops.where(valid, hinge(d[:, :, None] - d[:, None, :]), 0.0)
    counted = valid if soft else ops.logical_and(valid, losses > 1e-16)
    return ops.divide_no_nan(ops.sum(losses), ops.sum(ops.cast(counted, "float32")))


@keras.saving.register_keras_serializable(package="kzoo")
class TripletLoss(keras.losses.Loss):
    """Triplet loss over a batch of labelled embeddings, with online triplet mining.

    See `triplet_loss` for the three strategies; `"semi_hard"` and `"hard"` follow
    TensorFlow Addons' `TripletSemiHardLoss` and `TripletHardLoss`. The loss is one
    value for the whole batch (triplets span examples), so `sample_weight` and
    reductions other than the mean do not apply. Batches should hold several
    examples per class; a batch with no triplet gives 0.

    Reference:
        Schroff et al., "FaceNet: A Unified Embedding for Face Recognition and
        Clustering", CVPR 2015.

    Args:
        margin: float >= 0 (default 1.0).
        strategy: `"semi_hard"` (default), `"hard"` or `"batch_all"`.
        distance: `"l2"` (default), `"squared_l2"` or `"cosine"`.
        soft: bool, use `softplus(d_ap - d_an)` instead of the hinge (default False).
        name: optional name.

    Example:

    >>> import numpy as np
    >>> loss = TripletLoss(margin=1.0, strategy="semi_hard")
    >>> emb = np.array([[0.0], [0.5], [1.0], [3.0]], "float32")
    >>> round(float(loss(np.array([0, 0, 1, 1]), emb)), 4)
    0.75
    """

    def __init__(
        self,
        margin=1.0,
        strategy="semi_hard",
        distance="l2",
        soft=False,
        reduction="sum_over_batch_size",
        name="triplet",
        dtype=None,
    ):
        _check_nonnegative("margin", margin, "Use 0 for no margin or a positive value such as 1.0.")
        check_choice("strategy", strategy, _STRATEGIES)
        check_choice("distance", distance, _DISTANCES)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = margin
        self.strategy = strategy
        self.distance = distance
        self.soft = soft

    def call(self, y_true, y_pred):
        return triplet_loss(y_true, y_pred, self.margin, self.strategy, self.distance, self.soft)

    def get_config(self):
        return {
            **super().get_config(),
            "margin": self.margin,
            "strategy": self.strategy,
            "distance": self.distance,
            "soft": self.soft,
        }


def contrastive_loss(y_true, y_pred, margin=1.0):
    """Per-pair contrastive loss `y d^2 + (1 - y) max(margin - d, 0)^2`.

    `y = 1` for a similar pair. `y_pred` is either the distances `(batch,)` /
    `(batch, 1)` (a Siamese model's output), or the two embeddings of each pair
    `(batch, 2, dim)`, whose Euclidean distance is taken here (with a zero,
    finite gradient at distance 0).

    Reference:
        Hadsell, Chopra and LeCun, "Dimensionality Reduction by Learning an
        Invariant Mapping", CVPR 2006.

    Example:

    >>> import numpy as np
    >>> round(float(contrastive_loss(np.array([1, 0]), np.array([0.5, 0.25]))[1]), 4)
    0.5625
    """
    _check_nonnegative("margin", margin, "Use a positive value such as 1.0.")
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if len(y_pred.shape) == 3:
        if y_pred.shape[1] != 2:
            raise ValueError(
                "Contrastive loss on embeddings expects y_pred of shape (batch, 2, dim): the "
                f"two embeddings of each pair. Received: y_pred.shape={tuple(y_pred.shape)}."
            )
        d = _safe_sqrt(ops.sum(ops.square(y_pred[:, 0] - y_pred[:, 1]), axis=-1))
    else:
        d = (
            ops.reshape(y_pred, (-1,))
            if len(y_pred.shape) == 2 and y_pred.shape[1] == 1
            else y_pred
        )
    if len(y_true.shape) == 2 and y_true.shape[1] == 1:
        y_true = ops.squeeze(y_true, 1)
    if (
        len(d.shape) != 1
        or len(y_true.shape) != 1
        or (
            d.shape[0] is not None and y_true.shape[0] is not None and d.shape[0] != y_true.shape[0]
        )
    ):
        raise ValueError(
            "Contrastive loss expects y_true of pair labels (batch,) (1 = similar) and y_pred "
            "of distances (batch,) or embedding pairs (batch, 2, dim). Received: "
            f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}."
        )
    y = ops.cast(y_true, d.dtype)
    return y * ops.square(d) + (1.0 - y) * ops.square(ops.relu(margin - d))


@keras.saving.register_keras_serializable(package="kzoo")
class ContrastiveLoss(keras.losses.Loss):
    """Contrastive loss on pairs: `y d^2 + (1 - y) max(margin - d, 0)^2`.

    Pulls similar pairs (`y = 1`) together and pushes dissimilar ones at least
    `margin` apart. `y_pred` holds distances or embedding pairs; see
    `contrastive_loss`.

    Reference:
        Hadsell, Chopra and LeCun, "Dimensionality Reduction by Learning an
        Invariant Mapping", CVPR 2006.

    Args:
        margin: float >= 0 (default 1.0).
        reduction: Keras reduction (default `"sum_over_batch_size"`).
        name: optional name.

    Example:

    >>> import numpy as np
    >>> loss = ContrastiveLoss(margin=1.0)
    >>> pairs = np.array([[[0.0, 0.0], [0.6, 0.8]]], "float32")  # distance 1
    >>> float(loss(np.array([1]), pairs))
    1.0
    """

    def __init__(self, margin=1.0, reduction="sum_over_batch_size", name="contrastive", dtype=None):
        _check_nonnegative("margin", margin, "Use a positive value such as 1.0.")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = margin

    def call(self, y_true, y_pred):
        return contrastive_loss(y_true, y_pred, self.margin)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin}


def nt_xent_loss(y_pred, temperature=0.5):
    """Per-example NT-Xent (normalized temperature-scaled cross-entropy) of two views.

    `y_pred` `(N, 2, dim)` holds two augmented views of each of `N` examples. With
    the `2N` L2-normalised embeddings `z`, `s(i, k) = z_i . z_k / temperature` and
    `j(i)` the other view of `i`,
    `l(i) = -log(exp(s(i, j(i))) / sum_{k != i} exp(s(i, k)))`; example `n` gets
    the mean of its two views' losses, so the batch mean is SimCLR's loss.

    Reference:
        Chen et al., "A Simple Framework for Contrastive Learning of Visual
        Representations", ICML 2020.

    Example:

    >>> import numpy as np
    >>> views = np.array([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]], "float32")
    >>> round(float(nt_xent_loss(views, temperature=1.0)[0]), 4)
    0.5514
    """
    _check_temperature(temperature)
    y_pred = ops.convert_to_tensor(y_pred)
    if len(y_pred.shape) != 3 or y_pred.shape[1] != 2:
        raise ValueError(
            "NT-Xent expects y_pred of shape (batch, 2, dim): two views of each example. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}."
        )
    z = _l2_normalize(ops.cast(y_pred, "float32"))
    n = ops.shape(z)[0]
    z = ops.concatenate([z[:, 0], z[:, 1]], axis=0)  # (2N, dim): views 1 then views 2
    logits = ops.matmul(z, ops.transpose(z)) / temperature
    logits = ops.where(ops.eye(2 * n, dtype="bool"), -1e9, logits)
    partner = ops.concatenate([ops.arange(n) + n, ops.arange(n)], axis=0)
    log_p = ops.log_softmax(logits, axis=1)
    losses = -ops.take_along_axis(log_p, partner[:, None], axis=1)[:, 0]
    return 0.5 * (losses[:n] + losses[n:])


def _check_temperature(temperature):
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float))
        or temperature <= 0
    ):
        raise ValueError(
            f"Argument `temperature` must be a number > 0. Received: temperature={temperature!r}. "
            "SimCLR uses 0.1 to 0.5."
        )


@keras.saving.register_keras_serializable(package="kzoo")
class NTXentLoss(keras.losses.Loss):
    """SimCLR's NT-Xent loss on pairs of views; `y_true` is ignored.

    `y_pred` `(batch, 2, dim)` holds two views of each example; every other
    embedding of the batch is a negative. See `nt_xent_loss`. Pass any `y` to
    `fit` (e.g. zeros of shape `(batch,)`).

    Reference:
        Chen et al., "A Simple Framework for Contrastive Learning of Visual
        Representations", ICML 2020.

    Args:
        temperature: float > 0 (default 0.5).
        reduction: Keras reduction (default `"sum_over_batch_size"`).
        name: optional name.

    Example:

    >>> import numpy as np
    >>> views = np.array([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]], "float32")
    >>> round(float(NTXentLoss(temperature=1.0)(np.zeros(2), views)), 4)
    0.5514
    """

    def __init__(
        self, temperature=0.5, reduction="sum_over_batch_size", name="nt_xent", dtype=None
    ):
        _check_temperature(temperature)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.temperature = temperature

    def call(self, y_true, y_pred):
        return nt_xent_loss(y_pred, self.temperature)

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}
