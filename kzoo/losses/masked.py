"""Length-aware losses: padded time steps contribute nothing ("avoid padding").

Sequence batches are padded to the longest example. A loss computed over the
padded tensor must skip the padding, or short examples are trained towards
whatever the padding frames happen to predict. kzoo takes the lengths from
the Keras mask that rides on `y_pred` (set by `keras.layers.Masking`,
`Embedding(mask_zero=True)`, or any mask-propagating layer), or from a pad
value in `y_true`.

Averaging: with the default `reduction="sum_over_batch_size"` the losses here
average over **all real frames of the batch** (the sum of the per-frame losses
over real frames, divided by the number of real frames), which is
SpeechBrain's default for its `*_loss(..., length=...)` functions
(`reduction="mean"` there). An example with twice the frames weighs twice as
much. Per-example averages (each example's mean over its frames, then the mean
over examples) are what `reduction="none"` followed by a plain mean of the
per-example values gives: `masked_sequence_loss_per_example` returns them.
"""

import keras
from keras import ops

try:  # The only way to read the Keras mask on JAX arrays, which take no attributes.
    from keras.src.backend import get_keras_mask as _get_keras_mask
except ImportError:  # pragma: no cover - older or newer Keras layouts

    def _get_keras_mask(x):
        return getattr(x, "_keras_mask", None)


def keras_mask(x):
    """The Keras mask carried by `x` (a boolean `(batch, time)` tensor), or None."""
    return _get_keras_mask(x)


