"""Connectionist Temporal Classification with per-example lengths, and CTC decoding.

The loss is the CTC forward algorithm (Graves et al., 2006) written in log
space with `keras.ops`, its recursion run by `keras.layers.RNN`, so it runs and
differentiates on every Keras backend and compiles with XLA (TensorFlow, JAX).
It takes any blank index, reads input lengths from the Keras mask of `y_pred`
and label lengths from a pad value in `y_true`, and handles impossible
alignments (a label sequence longer than its input allows) without NaN.
"""

import keras
import numpy as np
from keras import ops

from kzoo.errors import check_choice
from kzoo.losses.masked import keras_mask, reduce_losses

# Log-probability of an unreachable state. A finite stand-in for -inf keeps every
# log-sum-exp and its gradient finite; real log-likelihoods never come near it.
_NEG = -1e30
_IMPOSSIBLE = -1e29


def _check_blank_index(blank_index, num_classes=None):
    if isinstance(blank_index, bool) or not isinstance(blank_index, (int, np.integer)):
        raise ValueError(
            f"Argument `blank_index` must be an integer class id. Received: blank_index={blank_index!r}."
        )
    if blank_index < 0 or (num_classes is not None and blank_index >= num_classes):
        upper = "num_classes - 1" if num_classes is None else str(num_classes - 1)
        raise ValueError(
            f"Argument `blank_index` must be in [0, {upper}] (a column of y_pred). "
            f"Received: blank_index={blank_index}"
            + ("" if num_classes is None else f" with {num_classes} classes")
            + ". Use the index of the blank symbol in your vocabulary."
        )


def _logsumexp(*terms):
    m = terms[0]
    for t in terms[1:]:
        m = ops.maximum(m, t)
    total = 0.0
    for t in terms:
        total = total + ops.exp(t - m)
    return m + ops.log(total)


class _ForwardCell(keras.layers.Layer):
    """Weightless `keras.layers.RNN` cell running the step function set per call."""

    def __init__(self, num_states, step_fn, **kwargs):
        super().__init__(**kwargs)
        self.state_size = num_states
        self.output_size = num_states
        self.step_fn = step_fn

    def call(self, inputs, states):
        new = self.step_fn(states[0], inputs)
        return new, [new]


def _run_recursion(step, emit, alpha_init, mask):
    """Final `alpha` of `alpha_t = step(alpha_{t-1}, emit[:, t])`, masked frames skipped.

    `keras.layers.RNN` runs the loop with each backend's own machinery: a while loop
    bounded by the number of frames on TensorFlow (so XLA compiles it and its
    gradient; `keras.ops.scan` gives no bound), `lax.scan` on JAX, a Python loop on
    PyTorch. A masked frame carries the state unchanged.
    """
    num_states = emit.shape[-1]
    # An unknown (graph-time) label length: the RNN only reads state_size for shapes
    # it is not asked for here, since the initial state is given.
    state_size = num_states if num_states is not None else 1
    cell = _ForwardCell(state_size, step, dtype="float32")
    rnn = keras.layers.RNN(cell, return_state=True, dtype="float32")
    _, alpha = rnn(emit, initial_state=[alpha_init], mask=mask)
    return alpha


