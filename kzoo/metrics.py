"""Metrics by name, and kzoo's own: classification error, token error rate."""

import keras
from keras import ops

from kzoo import specs
from kzoo.errors import did_you_mean
from kzoo.losses.ctc import _check_blank_index
from kzoo.losses.masked import keras_mask


def _as_labels(y_true, y_pred):
    """Integer labels shaped like y_pred without its class axis (one-hot labels too)."""
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape):
        if y_true.shape[-1] == 1:
            y_true = ops.squeeze(y_true, -1)
        else:
            y_true = ops.argmax(y_true, axis=-1)
    if len(y_true.shape) != len(y_pred.shape) - 1:
        raise ValueError(
            "ClassificationError expects y_pred of shape (..., num_classes) and y_true of "
            "integer labels (...) or one-hot labels (..., num_classes). Received: "
            f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}."
        )
    return ops.cast(y_true, "int32")


@keras.saving.register_keras_serializable(package="kzoo")
class ClassificationError(keras.metrics.Metric):
    """Share of wrong arg-max predictions, counting only real (unmasked) frames.

    `error = sum(w * [argmax y_pred != y_true]) / sum(w)` over every frame where `w`
    is the Keras mask of `y_pred` (padded frames count for nothing), times
    `sample_weight`, and is zero where the label equals `pad_value`. This is
    SpeechBrain's "error" statistic (`1 - accuracy` over the real frames of a
    padded batch); on non-sequence outputs it is `1 - accuracy`.

    Args:
        pad_value: int or None, the label value that marks padding in `y_true`.
        name: metric name (default `"error"`).
        dtype: metric dtype.

    Example:

    >>> import numpy as np
    >>> metric = ClassificationError(pad_value=-1)
    >>> y_true = np.array([[0, 1, -1]])
    >>> y_pred = np.array([[[0.9, 0.1], [0.8, 0.2], [0.1, 0.9]]], "float32")
    >>> metric.update_state(y_true, y_pred)
    >>> float(metric.result())
    0.5
    """

    def __init__(self, pad_value=None, name="error", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.pad_value = pad_value
        self.errors = self.add_variable((), initializer="zeros", name="errors")
        self.count = self.add_variable((), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = keras_mask(y_pred)
        y_pred = ops.convert_to_tensor(y_pred)
        labels = _as_labels(y_true, y_pred)
        wrong = ops.cast(
            ops.not_equal(ops.cast(ops.argmax(y_pred, -1), "int32"), labels), "float32"
        )
        weight = ops.ones_like(wrong)
        if mask is not None:
            weight = weight * ops.cast(mask, "float32")
        if self.pad_value is not None:
            weight = weight * ops.cast(ops.not_equal(labels, int(self.pad_value)), "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            while len(sample_weight.shape) < len(weight.shape):
                sample_weight = ops.expand_dims(sample_weight, -1)
            weight = weight * sample_weight
        self.errors.assign_add(ops.cast(ops.sum(wrong * weight), self.dtype))
        self.count.assign_add(ops.cast(ops.sum(weight), self.dtype))

    def result(self):
        return ops.divide_no_nan(self.errors, self.count)

    def reset_state(self):
        self.errors.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "pad_value": self.pad_value}


def _edit_distances(hyp, keep, ref, ref_lengths):
    """Levenshtein distances between masked hypotheses and padded references.

    `hyp`, `keep`: `(batch, time)` tokens and which of them count; `ref`:
    `(batch, R)` tokens; returns `(batch,)` distances to `ref[:ref_lengths]`.
    Scans over hypothesis positions; a position that does not count copies the
    previous row, so hypotheses need no compaction. Within a row the insertion
    chain `d[j] = min(c[j], d[j - 1] + 1)` is `j + min_{k <= j} (c[k] - k)`.
    """
    batch = ops.shape(ref)[0]
    width = ops.shape(ref)[1] + 1
    j = ops.arange(width, dtype="float32")[None, :]  # (1, R + 1)
    lower = ops.arange(width)[:, None] >= ops.arange(width)[None, :]  # [j, k]: k <= j
    big = 1e9

    def step(row, inputs):
        token, counts = inputs  # (batch,), (batch,)
        diff = ops.cast(ops.not_equal(ref, token[:, None]), "float32")  # (batch, R)
        deletion = row + 1.0
        substitution = ops.concatenate([row[:, :1] + 1.0, row[:, :-1] + diff], axis=1)
        c = ops.minimum(deletion, substitution) - j  # (batch, R + 1)
        chained = ops.min(ops.where(lower[None], c[:, None, :], big), axis=2) + j
        return ops.where(counts[:, None], chained, row), None

    row0 = ops.broadcast_to(j, (batch, width))
    xs = (ops.transpose(ops.cast(hyp, "int32")), ops.transpose(keep))
    row, _ = ops.scan(step, row0, xs)
    return ops.take_along_axis(row, ops.cast(ref_lengths, "int32")[:, None], axis=1)[:, 0]


@keras.saving.register_keras_serializable(package="kzoo")
class TokenErrorRate(keras.metrics.Metric):
    """Token (phone, character, word) error rate: edit distance over reference length.

    `TER = sum_b lev(hyp_b, ref_b) / sum_b len(ref_b)` over everything seen since
    the last reset, where `lev` counts substitutions, deletions and insertions
    (Levenshtein, 1966). It is the PER, CER or WER, depending on the tokens.
    Computed with `keras.ops` on device, so it runs inside `fit` on every backend.

    `y_true`: reference tokens `(batch, R)` padded with `pad_value`.
    `y_pred`: either hypothesis tokens `(batch, H)` padded with `pad_value` (or any
    negative value), or scores `(batch, time, num_classes)`: with `ctc=True` they
    are decoded greedily (arg-max, merge repeats, drop `blank_index`), otherwise
    each frame's arg-max is a token; frames outside the Keras mask are skipped.

    Reference:
        Levenshtein, "Binary codes capable of correcting deletions, insertions
        and reversals", Soviet Physics Doklady 10(8), 1966.

    Args:
        ctc: bool, decode scores as CTC outputs (default True).
        blank_index: int, the CTC blank (default 0).
        pad_value: int, the padding of `y_true` and of token `y_pred` (default -1).
        name: metric name (default `"token_error_rate"`).
        dtype: metric dtype.

    Example:

    >>> import numpy as np
    >>> metric = TokenErrorRate(ctc=False)
    >>> metric.update_state(np.array([[1, 2, 3, -1]]), np.array([[1, 3, -1, -1]]))
    >>> round(float(metric.result()), 4)  # one deletion in three tokens
    0.3333
    """

    def __init__(self, ctc=True, blank_index=0, pad_value=-1, name="token_error_rate", dtype=None):
        _check_blank_index(blank_index)
        super().__init__(name=name, dtype=dtype)
        self.ctc = ctc
        self.blank_index = blank_index
        self.pad_value = pad_value
        self.edits = self.add_variable((), initializer="zeros", name="edits")
        self.tokens = self.add_variable((), initializer="zeros", name="tokens")

    def _hypotheses(self, y_pred):
        mask = keras_mask(y_pred)
        y_pred = ops.convert_to_tensor(y_pred)
        if len(y_pred.shape) == 2:
            hyp = ops.cast(y_pred, "int32")
            keep = ops.logical_and(ops.not_equal(hyp, self.pad_value), hyp >= 0)
            return hyp, keep
        if len(y_pred.shape) != 3:
            raise ValueError(
                "TokenErrorRate expects y_pred of tokens (batch, length) or scores "
                f"(batch, time, num_classes). Received: y_pred.shape={tuple(y_pred.shape)}."
            )
        hyp = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        keep = ops.ones_like(hyp, dtype="bool")
        if mask is not None:
            keep = ops.cast(mask, "bool")
        if self.ctc:
            _check_blank_index(self.blank_index, y_pred.shape[-1])
            previous = ops.concatenate([ops.full_like(hyp[:, :1], -1), hyp[:, :-1]], axis=1)
            # A repeat after a masked frame is still a repeat: masked frames are trailing.
            keep = ops.logical_and(keep, ops.not_equal(hyp, self.blank_index))
            keep = ops.logical_and(keep, ops.not_equal(hyp, previous))
        return hyp, keep

    def update_state(self, y_true, y_pred, sample_weight=None):
        ref = ops.cast(ops.convert_to_tensor(y_true), "int32")
        if len(ref.shape) != 2:
            raise ValueError(
                "TokenErrorRate expects y_true of reference tokens (batch, length) padded "
                f"with pad_value={self.pad_value}. Received: y_true.shape={tuple(ref.shape)}."
            )
        hyp, keep = self._hypotheses(y_pred)
        real = ops.not_equal(ref, self.pad_value)
        ref_lengths = ops.sum(ops.cast(real, "int32"), axis=1)
        edits = _edit_distances(hyp, keep, ref, ref_lengths)
        lengths = ops.cast(ref_lengths, "float32")
        if sample_weight is not None:
            sample_weight = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
            edits = edits * sample_weight
            lengths = lengths * sample_weight
        self.edits.assign_add(ops.cast(ops.sum(edits), self.dtype))
        self.tokens.assign_add(ops.cast(ops.sum(lengths), self.dtype))

    def result(self):
        return ops.divide_no_nan(self.edits, self.tokens)

    def reset_state(self):
        self.edits.assign(0.0)
        self.tokens.assign(0.0)

    def get_config(self):
        return {
            **super().get_config(),
            "ctc": self.ctc,
            "blank_index": self.blank_index,
            "pad_value": self.pad_value,
        }


# kzoo's own metrics by config name.
METRICS: dict = {
    "error": ClassificationError,
    "classification_error": ClassificationError,
    "token_error_rate": TokenErrorRate,
    "ter": TokenErrorRate,
    "per": TokenErrorRate,
    "wer": TokenErrorRate,
    "cer": TokenErrorRate,
}


def get(spec):
    """A metric from a config spec.

    Plain strings Keras understands in `compile` (`"accuracy"`, `"mae"`) pass through, so
    Keras picks the right variant for the loss; mappings build a metric class with
    arguments.

    >>> import kzoo
    >>> kzoo.metrics.get("accuracy")
    'accuracy'
    >>> type(kzoo.metrics.get({"name": "sparse_top_k_categorical_accuracy", "k": 2})).__name__
    'SparseTopKCategoricalAccuracy'
    """
    name, kwargs = specs.split(spec, "metric")
    if name.lower() in METRICS:
        return specs.build(spec, METRICS, "metric")
    table = specs.classes_by_name(keras.metrics, keras.metrics.Metric)
    if not kwargs:
        # Keras resolves metric strings only when fit starts; check them now. `acc`,
        # `crossentropy` and `ce` are compile-only aliases keras.metrics.get rejects.
        if name not in ("acc", "crossentropy", "ce"):
            try:
                keras.metrics.get(name)
            except ValueError:
                raise ValueError(
                    f"Unknown metric {name!r}. {did_you_mean(name, [*METRICS, *table])}"
                ) from None
        return name
    return specs.build(spec, table, "metric")
