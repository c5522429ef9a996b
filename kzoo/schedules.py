"""Learning-rate schedules: step-based `keras.optimizers.schedules.LearningRateSchedule`s.

Every schedule here is a function of the optimizer's step (`optimizer.iterations`, the
number of updates already made), written in `keras.ops` so it runs inside `fit` on every
backend and is saved with the optimizer in a `.keras` file. Schedules that are defined
per epoch (time, step and exponential decay, one value per epoch) take
`steps_per_epoch` and compute `epoch = step // steps_per_epoch`, so the rate changes
exactly at epoch boundaries without a callback.

Metric-driven schedules (newbob) depend on validation results and live in
`kzoo.callbacks` instead.

```yaml
schedule: {name: warmup_cosine_decay, peak_learning_rate: 0.001, warmup_steps: 100}
```
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import keras
from keras import ops

from kzoo import specs
from kzoo.errors import check_choice, is_number

# config name -> schedule class; epoch-based schedules take `steps_per_epoch`.
SCHEDULES: dict[str, type] = {}

_Schedule = keras.optimizers.schedules.LearningRateSchedule


def _register(name: str):
    def wrap(cls):
        cls = keras.saving.register_keras_serializable(package="kzoo")(cls)
        SCHEDULES[name] = cls
        return cls

    return wrap


# ---------------------------------------------------------------------------
# Argument checks shared by the schedules.


def _check_rate(owner: str, name: str, value: Any, allow_zero: bool = False) -> float:
    if not is_number(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "zero or a positive number" if allow_zero else "a positive number"
        raise ValueError(
            f"Argument `{name}` of {owner} must be {bound}. Received: {name}={value!r}. "
            "Learning rates are usually between 1e-5 and 1.0, e.g. 0.001."
        )
    return float(value)


def _check_non_negative(owner: str, name: str, value: Any) -> float:
    if not is_number(value) or value < 0:
        raise ValueError(
            f"Argument `{name}` of {owner} must be zero or a positive number. "
            f"Received: {name}={value!r}. Use e.g. 0.1 (0 turns the decay off)."
        )
    return value


def _check_steps(owner: str, name: str, value: Any, allow_zero: bool = False) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        if isinstance(value, float) and value.is_integer() and value > 0:
            return int(value)
        bound = "a non-negative integer" if allow_zero else "a positive integer"
        raise ValueError(
            f"Argument `{name}` of {owner} must be {bound} (a number of optimizer steps). "
            f"Received: {name}={value!r}."
        )
    return value


def _float_step(step):
    return ops.cast(step, "float32")


def _epoch(step, steps_per_epoch: int):
    """The 0-based epoch of a step, as float32: `step // steps_per_epoch`, exact in integers."""
    whole = ops.floor_divide(ops.cast(step, "int32"), steps_per_epoch)
    return ops.cast(whole, "float32")


# ---------------------------------------------------------------------------
# Epoch-based decays.


@_register("time_decay")
class TimeDecay(_Schedule):
    """Time-based decay: the rate shrinks like `1 / (1 + decay * epoch)`.

    `lr(epoch) = initial_learning_rate / (1 + decay * epoch)`, with
    `epoch = step // steps_per_epoch`, so the rate is constant within an epoch. This is the
    per-epoch form of the classic "time-based" decay of Keras 2's `decay` argument and of
    SpeechBrain's `time_decay` helper.

    Reference:
        Darken, Chang and Moody, "Learning rate schedules for faster stochastic gradient
        search", IEEE NNSP 1992 (search-then-converge schedules).

    Args:
        initial_learning_rate: float > 0, the rate during epoch 0.
        decay: float >= 0, how fast the rate shrinks per epoch.
        steps_per_epoch: int > 0, optimizer steps in one epoch.

    Example:

    >>> import kzoo
    >>> sched = kzoo.schedules.TimeDecay(1.0, decay=1.0, steps_per_epoch=10)
    >>> [round(float(sched(s)), 4) for s in (0, 9, 10, 20, 30)]
    [1.0, 1.0, 0.5, 0.3333, 0.25]
    """

    def __init__(self, initial_learning_rate, decay, steps_per_epoch):
        super().__init__()
        owner = "TimeDecay"
        self.initial_learning_rate = _check_rate(
            owner, "initial_learning_rate", initial_learning_rate
        )
        self.decay = _check_non_negative(owner, "decay", decay)
        self.steps_per_epoch = _check_steps(owner, "steps_per_epoch", steps_per_epoch)

    def __call__(self, step):
        epoch = _epoch(step, self.steps_per_epoch)
        return self.initial_learning_rate / (1.0 + self.decay * epoch)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay": self.decay,
            "steps_per_epoch": self.steps_per_epoch,
        }


@_register("step_decay")
class StepDecay(_Schedule):
    """Step decay: the rate is multiplied by `factor` every `drop` epochs.

    `lr(epoch) = initial_learning_rate * factor ** floor((1 + epoch) / drop)` with the
    0-based `epoch = step // steps_per_epoch`. This is SpeechBrain's `StepScheduler`
    (`speechbrain.nnet.schedulers`, "step_decay"): with the defaults the rate halves after
    epochs 1, 3, 5, ... (0-based 1, 3, 5 are the 2nd, 4th and 6th epochs).

    Reference:
        SpeechBrain `StepScheduler`, Ravanelli et al., "SpeechBrain: A General-Purpose
        Speech Toolkit", arXiv:2106.04624, 2021.

    Args:
        initial_learning_rate: float > 0.
        factor: float > 0, multiplier applied at each drop (0.5 halves the rate).
        drop: float > 0, epochs between drops.
        steps_per_epoch: int > 0, optimizer steps in one epoch (keyword only).

    Example:

    >>> import kzoo
    >>> sched = kzoo.schedules.StepDecay(1.0, factor=0.5, drop=2, steps_per_epoch=10)
    >>> [round(float(sched(10 * epoch)), 4) for epoch in range(5)]
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, initial_learning_rate, factor=0.5, drop=2, *, steps_per_epoch):
        super().__init__()
        owner = "StepDecay"
        self.initial_learning_rate = _check_rate(
            owner, "initial_learning_rate", initial_learning_rate
        )
        if not is_number(factor) or factor <= 0:
            raise ValueError(
                f"Argument `factor` of StepDecay must be a positive number (0.5 halves the "
                f"rate at each drop). Received: factor={factor!r}."
            )
        if not is_number(drop) or drop <= 0:
            raise ValueError(
                f"Argument `drop` of StepDecay must be a positive number of epochs between "
                f"drops. Received: drop={drop!r}. Use e.g. 2."
            )
        self.factor = factor
        self.drop = drop
        self.steps_per_epoch = _check_steps(owner, "steps_per_epoch", steps_per_epoch)

    def __call__(self, step):
        epoch = _epoch(step, self.steps_per_epoch)
        drops = ops.floor((1.0 + epoch) / float(self.drop))
        return self.initial_learning_rate * ops.power(float(self.factor), drops)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "factor": self.factor,
            "drop": self.drop,
            "steps_per_epoch": self.steps_per_epoch,
        }