def ctc_loss(
    y_true,
    y_pred,
    input_lengths=None,
    label_lengths=None,
    blank_index=0,
    pad_value=-1,
    zero_infinity=False,
):
    """Per-example CTC negative log-likelihood `-log p(y | x)`.

    The forward variable over the blank-extended label `l'` (length `2L + 1`):
    `alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1) + [skip] alpha_{t-1}(s-2)) * y_t(l'_s)`,
    where the skip is allowed when `l'_s` is a label that differs from `l'_{s-2}`;
    `p(y | x) = alpha_T(2L) + alpha_T(2L - 1)`. Computed in log space, float32.

    Reference:
        Graves et al., "Connectionist Temporal Classification: Labelling
        Unsegmented Sequence Data with Recurrent Neural Networks", ICML 2006.

    Args:
        y_true: integer labels `(batch, max_label_length)`, padded at the end with
            `pad_value`. Must not contain `blank_index`.
        y_pred: logits `(batch, time, num_classes)` (log-probabilities work too:
            log-softmax leaves them unchanged).
        input_lengths: optional `(batch,)` number of valid frames; default all.
        label_lengths: optional `(batch,)` label lengths; default: the count of
            entries of `y_true` different from `pad_value`.
        blank_index: int, the blank class.
        pad_value: int, the label padding value.
        zero_infinity: bool; when True an impossible alignment gives loss 0 (and
            zero gradient) instead of `inf`. Either way no NaN appears.

    Returns:
        float32 losses of shape `(batch,)`.

    Example:

    >>> import numpy as np
    >>> logits = np.zeros((1, 3, 3), "float32")  # uniform over 3 classes, 3 frames
    >>> round(float(ctc_loss(np.array([[1, 2]]), logits)[0]), 4)  # -log(5/27)
    1.6864
    """
    y_pred = ops.convert_to_tensor(y_pred)
    if len(y_pred.shape) != 3:
        raise ValueError(
            "CTC expects y_pred of shape (batch, time, num_classes). "
            f"Received: y_pred.shape={tuple(y_pred.shape)}."
        )
    labels = ops.convert_to_tensor(y_true)
    if len(labels.shape) != 2:
        raise ValueError(
            "CTC expects y_true of integer labels with shape (batch, max_label_length), "
            f"padded with pad_value={pad_value}. Received: y_true.shape={tuple(labels.shape)}."
        )
    num_classes = y_pred.shape[-1]
    _check_blank_index(blank_index, num_classes)
    labels = ops.cast(labels, "int32")
    log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
    batch = ops.shape(log_probs)[0]
    num_frames = ops.shape(log_probs)[1]
    max_label = ops.shape(labels)[1]

    if label_lengths is None:
        is_label = ops.not_equal(labels, pad_value)
        label_lengths = ops.sum(ops.cast(is_label, "int32"), axis=1)
    else:
        label_lengths = ops.cast(label_lengths, "int32")
        is_label = ops.arange(max_label)[None, :] < label_lengths[:, None]
    all_frames = input_lengths is None
    if all_frames:
        input_lengths = ops.full((batch,), num_frames, dtype="int32")
    input_lengths = ops.cast(input_lengths, "int32")
    labels = ops.where(is_label, labels, blank_index)

    # 1) The blank-extended label l' = (b, y1, b, y2, ..., yL, b): (batch, 2L + 1).
    blanks = ops.full_like(labels, blank_index)
    ext = ops.reshape(ops.stack([blanks, labels], axis=2), (batch, -1))
    ext = ops.concatenate([ext, blanks[:, :1]], axis=1)
    num_states = ops.shape(ext)[1]
    state = ops.arange(num_states)[None, :]

    # 2) Skip transitions s-2 -> s: into a label that differs from the one before it.
    prev2 = ops.concatenate([blanks[:, :1], blanks[:, :1], ext[:, :-2]], axis=1)
    skip = ops.logical_and(ops.not_equal(ext, blank_index), ops.not_equal(ext, prev2))
    skip = ops.logical_and(skip, state >= 2)

    # 3) Emissions log y_t(l'_s): (batch, time, states).
    index = ops.broadcast_to(ext[:, None, :], (batch, num_frames, num_states))
    emit = ops.take_along_axis(log_probs, index, axis=2)

    # 4) Before frame 0 all mass sits in state 0, so the first step starts paths in
    #    the first blank (s -> s) or the first label (s-1 -> s).
    alpha_init = ops.where(ops.equal(state, 0), 0.0, _NEG)
    alpha_init = ops.broadcast_to(ops.cast(alpha_init, "float32"), (batch, num_states))
    neg1 = ops.full((batch, 1), _NEG, dtype="float32")
    neg2 = ops.full((batch, 2), _NEG, dtype="float32")

    def step(alpha, emit_t):
        from_prev = ops.concatenate([neg1, alpha[:, :-1]], axis=1)
        from_skip = ops.where(skip, ops.concatenate([neg2, alpha[:, :-2]], axis=1), _NEG)
        return _logsumexp(alpha, from_prev, from_skip) + emit_t

    # 5) Recursion over frames 0 .. T-1; frames past an example's length are masked,
    #    leaving its forward variable unchanged.
    frames_valid = None if all_frames else ops.arange(num_frames)[None, :] < input_lengths[:, None]
    alpha = _run_recursion(step, emit, alpha_init, frames_valid)

    # 6) End in the last label or the final blank.
    last = ops.take_along_axis(alpha, (2 * label_lengths)[:, None], axis=1)[:, 0]
    before = ops.take_along_axis(alpha, ops.maximum(2 * label_lengths - 1, 0)[:, None], axis=1)
    before = ops.where(label_lengths > 0, before[:, 0], _NEG)
    log_likelihood = _logsumexp(last, before)

    # 7) Impossible alignments (including zero-length inputs with labels).
    empty_input = ops.equal(input_lengths, 0)
    log_likelihood = ops.where(
        empty_input, ops.where(ops.equal(label_lengths, 0), 0.0, _NEG), log_likelihood
    )
    impossible = log_likelihood < _IMPOSSIBLE
    loss = -log_likelihood
    return ops.where(impossible, 0.0 if zero_infinity else float("inf"), loss)


