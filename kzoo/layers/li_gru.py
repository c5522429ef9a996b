"""Light gated recurrent units: Li-GRU (Ravanelli et al. 2018) and SLi-GRU (Moumen & Parcollet 2023).

Both layers follow SpeechBrain's equations (`speechbrain.nnet.RNN.LiGRU_Layer` and
`SLiGRU_Layer`) so that SpeechBrain checkpoints port by transposing two matrices, and
both run their recurrence in `keras.layers.RNN` with a weightless cell, so they work on
every Keras backend and compile with XLA.
"""

from __future__ import annotations

import keras
from keras import ops

from kzoo.errors import check_choice

_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sin")
_NORMALIZATIONS = ("batch", "layer", None)

# SpeechBrain's normalizations: torch.nn.BatchNorm1d(momentum=0.05) and
# torch.nn.LayerNorm, both with torch's default epsilon.
_EPSILON = 1e-5
_BATCH_NORM_MOMENTUM = (
    0.95  # Keras keeps `momentum` of the old value; torch's 0.05 is the new value's share
)
_LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU's default slope

# Time steps per iteration of the recurrent loop. On TensorFlow each loop iteration
# pays for its control and TensorArray ops besides the step's own few small ones, so
# running 4 steps per iteration makes the Li-GRU training step about 20% faster on CPU
# (benchmarks/layers.py); 8 gains nothing more.
_STEPS_PER_ITERATION = 4


def _activation_fn(name):
    if name == "relu":
        return ops.relu
    if name == "leaky_relu":
        return lambda x: ops.leaky_relu(x, negative_slope=_LEAKY_SLOPE)
    if name == "tanh":
        return ops.tanh
    return ops.sin