@_register("exp_decay")
class ExpDecay(_Schedule):
    """Exponential decay per epoch: `lr(epoch) = initial_learning_rate * exp(-decay * epoch)`.

    `epoch = step // steps_per_epoch`, so the rate is constant within an epoch (Keras's
    `ExponentialDecay` decays per step instead).

    Reference:
        Bengio, "Practical recommendations for gradient-based training of deep
        architectures", arXiv:1206.5533, 2012.

    Args:
        initial_learning_rate: float > 0, the rate during epoch 0.
        decay: float >= 0, the exponential rate per epoch.
        steps_per_epoch: int > 0, optimizer steps in one epoch.

    Example:

    >>> import kzoo
    >>> sched = kzoo.schedules.ExpDecay(1.0, decay=0.5, steps_per_epoch=4)
    >>> [round(float(sched(s)), 4) for s in (0, 3, 4, 8)]
    [1.0, 1.0, 0.6065, 0.3679]
    """

    def __init__(self, initial_learning_rate, decay, steps_per_epoch):
        super().__init__()
        owner = "ExpDecay"
        self.initial_learning_rate = _check_rate(
            owner, "initial_learning_rate", initial_learning_rate
        )
        self.decay = _check_non_negative(owner, "decay", decay)
        self.steps_per_epoch = _check_steps(owner, "steps_per_epoch", steps_per_epoch)

    def __call__(self, step):
        epoch = _epoch(step, self.steps_per_epoch)
        return self.initial_learning_rate * ops.exp(-float(self.decay) * epoch)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay": self.decay,
            "steps_per_epoch": self.steps_per_epoch,
        }