@keras.saving.register_keras_serializable(package="kzoo")
class CTCLoss(keras.losses.Loss):
    """CTC loss on padded labels and padded logits, lengths from masks and pad values.

    `y_true` holds integer labels `(batch, max_label_length)` padded at the end with
    `pad_value`; `y_pred` holds logits `(batch, time, num_classes)`. The number of
    valid frames of each example comes from the Keras mask of `y_pred` (as left by
    `Masking`, `Embedding(mask_zero=True)` or a mask-propagating model), else every
    frame counts. Per-example values are `ctc_loss`: the negative log-likelihood
    of the label under all alignments (Graves et al., 2006), equal to
    `torch.nn.functional.ctc_loss(..., reduction="none")`. The default Keras
    reduction averages them over the batch (torch's `"mean"` also divides each by
    its label length first).

    A label that cannot be aligned with its input (too few frames for its labels
    and repeats) has loss `inf` and zero gradient, or loss 0 with
    `zero_infinity=True`; there is never a NaN.

    Reference:
        Graves et al., "Connectionist Temporal Classification: Labelling
        Unsegmented Sequence Data with Recurrent Neural Networks", ICML 2006.

    Args:
        blank_index: int, the class id of the CTC blank (default 0).
        pad_value: int, the value padding `y_true` (default -1).
        zero_infinity: bool, replace infinite losses by 0 (default False).
        reduction: Keras reduction (default `"sum_over_batch_size"`).
        name: optional name.

    Example:

    >>> import numpy as np
    >>> loss = CTCLoss(blank_index=0, pad_value=-1)
    >>> y_true = np.array([[1, 2], [1, -1]])
    >>> y_pred = np.zeros((2, 3, 3), "float32")
    >>> [round(float(v), 4) for v in ops.convert_to_numpy(loss.call(y_true, y_pred))]
    [1.6864, 1.5041]
    """

    def __init__(
        self,
        blank_index=0,
        pad_value=-1,
        zero_infinity=False,
        reduction="sum_over_batch_size",
        name="ctc",
        dtype=None,
    ):
        _check_blank_index(blank_index)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.blank_index = blank_index
        self.pad_value = pad_value
        self.zero_infinity = zero_infinity

    def call(self, y_true, y_pred, input_lengths=None):
        return ctc_loss(
            y_true,
            y_pred,
            input_lengths=input_lengths,
            blank_index=self.blank_index,
            pad_value=self.pad_value,
            zero_infinity=self.zero_infinity,
        )

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Keras's base class would apply the (batch, time) mask to (batch,) losses;
        # for CTC the mask means input lengths instead.
        mask = keras_mask(y_pred)
        lengths = None if mask is None else ops.sum(ops.cast(mask, "int32"), axis=1)
        with keras.name_scope(self.name):
            losses = self.call(y_true, y_pred, input_lengths=lengths)
            return reduce_losses(losses, sample_weight, self.reduction)

    def get_config(self):
        return {
            **super().get_config(),
            "blank_index": self.blank_index,
            "pad_value": self.pad_value,
            "zero_infinity": self.zero_infinity,
        }