class _StepCell(keras.layers.Layer):
    """Weightless cell for `keras.layers.RNN`: runs the step function its layer sets per call.

    One call of the cell advances `_STEPS_PER_ITERATION` time steps and outputs their
    states side by side.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.state_size = units
        self.output_size = _STEPS_PER_ITERATION * units
        self.step_fn = None

    def call(self, inputs, states):
        outputs, h = self.step_fn(states[0], inputs)
        return outputs, [h]


class _LightGRUBase(keras.layers.Layer):
    """Shared machinery of LiGRU and SLiGRU; subclasses only change the recurrent term."""

    def __init__(
        self,
        units,
        activation="relu",
        normalization="batch",
        use_bias=True,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        bidirectional=False,
        zero_output_for_mask=False,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        seed=None,
        **kwargs,
    ):
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(
                "Argument `units` must be a positive integer (the size of the hidden state). "
                f"Received: units={units!r}. Try units=256."
            )
        check_choice("activation", activation, _ACTIVATIONS)
        if normalization not in _NORMALIZATIONS:
            check_choice("normalization", normalization, ["batch", "layer", "None"])
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= float(rate) < 1.0:
                raise ValueError(
                    f"Argument `{name}` is the fraction of units dropped and must be in [0, 1). "
                    f"Received: {name}={rate!r}. Try {name}=0.15."
                )
        if bidirectional and go_backwards:
            raise ValueError(
                "Arguments `bidirectional=True` (both directions inside this layer, with tied "
                "weights) and `go_backwards=True` exclude each other. Received both. Use "
                "`bidirectional=True` alone, or wrap a `bidirectional=False` layer in "
                "`keras.layers.Bidirectional` for untied directions."
            )
        super().__init__(**kwargs)
        self.units = units
        self.activation = activation
        self.normalization = normalization
        self.use_bias = use_bias
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.bidirectional = bidirectional
        self.zero_output_for_mask = zero_output_for_mask
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.seed = seed
        self.supports_masking = True
        if self.dropout > 0 or self.recurrent_dropout > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.states = None

        # The normalization of W x_t; its beta is the layer's only bias, as in SpeechBrain.
        if normalization == "batch":
            self.norm = keras.layers.BatchNormalization(
                momentum=_BATCH_NORM_MOMENTUM,
                epsilon=_EPSILON,
                center=use_bias,
                dtype=self.dtype_policy,
                name="norm",
            )
        elif normalization == "layer":
            self.norm = keras.layers.LayerNormalization(
                epsilon=_EPSILON, center=use_bias, dtype=self.dtype_policy, name="norm"
            )
        else:
            self.norm = None
        self._rnn = keras.layers.RNN(
            _StepCell(units, dtype=self.dtype_policy, name="step"),
            return_sequences=True,
            return_state=True,
            dtype=self.dtype_policy,
            name="recurrence",
        )

    @property
    def _num_directions(self):
        return 2 if self.bidirectional else 1

    def _check_rank(self, shape):
        if len(shape) != 3:
            raise ValueError(
                f"{type(self).__name__} expects inputs of rank 3, (batch, time, features). "
                f"Received: input shape {tuple(shape)}. Reshape or pool the extra axes "
                "first (e.g. keras.layers.Reshape((time, -1)))."
            )

    def build(self, sequences_shape, initial_state_shape=None):
        self._check_rank(sequences_shape)
        input_dim = sequences_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"{type(self).__name__} needs a known feature size (the last input axis). "
                f"Received: input shape {tuple(sequences_shape)}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, 2 * self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, 2 * self.units),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
        )
        if self.norm is None and self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(2 * self.units,), initializer="zeros")
        else:
            self.bias = None
        if self.norm is not None:
            self.norm.build((None, None, 2 * self.units))
        self._rnn.build((sequences_shape[0], None, _STEPS_PER_ITERATION * (2 * self.units + 1)))
        self._build_recurrent_norm()
        if self.stateful:
            batch = sequences_shape[0]
            if batch is None:
                raise ValueError(
                    "A stateful layer needs a fixed batch size to keep its state between "
                    "calls. Received: input shape with batch size None. Pass "
                    "`batch_shape=(batch, time, features)` to `keras.Input`."
                )
            self.states = [
                self.add_weight(
                    name=f"state_{i}",
                    shape=(batch, self.units),
                    initializer="zeros",
                    trainable=False,
                )
                for i in range(self._num_directions)
            ]

    def _build_recurrent_norm(self):
        pass

    def _recurrent_fn(self, recurrent_kernel):
        """The recurrent term U h_{t-1} as a function of h; weights are read here, outside the loop."""
        return lambda h: ops.matmul(h, recurrent_kernel)

    def reset_state(self):
        """Sets a stateful layer's state back to zeros."""
        if self.states is not None:
            for state in self.states:
                state.assign(ops.zeros(state.shape, state.dtype))

    def reset_states(self):
        """Alias of `reset_state`, as Keras's recurrent layers have."""
        self.reset_state()

    def call(self, sequences, initial_state=None, mask=None, training=None):
        self._check_rank(sequences.shape)
        batch = ops.shape(sequences)[0]
        dtype = self.compute_dtype
        if mask is not None:
            mask = ops.cast(mask, "bool")

        if training and self.dropout > 0:
            # One input dropout mask per sequence (variational dropout, Gal & Ghahramani 2016).
            keep = ops.ones((batch, 1, ops.shape(sequences)[-1]), dtype)
            sequences = sequences * keras.random.dropout(
                keep, self.dropout, seed=self.seed_generator
            )

        # w_t = Norm(W x_t) for every t in one matmul, outside the recurrence.
        w = ops.matmul(sequences, ops.cast(self.kernel, dtype))  # (batch, time, 2 * units)
        if self.norm is not None:
            if isinstance(self.norm, keras.layers.BatchNormalization):
                w = self.norm(w, training=training, mask=mask)
            else:
                w = self.norm(w)
        elif self.bias is not None:
            w = w + ops.cast(self.bias, dtype)
        w = ops.cast(w, dtype)

        if self.go_backwards:
            w = ops.flip(w, axis=1)
            if mask is not None:
                mask = ops.flip(mask, axis=1)

        # Initial states: given, kept (stateful) or zeros (SpeechBrain's h_init).
        if initial_state is not None:
            states = (
                list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            )
            if len(states) != self._num_directions:
                raise ValueError(
                    f"{type(self).__name__} expects {self._num_directions} initial state(s) of "
                    f"shape (batch, {self.units}). Received: {len(states)} state(s)."
                )
            states = [ops.cast(s, dtype) for s in states]
        elif self.stateful:
            states = [ops.cast(s, dtype) for s in self.states]
        else:
            states = [ops.zeros((batch, self.units), dtype)] * self._num_directions

        # Tied directions run as one recurrence over a doubled batch, as SpeechBrain does.
        if self.bidirectional:
            w = ops.concatenate([w, ops.flip(w, axis=1)], axis=0)
            if mask is not None:
                mask = ops.concatenate([mask, ops.flip(mask, axis=1)], axis=0)
            h0 = ops.concatenate(states, axis=0)
        else:
            h0 = states[0]
        run_batch = ops.shape(w)[0]

        drop = None
        if training and self.recurrent_dropout > 0:
            # One mask per sequence on the candidate, h~_t = act(a_t) * m.
            drop = keras.random.dropout(
                ops.ones((run_batch, self.units), dtype),
                self.recurrent_dropout,
                seed=self.seed_generator,
            )

        last, outputs = self._scan(w, h0, mask, drop, training)

        if self.bidirectional:
            last_f, last_b = last[:batch], last[batch:]
            final_states = [last_f, last_b]
            if self.return_sequences:
                outputs = ops.concatenate(
                    [outputs[:batch], ops.flip(outputs[batch:], axis=1)], axis=-1
                )
            else:
                outputs = ops.concatenate([last_f, last_b], axis=-1)
        else:
            final_states = [last]
            if not self.return_sequences:
                outputs = last

        if self.stateful:
            for variable, value in zip(self.states, final_states):
                variable.assign(ops.cast(value, variable.dtype))
        if self.return_state:
            return (outputs, *final_states)
        return outputs

    def _scan(self, w, h0, mask, drop, training):
        """Runs h_t = z_t h_{t-1} + (1 - z_t) act(a_t) m over time; returns (last, sequence)."""
        units, k = self.units, _STEPS_PER_ITERATION
        dtype = self.compute_dtype
        recurrent = self._recurrent_fn(ops.cast(self.recurrent_kernel, dtype))
        act = _activation_fn(self.activation)
        batch, length = ops.shape(w)[0], ops.shape(w)[1]

        # The loop takes k steps per iteration, so the sequence is padded to a multiple of
        # k; padded steps are masked out (they carry the state). The mask rides along as
        # k extra input features of each iteration.
        # Shapes are spelled out (no -1): JAX export needs them provable for a symbolic
        # length, and a batch of 0 has no -1 to infer.
        iterations = (length + k - 1) // k
        masked = mask is not None or w.shape[1] is None or w.shape[1] % k != 0
        if masked:
            keep = ops.ones((batch, length), dtype) if mask is None else ops.cast(mask, dtype)
            pad = iterations * k - length
            w = ops.pad(w, [[0, 0], [0, pad], [0, 0]])
            keep = ops.pad(keep, [[0, 0], [0, pad]])
            x = ops.concatenate(
                [
                    ops.reshape(w, (batch, iterations, k * 2 * units)),
                    ops.reshape(keep, (batch, iterations, k)),
                ],
                axis=-1,
            )
        else:
            x = ops.reshape(w, (batch, iterations, k * 2 * units))

        def step(h, x_t):
            if masked:
                *w_steps, keep_steps = ops.split(x_t, [2 * units * (i + 1) for i in range(k)], -1)
                keep_steps = ops.split(keep_steps > 0, k, axis=-1)
            else:
                w_steps = ops.split(x_t, k, axis=-1)
            outputs = []
            for i, w_i in enumerate(w_steps):
                # One add and one split rather than slices: on CPU the step's cost is
                # mostly per-op overhead.
                a, z = ops.split(w_i + recurrent(h), 2, axis=-1)
                z = ops.sigmoid(z)
                candidate = act(a)
                if drop is not None:
                    candidate = candidate * drop
                new = candidate + z * (h - candidate)  # = z h + (1 - z) candidate
                h = ops.where(keep_steps[i], new, h) if masked else new
                outputs.append(h)
            return ops.concatenate(outputs, axis=-1), h

        # keras.layers.RNN runs the loop: the same machinery as Keras's GRU (a bounded
        # while loop on TensorFlow, so XLA compiles it; lax.scan on JAX).
        self._rnn.cell.step_fn = step
        try:
            outputs, last = self._rnn(x, initial_state=[h0], training=training)
        finally:
            self._rnn.cell.step_fn = None  # drop the closure: it holds traced tensors
        outputs = ops.reshape(outputs, (batch, iterations * k, units))[:, :length]
        if mask is not None and self.zero_output_for_mask and self.return_sequences:
            outputs = ops.where(ops.expand_dims(mask, -1), outputs, ops.zeros_like(outputs))
        return last, outputs

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, time = sequences_shape[0], sequences_shape[1]
        features = self.units * self._num_directions
        output = (batch, time, features) if self.return_sequences else (batch, features)
        if self.return_state:
            return (output,) + ((batch, self.units),) * self._num_directions
        return output

    def compute_mask(self, sequences, mask=None):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return (output_mask,) + (None,) * self._num_directions
        return output_mask

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": self.activation,
                "normalization": self.normalization,
                "use_bias": self.use_bias,
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "stateful": self.stateful,
                "bidirectional": self.bidirectional,
                "zero_output_for_mask": self.zero_output_for_mask,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": keras.regularizers.serialize(self.recurrent_regularizer),
                "seed": self.seed,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kzoo")