@_register("per_epoch")
class PerEpoch(_Schedule):
    """An explicit list of rates, one per epoch: `lr(epoch) = values[epoch]`.

    `epoch = step // steps_per_epoch`. When the run's epoch count is known (the training
    runner passes `epochs`, or call `check_epochs(epochs)`), a list shorter than the run
    is rejected up front. Steps past the end of the list (a run extended later, without
    that check) keep the last value.

    Args:
        values: list of floats > 0, the rate of epoch 0, 1, 2, ...
        steps_per_epoch: int > 0, optimizer steps in one epoch.
        epochs: optional int, the planned number of epochs; `values` must cover it.

    Example:

    >>> import kzoo
    >>> sched = kzoo.schedules.PerEpoch([0.1, 0.05, 0.01], steps_per_epoch=5)
    >>> [round(float(sched(s)), 4) for s in (0, 4, 5, 10, 14)]
    [0.1, 0.1, 0.05, 0.01, 0.01]
    """

    def __init__(self, values, steps_per_epoch, epochs=None):
        super().__init__()
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(
                "Argument `values` of PerEpoch must be a non-empty list of learning rates, one "
                f"per epoch. Received: values={values!r}. Use e.g. [0.1, 0.1, 0.05]."
            )
        self.values = [
            _check_rate("PerEpoch", f"values[{i}]", value) for i, value in enumerate(values)
        ]
        self.steps_per_epoch = _check_steps("PerEpoch", "steps_per_epoch", steps_per_epoch)
        self.epochs = None if epochs is None else self.check_epochs(epochs)

    def check_epochs(self, epochs) -> int:
        """Raises a ValueError unless `values` has a rate for each of `epochs` epochs."""
        epochs = _check_steps("PerEpoch", "epochs", epochs)
        if len(self.values) < epochs:
            raise ValueError(
                f"PerEpoch has {len(self.values)} learning rates in `values` but the run has "
                f"{epochs} epochs. Received: values={self.values}, epochs={epochs}. Give one "
                f"value per epoch ({epochs - len(self.values)} more), or train for "
                f"{len(self.values)} epochs."
            )
        return epochs

    def __call__(self, step):
        table = ops.convert_to_tensor(self.values, dtype="float32")
        index = ops.minimum(
            ops.cast(_epoch(step, self.steps_per_epoch), "int32"), len(self.values) - 1
        )
        return ops.take(table, index)

    def get_config(self):
        return {
            "values": list(self.values),
            "steps_per_epoch": self.steps_per_epoch,
            "epochs": self.epochs,
        }


# ---------------------------------------------------------------------------
# Step-based warm-up schedules.


def _check_warmup_decay(owner, peak, warmup_steps, decay_steps, initial, final):
    peak = _check_rate(owner, "peak_learning_rate", peak)
    warmup_steps = _check_steps(owner, "warmup_steps", warmup_steps, allow_zero=True)
    decay_steps = _check_steps(owner, "decay_steps", decay_steps)
    initial = _check_rate(owner, "initial_learning_rate", initial, allow_zero=True)
    final = _check_rate(owner, "final_learning_rate", final, allow_zero=True)
    if final > peak:
        raise ValueError(
            f"Argument `final_learning_rate` of {owner} must not exceed `peak_learning_rate`: "
            f"the schedule decays from the peak to the final rate. Received: "
            f"final_learning_rate={final}, peak_learning_rate={peak}."
        )
    return peak, warmup_steps, decay_steps, initial, final


def _warmup(step, initial, peak, warmup_steps):
    """Linear ramp from `initial` (step 0) to `peak` (step `warmup_steps`)."""
    return initial + (peak - initial) * step / float(max(warmup_steps, 1))