def _lengths(logits, lengths):
    if lengths is not None:
        return ops.cast(lengths, "int32")
    mask = keras_mask(logits)
    if mask is not None:
        return ops.sum(ops.cast(mask, "int32"), axis=1)
    shape = ops.shape(logits)
    return ops.full((shape[0],), shape[1], dtype="int32")


def _to_lists(decoded):
    decoded = np.asarray(ops.convert_to_numpy(decoded))
    return [[int(v) for v in row if v >= 0] for row in decoded]


def ctc_decode(logits, lengths=None, strategy="greedy", blank_index=0, beam_width=16, top_paths=1):
    """Decodes CTC logits into per-example token lists (blanks and repeats removed).

    Wraps `keras.ops.ctc_decode`. Lengths come from `lengths`, else the Keras mask
    of `logits`, else every frame counts.

    Args:
        logits: `(batch, time, num_classes)` logits.
        lengths: optional `(batch,)` valid frames.
        strategy: `"greedy"` (best path) or `"beam_search"`.
        blank_index: int, the blank class.
        beam_width: int, beams kept by beam search.
        top_paths: int, hypotheses returned by beam search.

    Returns:
        `strategy="greedy"` or `top_paths=1`: a list (one per example) of lists of
        ints. Otherwise a list (one per example) of `top_paths` such lists, best first.

    Example:

    >>> import numpy as np
    >>> logits = np.log(np.array([[[.1, .9, 0], [.1, .9, 0], [.9, .1, 0], [.1, 0, .9]]]) + 1e-6)
    >>> ctc_decode(logits.astype("float32"))
    [[1, 2]]
    """
    check_choice("strategy", strategy, ["greedy", "beam_search"])
    logits = ops.convert_to_tensor(logits)
    _check_blank_index(blank_index, logits.shape[-1])
    if int(beam_width) < 1 or int(top_paths) < 1 or int(top_paths) > int(beam_width):
        raise ValueError(
            "Arguments `beam_width` and `top_paths` must satisfy 1 <= top_paths <= beam_width. "
            f"Received: beam_width={beam_width}, top_paths={top_paths}."
        )
    lengths = _lengths(logits, lengths)
    decoded, _ = ops.ctc_decode(
        ops.cast(logits, "float32"),
        lengths,
        strategy=strategy,
        beam_width=int(beam_width),
        top_paths=int(top_paths) if strategy == "beam_search" else 1,
        mask_index=blank_index,
    )
    paths = [_to_lists(decoded[i]) for i in range(decoded.shape[0])]
    if len(paths) == 1:
        return paths[0]
    return [[paths[k][b] for k in range(len(paths))] for b in range(len(paths[0]))]


def ctc_greedy_decode(logits, lengths=None, blank_index=0):
    """Best-path decoding: argmax per frame, merge repeats, drop blanks.

    Example:

    >>> import numpy as np
    >>> logits = np.eye(3, dtype="float32")[[1, 1, 0, 1, 2]][None]
    >>> ctc_greedy_decode(logits)
    [[1, 1, 2]]
    """
    return ctc_decode(logits, lengths, "greedy", blank_index)


def ctc_beam_search_decode(logits, lengths=None, blank_index=0, beam_width=16, top_paths=1):
    """Prefix beam-search decoding; see `ctc_decode`.

    Example:

    >>> import numpy as np
    >>> logits = np.eye(3, dtype="float32")[[1, 1, 0, 1, 2]][None] * 5
    >>> ctc_beam_search_decode(logits, beam_width=4)
    [[1, 1, 2]]
    """
    return ctc_decode(logits, lengths, "beam_search", blank_index, beam_width, top_paths)