class LiGRU(_LightGRUBase):
    """Light gated recurrent unit (Li-GRU) layer.

    Li-GRU drops the GRU's reset gate, replaces tanh by ReLU and normalizes the
    input projection. With `Norm` a batch or layer normalization, `act` the
    activation and `m` a recurrent dropout mask drawn once per sequence:

    ```
    w_t       = Norm(W x_t)                      (all t at once, outside the loop)
    [a_t; z_t] = w_t + U h_{t-1}
    z_t       = sigmoid(z_t)
    h~_t      = act(a_t) * m
    h_t       = z_t * h_{t-1} + (1 - z_t) * h~_t,     h_0 = 0
    ```

    These are SpeechBrain's equations (`speechbrain.nnet.RNN.LiGRU`), which add no
    bias to `W x_t`: the normalization's `beta` is the bias. `kernel` is
    SpeechBrain's `w.weight` transposed, `recurrent_kernel` its `u.weight`
    transposed, columns ordered `[candidate | update gate]`, and the batch norm uses
    torch's defaults (epsilon 1e-5, momentum 0.95 in Keras terms), so SpeechBrain
    checkpoints port with two transposes. SpeechBrain's `dropout` is this layer's
    `recurrent_dropout`; `dropout` here drops inputs (one mask per sequence), as in
    Keras's recurrent layers. SpeechBrain falls back to layer norm for any
    normalization name but "batchnorm"; use `normalization="layer"` to match that.

    `bidirectional=True` runs both directions inside the layer with the same
    weights, as SpeechBrain's bidirectional Li-GRU does, and concatenates them
    (`2 * units` features). For untied directions wrap a layer in
    `keras.layers.Bidirectional`. Masked time steps carry the previous state.

    Reference:
    - [Ravanelli et al., 2018. Light Gated Recurrent Units for Speech
      Recognition](https://arxiv.org/abs/1803.10225)

    Args:
        units: int, size of the hidden state.
        activation: `"relu"` (default), `"leaky_relu"` (slope 0.01), `"tanh"` or
            `"sin"`, applied to the candidate state.
        normalization: `"batch"` (default), `"layer"` or `None`, applied to the
            input projection over its `2 * units` features.
        use_bias: bool, whether the normalization has a learned offset `beta`
            (or, with `normalization=None`, whether a bias is added). Default True.
        dropout: float in [0, 1), fraction of input features dropped, one mask per
            sequence. Default 0.
        recurrent_dropout: float in [0, 1), fraction of candidate units dropped,
            one mask per sequence (SpeechBrain's `dropout`). Default 0.
        return_sequences: bool, return every step's output instead of the last.
        return_state: bool, also return the final state(s).
        go_backwards: bool, process the sequence backwards and return the reversed
            sequence (as Keras's recurrent layers do).
        stateful: bool, keep the final state of batch item i as the initial state
            of batch item i in the next call. Needs a fixed batch size.
        bidirectional: bool, run both directions with tied weights. Default False.
        zero_output_for_mask: bool, output zeros at masked steps (with
            `return_sequences`) instead of the carried state. Default False.
        kernel_initializer: initializer of `kernel`. Default "glorot_uniform".
        recurrent_initializer: initializer of `recurrent_kernel`. Default "orthogonal".
        kernel_regularizer: regularizer of `kernel`. Default None.
        recurrent_regularizer: regularizer of `recurrent_kernel`. Default None.
        seed: int, seed of the dropout masks. Default None.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        sequences: float tensor `(batch, time, features)`.
        initial_state: optional tensor, or list of 2 with `bidirectional`, of shape
            `(batch, units)`.
        mask: optional boolean tensor `(batch, time)`; False steps are skipped.
        training: bool, training mode (dropout, batch statistics).

    Input shape:
        `(batch, time, features)`.

    Output shape:
        `(batch, time, units * d)` with `return_sequences`, else `(batch, units * d)`,
        with `d = 2` when `bidirectional` else 1; with `return_state`, followed by
        `d` states of shape `(batch, units)`.

    Example:

    >>> import numpy as np
    >>> import kzoo
    >>> x = np.random.default_rng(0).normal(size=(2, 7, 5)).astype("float32")
    >>> tuple(kzoo.layers.LiGRU(8, return_sequences=True)(x).shape)
    (2, 7, 8)
    >>> tuple(kzoo.layers.LiGRU(8, bidirectional=True)(x).shape)
    (2, 16)
    """