def reduce_losses(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Applies a Keras reduction to per-example (or per-frame) loss values."""
    values = ops.convert_to_tensor(values)
    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, values.dtype)
        while len(sample_weight.shape) < len(values.shape):
            sample_weight = ops.expand_dims(sample_weight, -1)
        values = values * sample_weight
    if reduction is None or reduction == "none":
        return values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        weights = ops.broadcast_to(sample_weight, ops.shape(values))
        return ops.divide_no_nan(total, ops.sum(weights))
    count = ops.cast(ops.size(values), values.dtype)
    return ops.divide_no_nan(total, count)


def _lengths_to_mask(lengths, max_len):
    return ops.arange(max_len)[None, :] < ops.cast(lengths, "int32")[:, None]


def frame_mask(y_true, y_pred, lengths=None, pad_value=None):
    """The boolean `(batch, time)` mask of real frames, or None when nothing is padded.

    Priority: explicit `lengths`, then the Keras mask of `y_pred`, then `pad_value`
    in `y_true` (a frame is padding when every entry of it equals `pad_value`).
    """
    if lengths is not None:
        return _lengths_to_mask(lengths, ops.shape(y_pred)[1])
    mask = keras_mask(y_pred)
    if mask is not None:
        return ops.cast(mask, "bool")
    if pad_value is not None:
        is_pad = ops.equal(ops.cast(y_true, "float32"), float(pad_value))
        while len(is_pad.shape) > 2:
            is_pad = ops.all(is_pad, axis=-1)
        return ops.logical_not(is_pad)
    return None


def _check_rank(y_true, y_pred, sparse, what):
    y_true_rank = len(y_true.shape)
    y_pred_rank = len(y_pred.shape)
    expected = y_pred_rank - 1 if sparse else y_pred_rank
    if y_pred_rank < 2 or y_true_rank != expected:
        kind = "integer class ids of shape (batch, time)" if sparse else "the shape of y_pred"
        raise ValueError(
            f"{what} expects y_pred of shape (batch, time, ...) and y_true with {kind}. "
            f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}. "
            "Check the labels match the model output."
        )
    for a, b in zip(y_true.shape[:2], y_pred.shape[:2], strict=True):
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"{what}: y_true and y_pred disagree on (batch, time). Received: "
                f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}. "
                "Pad labels and predictions to the same number of time steps."
            )


def _check_smoothing(label_smoothing):
    if not 0.0 <= float(label_smoothing) < 1.0:
        raise ValueError(
            "Argument `label_smoothing` must be in [0, 1). Received: "
            f"label_smoothing={label_smoothing}. Use 0.1 for the usual smoothing."
        )


def sequence_crossentropy(y_true, y_pred, from_logits=True, label_smoothing=0.0, pad_value=None):
    """Per-frame negative log-likelihood of integer labels, with label smoothing.

    `-((1 - eps) log p[y] + eps / C * sum_c log p[c])` for each frame (Szegedy et
    al., 2016), where `p = softmax(y_pred)` when `from_logits`. Frames whose label
    equals `pad_value` get any valid class id so the result stays finite; mask them.

    Args:
        y_true: integer labels `(batch, time)`.
        y_pred: logits or probabilities `(batch, time, classes)`.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: `eps` in [0, 1).
        pad_value: label value marking padding (replaced by class 0 here).

    Returns:
        Per-frame losses `(batch, time)`.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    labels = ops.cast(y_true, "int32")
    if pad_value is not None:
        labels = ops.where(ops.equal(labels, int(pad_value)), 0, labels)
    if from_logits:
        log_p = ops.log_softmax(y_pred, axis=-1)
    else:
        eps = keras.backend.epsilon()
        log_p = ops.log(ops.clip(y_pred, eps, 1.0))
    picked = ops.squeeze(ops.take_along_axis(log_p, labels[..., None], axis=-1), -1)
    nll = -picked
    if label_smoothing:
        uniform = -ops.mean(log_p, axis=-1)
        nll = (1.0 - label_smoothing) * nll + label_smoothing * uniform
    return nll


class _MaskedLoss(keras.losses.Loss):
    """Per-frame loss `(batch, time)`; padded frames get zero weight."""

    _what = "masked loss"
    _sparse = False

    def __init__(self, pad_value=None, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.pad_value = pad_value

    def frame_losses(self, y_true, y_pred):
        raise NotImplementedError

    def call(self, y_true, y_pred):
        return self.frame_losses(y_true, y_pred)

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true_t = ops.convert_to_tensor(y_true)
        y_pred_t = ops.convert_to_tensor(y_pred)
        _check_rank(y_true_t, y_pred_t, self._sparse, self._what)
        mask = frame_mask(y_true_t, y_pred, pad_value=self.pad_value)
        with keras.name_scope(self.name):
            y_pred_t = ops.cast(y_pred_t, self.dtype)
            if not self._sparse:
                y_true_t = ops.cast(y_true_t, self.dtype)
            values = self.frame_losses(y_true_t, y_pred_t)  # (batch, time)
            if mask is not None:
                values = ops.where(mask, values, 0.0)
            if self.reduction in ("sum_over_batch_size", "mean") and mask is not None:
                weighted = values
                if sample_weight is not None:
                    sw = ops.cast(sample_weight, values.dtype)
                    while len(sw.shape) < 2:
                        sw = ops.expand_dims(sw, -1)
                    weighted = values * sw
                real = ops.sum(ops.cast(mask, values.dtype))
                return ops.divide_no_nan(ops.sum(weighted), real)
            return reduce_losses(values, sample_weight, self.reduction)

    def get_config(self):
        return {**super().get_config(), "pad_value": self.pad_value}


@keras.saving.register_keras_serializable(package="kzoo")
class MaskedSparseCategoricalCrossentropy(_MaskedLoss):
    """Sequence NLL / cross-entropy of integer labels that ignores padded frames.

    Each frame's loss is `-((1 - eps) log p[y] + eps/C sum_c log p[c])` (label
    smoothing, Szegedy et al., 2016); frames outside the Keras mask of `y_pred`,
    or whose label equals `pad_value`, are dropped. With the default reduction the
    result is the mean over all real frames of the batch (SpeechBrain's
    `nll_loss(..., length=...)` default).

    Reference:
        Szegedy et al., "Rethinking the Inception Architecture for Computer
        Vision", CVPR 2016 (label smoothing).

    Args:
        from_logits: bool, whether `y_pred` holds logits (default True).
        label_smoothing: float in [0, 1), the smoothing `eps` (default 0).
        pad_value: int or None, the label that marks padding in `y_true`.
        reduction: Keras reduction (default `"sum_over_batch_size"`: mean over
            real frames). `"none"` returns `(batch, time)` values, zero on padding.
        name: optional name.

    Example:

    >>> import numpy as np
    >>> loss = MaskedSparseCategoricalCrossentropy(pad_value=-1)
    >>> y_true = np.array([[0, 1, -1]])
    >>> y_pred = np.zeros((1, 3, 4), "float32")
    >>> round(float(loss(y_true, y_pred)), 4)  # log(4)
    1.3863
    """

    _what = "MaskedSparseCategoricalCrossentropy"
    _sparse = True

    def __init__(
        self,
        from_logits=True,
        label_smoothing=0.0,
        pad_value=None,
        reduction="sum_over_batch_size",
        name="masked_sparse_categorical_crossentropy",
        dtype=None,
    ):
        _check_smoothing(label_smoothing)
        super().__init__(pad_value=pad_value, reduction=reduction, name=name, dtype=dtype)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def frame_losses(self, y_true, y_pred):
        return sequence_crossentropy(
            y_true, y_pred, self.from_logits, self.label_smoothing, self.pad_value
        )

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


class _MaskedRegression(_MaskedLoss):
    """A per-element error `_error(y_pred - y_true)`, averaged over each frame's features."""

    def __init__(self, pad_value=None, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(
            pad_value=pad_value, reduction=reduction, name=name or self._name, dtype=dtype
        )

    def _error(self, diff):
        raise NotImplementedError

    def frame_losses(self, y_true, y_pred):
        values = self._error(ops.convert_to_tensor(y_pred) - ops.convert_to_tensor(y_true))
        while len(values.shape) > 2:
            values = ops.mean(values, axis=-1)
        return values


@keras.saving.register_keras_serializable(package="kzoo")
class MaskedMeanSquaredError(_MaskedRegression):
    """Mean squared error over the real frames of padded sequences.

    Per frame: `mean_f (y_pred - y_true)^2` over the feature axes; frames outside
    the Keras mask of `y_pred`, or whose every target equals `pad_value`, are
    dropped, and the default reduction averages over the real frames of the batch.

    Args:
        pad_value: float or None, the target value that marks padded frames.
        reduction: Keras reduction (default: mean over real frames).
        name: optional name.

    Example:

    >>> import numpy as np
    >>> loss = MaskedMeanSquaredError(pad_value=0.0)
    >>> y_true = np.array([[[1.0], [0.0]]], "float32")
    >>> y_pred = np.array([[[3.0], [9.0]]], "float32")
    >>> float(loss(y_true, y_pred))
    4.0
    """

    _what = "MaskedMeanSquaredError"
    _name = "masked_mse"

    def _error(self, diff):
        return ops.square(diff)


@keras.saving.register_keras_serializable(package="kzoo")
class MaskedMeanAbsoluteError(_MaskedRegression):
    """L1 loss (mean absolute error) over the real frames of padded sequences.

    Per frame: `mean_f |y_pred - y_true|`; padding is dropped as in
    `MaskedMeanSquaredError`.

    Args:
        pad_value: float or None, the target value that marks padded frames.
        reduction: Keras reduction (default: mean over real frames).
        name: optional name.

    Example:

    >>> import numpy as np
    >>> loss = MaskedMeanAbsoluteError(pad_value=0.0)
    >>> y_true = np.array([[[1.0], [0.0]]], "float32")
    >>> y_pred = np.array([[[3.0], [9.0]]], "float32")
    >>> float(loss(y_true, y_pred))
    2.0
    """

    _what = "MaskedMeanAbsoluteError"
    _name = "masked_mae"

    def _error(self, diff):
        return ops.abs(diff)


def masked_sequence_loss_per_example(frame_losses, mask):
    """Each example's mean over its real frames: `(batch, time)` values -> `(batch,)`.

    Example:

    >>> import numpy as np
    >>> values = np.array([[1.0, 3.0, 7.0]], "float32")
    >>> float(masked_sequence_loss_per_example(values, np.array([[1, 1, 0]]))[0])
    2.0
    """
    mask = ops.cast(mask, "float32")
    values = ops.cast(frame_losses, "float32") * mask
    return ops.divide_no_nan(ops.sum(values, axis=1), ops.sum(mask, axis=1))


__all__ = [
    "MaskedMeanAbsoluteError",
    "MaskedMeanSquaredError",
    "MaskedSparseCategoricalCrossentropy",
    "frame_mask",
    "keras_mask",
    "masked_sequence_loss_per_example",
    "reduce_losses",
    "sequence_crossentropy",
]