class _WarmupDecay(_Schedule):
    """Linear warm-up from an initial rate to a peak, then a decay curve to a final rate.

    Subclasses give the curve: `_remaining(t)`, the share of `peak - final` left at
    decay progress `t` in [0, 1] (1 at the peak, 0 at the final rate).
    """

    def __init__(
        self,
        peak_learning_rate,
        warmup_steps,
        decay_steps,
        initial_learning_rate=0.0,
        final_learning_rate=0.0,
    ):
        super().__init__()
        (
            self.peak_learning_rate,
            self.warmup_steps,
            self.decay_steps,
            self.initial_learning_rate,
            self.final_learning_rate,
        ) = _check_warmup_decay(
            type(self).__name__,
            peak_learning_rate,
            warmup_steps,
            decay_steps,
            initial_learning_rate,
            final_learning_rate,
        )

    def _remaining(self, t):
        raise NotImplementedError

    def __call__(self, step):
        s = _float_step(step)
        peak, final = self.peak_learning_rate, self.final_learning_rate
        # 1) linear warm-up from the initial rate to the peak
        warm = _warmup(s, self.initial_learning_rate, peak, self.warmup_steps)
        # 2) the decay curve from the peak to the final rate; 3) the final rate afterwards
        t = ops.clip((s - self.warmup_steps) / float(self.decay_steps), 0.0, 1.0)
        decay = final + (peak - final) * self._remaining(t)
        return ops.where(s < self.warmup_steps, warm, decay)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay_steps": self.decay_steps,
            "initial_learning_rate": self.initial_learning_rate,
            "final_learning_rate": self.final_learning_rate,
        }


@_register("warmup_linear_decay")
class WarmupLinearDecay(_WarmupDecay):
    """Linear warm-up to a peak, then linear decay to a final rate.

    With `s` the optimizer step:

    1. warm-up, `s < warmup_steps`: `lr = initial + (peak - initial) * s / warmup_steps`;
    2. decay, `warmup_steps <= s < warmup_steps + decay_steps`:
       `lr = peak + (final - peak) * (s - warmup_steps) / decay_steps`;
    3. after, `lr = final`.

    Reference:
        Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour",
        arXiv:1706.02677, 2017 (gradual warm-up); Devlin et al., "BERT", arXiv:1810.04805,
        2018 (warm-up then linear decay).

    Args:
        peak_learning_rate: float > 0, the rate at the end of warm-up.
        warmup_steps: int >= 0, steps of the warm-up (0 starts at the peak).
        decay_steps: int > 0, steps of the decay after the warm-up.
        initial_learning_rate: float >= 0, the rate at step 0.
        final_learning_rate: float >= 0, at most the peak; the rate after the decay.

    Example:

    >>> import kzoo
    >>> sched = kzoo.schedules.WarmupLinearDecay(1.0, warmup_steps=2, decay_steps=4, final_learning_rate=0.2)
    >>> [round(float(sched(s)), 4) for s in range(8)]
    [0.0, 0.5, 1.0, 0.8, 0.6, 0.4, 0.2, 0.2]
    """

    def _remaining(self, t):
        return 1.0 - t


@_register("warmup_cosine_decay")
class WarmupCosineDecay(_WarmupDecay):
    """Linear warm-up to a peak, then half-cosine decay to a final rate (SGDR without restarts).

    With `s` the optimizer step:

    1. warm-up, `s < warmup_steps`: `lr = initial + (peak - initial) * s / warmup_steps`;
    2. decay, with `t = min(s - warmup_steps, decay_steps) / decay_steps`:
       `lr = final + (peak - final) * (1 + cos(pi * t)) / 2`;
    3. after `warmup_steps + decay_steps` steps, `t = 1` holds the final rate.

    It equals `keras.optimizers.schedules.CosineDecay(initial_learning_rate, decay_steps,
    alpha=final / peak, warmup_target=peak, warmup_steps=warmup_steps)` at every step,
    written in terms of rates rather than fractions.

    Reference:
        Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
        ICLR 2017 (arXiv:1608.03983); Goyal et al., arXiv:1706.02677 (warm-up).

    Args:
        peak_learning_rate: float > 0, the rate at the end of warm-up.
        warmup_steps: int >= 0, steps of the warm-up (0 starts at the peak).
        decay_steps: int > 0, steps of the cosine decay after the warm-up.
        initial_learning_rate: float >= 0, the rate at step 0.
        final_learning_rate: float >= 0, at most the peak; the rate after the decay.

    Example:

    >>> import kzoo
    >>> sched = kzoo.schedules.WarmupCosineDecay(1.0, warmup_steps=2, decay_steps=4)
    >>> [round(float(sched(s)), 4) for s in range(8)]
    [0.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """

    def _remaining(self, t):
        return 0.5 * (1.0 + ops.cos(math.pi * t))