@keras.saving.register_keras_serializable(package="kzoo")
class SLiGRU(_LightGRUBase):
    """Stabilised light gated recurrent unit (SLi-GRU) layer.

    SLi-GRU is a Li-GRU whose recurrent projection is layer-normalized, which keeps
    its recurrent gradients from exploding on long or large speech corpora:

    ```
    w_t        = Norm(W x_t)                      (all t at once, outside the loop)
    [a_t; z_t] = w_t + LayerNorm(U h_{t-1})
    z_t        = sigmoid(z_t)
    h~_t       = act(a_t) * m
    h_t        = z_t * h_{t-1} + (1 - z_t) * h~_t,     h_0 = 0
    ```

    These are SpeechBrain's equations (`speechbrain.nnet.RNN.SLiGRU`): the
    recurrent layer norm has epsilon 1e-5 and no learned scale or offset unless
    `recurrent_elementwise_affine=True`. Every other argument, the weight layout
    and the porting notes are those of `kzoo.layers.LiGRU`.

    Reference:
    - [Moumen & Parcollet, 2023. Stabilising and accelerating light gated
      recurrent units for automatic speech recognition](https://arxiv.org/abs/2302.10144)

    Args:
        units: int, size of the hidden state.
        recurrent_elementwise_affine: bool, give the recurrent layer norm a learned
            scale `recurrent_gamma` and offset `recurrent_beta`. Default False.
        **kwargs: every other argument of `kzoo.layers.LiGRU`.

    Call arguments:
        As `kzoo.layers.LiGRU`.

    Input shape:
        `(batch, time, features)`.

    Output shape:
        As `kzoo.layers.LiGRU`.

    Example:

    >>> import numpy as np
    >>> import kzoo
    >>> x = np.random.default_rng(0).normal(size=(2, 7, 5)).astype("float32")
    >>> tuple(kzoo.layers.SLiGRU(8, return_sequences=True)(x).shape)
    (2, 7, 8)
    """

    def __init__(self, units, recurrent_elementwise_affine=False, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_elementwise_affine = recurrent_elementwise_affine

    def _build_recurrent_norm(self):
        if self.recurrent_elementwise_affine:
            self.recurrent_gamma = self.add_weight(
                name="recurrent_gamma", shape=(2 * self.units,), initializer="ones"
            )
            self.recurrent_beta = self.add_weight(
                name="recurrent_beta", shape=(2 * self.units,), initializer="zeros"
            )

    def _recurrent_fn(self, recurrent_kernel):
        dtype = keras.backend.standardize_dtype(recurrent_kernel.dtype)
        # Normalize in float32 under mixed precision so the variance stays accurate.
        norm_dtype = "float32" if dtype in ("float16", "bfloat16") else dtype
        if self.recurrent_elementwise_affine:
            gamma = ops.cast(self.recurrent_gamma, norm_dtype)
            beta = ops.cast(self.recurrent_beta, norm_dtype)

        def recurrent(h):
            r = ops.cast(ops.matmul(h, recurrent_kernel), norm_dtype)
            centered = r - ops.mean(r, axis=-1, keepdims=True)
            variance = ops.mean(ops.square(centered), axis=-1, keepdims=True)
            r = centered * ops.rsqrt(variance + _EPSILON)
            if self.recurrent_elementwise_affine:
                r = r * gamma + beta
            return ops.cast(r, dtype)

        return recurrent

    def get_config(self):
        config = super().get_config()
        config["recurrent_elementwise_affine"] = self.recurrent_elementwise_affine
        return config