@_register("noam_decay")
class NoamDecay(_Schedule):
    """The Transformer's schedule: linear warm-up, then decay as `1 / sqrt(step)`.

    With `n = step + 1` (the number of the update being made, so the first update gets a
    non-zero rate):

    1. warm-up, `n <= warmup_steps`: `lr = peak * n / warmup_steps`;
    2. decay, `n > warmup_steps`: `lr = peak * sqrt(warmup_steps / n)`.

    That is `peak * min(n / w, sqrt(w / n))`, the paper's
    `d_model**-0.5 * min(n**-0.5, n * w**-1.5)` rescaled so its maximum, reached at update
    `w`, is `peak_learning_rate`, as in SpeechBrain's `NoamScheduler(lr_initial=peak)`.

    Reference:
        Vaswani et al., "Attention Is All You Need", NeurIPS 2017, section 5.3
        (arXiv:1706.03762).

    Args:
        peak_learning_rate: float > 0, the rate at update `warmup_steps`.
        warmup_steps: int > 0, updates of the linear warm-up.

    Example:

    >>> import kzoo
    >>> sched = kzoo.schedules.NoamDecay(1.0, warmup_steps=4)
    >>> [round(float(sched(s)), 4) for s in (0, 1, 3, 15)]
    [0.25, 0.5, 1.0, 0.5]
    """

    def __init__(self, peak_learning_rate, warmup_steps):
        super().__init__()
        self.peak_learning_rate = _check_rate("NoamDecay", "peak_learning_rate", peak_learning_rate)
        self.warmup_steps = _check_steps("NoamDecay", "warmup_steps", warmup_steps)

    def __call__(self, step):
        n = _float_step(step) + 1.0
        w = float(self.warmup_steps)
        # 1) linear warm-up, 2) inverse square-root decay: the smaller of the two
        return self.peak_learning_rate * ops.minimum(n / w, ops.sqrt(w / n))

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "warmup_steps": self.warmup_steps}


@_register("cyclic_lr")
class CyclicLR(_Schedule):
    """Cyclical learning rate: a triangle wave between a base and a maximum rate.

    With `s` the optimizer step and `step_size` the steps of half a cycle:

    1. `cycle = floor(1 + s / (2 * step_size))` (1-based);
    2. `x = |s / step_size - 2 * cycle + 1|`, the distance from the cycle's peak (0 to 1);
    3. `lr = base + (max - base) * max(0, 1 - x) * scale`, where `scale` is 1
       (`"triangular"`), `1 / 2**(cycle - 1)` (`"triangular2"`: the amplitude halves every
       cycle) or `gamma**s` (`"exp_range"`).

    Reference:
        Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017
        (arXiv:1506.01186).

    Args:
        base_learning_rate: float > 0, the rate at the start and end of each cycle.
        max_learning_rate: float > `base_learning_rate`, the rate at the top of the first
            cycle.
        step_size: int > 0, steps from base to top (half a cycle); the paper suggests 2 to
            10 epochs' worth.
        mode: `"triangular"`, `"triangular2"` or `"exp_range"`.
        gamma: float in (0, 1], the per-step amplitude factor of `"exp_range"`.

    Example:

    >>> import kzoo
    >>> sched = kzoo.schedules.CyclicLR(0.1, 1.0, step_size=2, mode="triangular2")
    >>> [round(float(sched(s)), 4) for s in range(9)]
    [0.1, 0.55, 1.0, 0.55, 0.1, 0.325, 0.55, 0.325, 0.1]
    """

    MODES = ("triangular", "triangular2", "exp_range")

    def __init__(
        self,
        base_learning_rate,
        max_learning_rate,
        step_size,
        mode="triangular",
        gamma=1.0,
    ):
        super().__init__()
        owner = "CyclicLR"
        self.base_learning_rate = _check_rate(owner, "base_learning_rate", base_learning_rate)
        self.max_learning_rate = _check_rate(owner, "max_learning_rate", max_learning_rate)
        if self.max_learning_rate <= self.base_learning_rate:
            raise ValueError(
                "Argument `max_learning_rate` of CyclicLR must be larger than "
                f"`base_learning_rate`. Received: base_learning_rate={base_learning_rate}, "
                f"max_learning_rate={max_learning_rate}. Swap them, or raise the maximum."
            )
        self.step_size = _check_steps(owner, "step_size", step_size)
        self.mode = check_choice("mode", mode, self.MODES)
        if not is_number(gamma) or not 0 < gamma <= 1:
            raise ValueError(
                "Argument `gamma` of CyclicLR must be in (0, 1], the per-step factor of the "
                f"'exp_range' amplitude. Received: gamma={gamma!r}. Use e.g. 0.99994."
            )
        self.gamma = gamma

    def __call__(self, step):
        s = _float_step(step)
        half = float(self.step_size)
        # 1) which cycle, counted from 1
        cycle = ops.floor(1.0 + s / (2.0 * half))
        # 2) position in the cycle: 1 at its ends, 0 at its top
        x = ops.abs(s / half - 2.0 * cycle + 1.0)
        # 3) amplitude policy
        if self.mode == "triangular":
            scale = 1.0
        elif self.mode == "triangular2":
            scale = ops.power(0.5, cycle - 1.0)
        else:
            scale = ops.power(float(self.gamma), s)
        height = self.max_learning_rate - self.base_learning_rate
        return self.base_learning_rate + height * ops.maximum(0.0, 1.0 - x) * scale

    def get_config(self):
        return {
            "base_learning_rate": self.base_learning_rate,
            "max_learning_rate": self.max_learning_rate,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
        }


# ---------------------------------------------------------------------------
# Schedules by name.

_DECAY_AFTER_WARMUP = ("warmup_linear_decay", "warmup_cosine_decay")


# SpeechBrain's names for kzoo's schedules: its hand-written per-epoch rates are `custom`.
ALIASES: dict[str, str] = {"custom": "per_epoch"}


def table() -> dict[str, type]:
    """Every schedule name a config may use: Keras's own (snake_case), kzoo's and the aliases.

    >>> import kzoo
    >>> kzoo.schedules.table()["custom"] is kzoo.schedules.PerEpoch
    True
    """
    keras_schedules = specs.classes_by_name(keras.optimizers.schedules, _Schedule)
    aliases = {alias: SCHEDULES[name] for alias, name in ALIASES.items()}
    return {**keras_schedules, **SCHEDULES, **aliases}


def get(spec: str | dict[str, Any], steps_per_epoch: int, epochs: int):
    """A schedule from a config spec; `steps_per_epoch` and `epochs` are filled in by the runner
    for schedules that take them.

    The warm-up schedules may leave out `decay_steps`: the decay then lasts the rest of
    the run, `steps_per_epoch * epochs - warmup_steps`.

    >>> import kzoo
    >>> sched = kzoo.schedules.get({"name": "step_decay", "initial_learning_rate": 0.1},
    ...                            steps_per_epoch=10, epochs=4)
    >>> type(sched).__name__, sched.steps_per_epoch
    ('StepDecay', 10)
    >>> kzoo.schedules.get({"name": "warmup_cosine_decay", "peak_learning_rate": 0.1,
    ...                     "warmup_steps": 5}, steps_per_epoch=10, epochs=4).decay_steps
    35
    """
    name, kwargs = specs.split(spec, "schedule")
    schedules = table()
    key = name.lower()
    cls = schedules.get(key)
    if cls is not None:
        accepted = inspect.signature(cls).parameters
        if "steps_per_epoch" in accepted and "steps_per_epoch" not in kwargs:
            kwargs["steps_per_epoch"] = steps_per_epoch
        if "epochs" in accepted and "epochs" not in kwargs:
            kwargs["epochs"] = epochs
        if key in _DECAY_AFTER_WARMUP and "decay_steps" not in kwargs:
            warmup = kwargs.get("warmup_steps", 0)
            total = steps_per_epoch * epochs
            if is_number(warmup) and total - warmup <= 0:
                raise ValueError(
                    f"Schedule {name!r} has no steps left to decay over: warmup_steps={warmup} "
                    f"but the run has {total} steps ({epochs} epochs of {steps_per_epoch}). "
                    "Lower `warmup_steps`, train longer, or set `decay_steps`."
                )
            kwargs["decay_steps"] = total - warmup if is_number(warmup) else total
    return specs.build({"name": name, **kwargs}, schedules, "schedule")
