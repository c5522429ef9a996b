"""kzoo.schedules: values against their formulas, SpeechBrain and Keras parity, saving, errors."""

import math
from pathlib import Path

import keras
import numpy as np
import pytest

from kzoo import optimizers, schedules
from kzoo.schedules import (
    CyclicLR,
    ExpDecay,
    NoamDecay,
    PerEpoch,
    StepDecay,
    TimeDecay,
    WarmupCosineDecay,
    WarmupLinearDecay,
)

GOLDEN = np.load(Path(__file__).with_name("golden") / "speechbrain_schedulers.npz")

# One instance of every kzoo schedule, with arguments that are not the defaults.
EXAMPLES = {
    "time_decay": TimeDecay(0.5, decay=0.3, steps_per_epoch=3),
    "step_decay": StepDecay(0.5, factor=0.3, drop=3, steps_per_epoch=2),
    "exp_decay": ExpDecay(0.5, decay=0.2, steps_per_epoch=4),
    "per_epoch": PerEpoch([0.3, 0.2, 0.1], steps_per_epoch=2, epochs=3),
    "warmup_linear_decay": WarmupLinearDecay(
        0.4, 3, 5, initial_learning_rate=0.1, final_learning_rate=0.01
    ),
    "warmup_cosine_decay": WarmupCosineDecay(
        0.4, 3, 5, initial_learning_rate=0.1, final_learning_rate=0.01
    ),
    "noam_decay": NoamDecay(0.01, warmup_steps=4),
    "cyclic_lr": CyclicLR(0.01, 0.1, step_size=3, mode="exp_range", gamma=0.9),
}

STEPS = np.arange(30)


def values(schedule, steps=STEPS):
    return np.array([float(keras.ops.convert_to_numpy(schedule(int(s)))) for s in steps])


def test_every_kzoo_schedule_is_registered_and_exampled():
    assert set(schedules.SCHEDULES) == set(EXAMPLES)
    for name, schedule in EXAMPLES.items():
        assert isinstance(schedule, schedules.SCHEDULES[name])


# ---------------------------------------------------------------------------
# Values against the formulas (numpy).


def test_time_decay_formula():
    epoch = STEPS // 3
    np.testing.assert_allclose(values(EXAMPLES["time_decay"]), 0.5 / (1 + 0.3 * epoch), rtol=1e-6)


def test_step_decay_formula():
    epoch = STEPS // 2
    expected = 0.5 * 0.3 ** np.floor((1 + epoch) / 3)
    np.testing.assert_allclose(values(EXAMPLES["step_decay"]), expected, rtol=1e-6)


def test_step_decay_matches_speechbrain_step_scheduler():
    initial, factor, drop = GOLDEN["step_decay_args"]
    reference = GOLDEN["step_decay"]  # the rate during each (0-based) epoch
    schedule = StepDecay(float(initial), factor=float(factor), drop=int(drop), steps_per_epoch=5)
    got = values(schedule, np.arange(len(reference)) * 5 + 4)  # last step of each epoch
    np.testing.assert_allclose(got, reference, rtol=1e-6)


def test_exp_decay_formula():
    epoch = STEPS // 4
    np.testing.assert_allclose(values(EXAMPLES["exp_decay"]), 0.5 * np.exp(-0.2 * epoch), rtol=1e-6)


def test_per_epoch_values_and_last_value_held():
    got = values(EXAMPLES["per_epoch"], np.arange(8))
    np.testing.assert_allclose(got, [0.3, 0.3, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1], rtol=1e-6)


def test_warmup_linear_decay_phases():
    got = values(EXAMPLES["warmup_linear_decay"], np.arange(12))
    warm = 0.1 + (0.4 - 0.1) * np.arange(3) / 3  # 1) warm-up
    decay = 0.4 + (0.01 - 0.4) * np.arange(5) / 5  # 2) decay
    after = np.full(4, 0.01)  # 3) final rate
    np.testing.assert_allclose(got, np.concatenate([warm, decay, after]), rtol=1e-6)


def test_warmup_cosine_decay_formula():
    s = np.arange(12)
    t = np.clip((s - 3) / 5, 0, 1)
    decay = 0.01 + (0.4 - 0.01) * 0.5 * (1 + np.cos(np.pi * t))
    expected = np.where(s < 3, 0.1 + 0.3 * s / 3, decay)
    np.testing.assert_allclose(values(EXAMPLES["warmup_cosine_decay"], s), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "peak, warmup, decay, initial, final",
    [(0.4, 3, 5, 0.1, 0.01), (1.0, 0, 7, 0.0, 0.0), (2e-3, 10, 40, 1e-5, 2e-4)],
)
def test_warmup_cosine_decay_equals_keras_cosine_decay(peak, warmup, decay, initial, final):
    ours = WarmupCosineDecay(peak, warmup, decay, initial, final)
    theirs = keras.optimizers.schedules.CosineDecay(
        initial, decay, alpha=final / peak, warmup_target=peak, warmup_steps=warmup
    )
    steps = np.arange(warmup + decay + 5)
    np.testing.assert_allclose(values(ours, steps), values(theirs, steps), rtol=1e-5, atol=1e-9)


def test_noam_decay_formula():
    n = STEPS + 1.0
    expected = 0.01 * np.minimum(n / 4, np.sqrt(4 / n))
    np.testing.assert_allclose(values(EXAMPLES["noam_decay"]), expected, rtol=1e-6)


def test_noam_decay_matches_speechbrain_noam_scheduler():
    peak, warmup = GOLDEN["noam_args"]
    reference = GOLDEN["noam"]  # SpeechBrain's k-th call: the rate of update k (1-based)
    got = values(NoamDecay(float(peak), int(warmup)), np.arange(len(reference)))
    np.testing.assert_allclose(got, reference, rtol=1e-6)


def smith_clr(step, base, top, half, mode, gamma):
    """Smith (2017), Cyclical Learning Rates, section 3.1, as plain numpy."""
    cycle = np.floor(1 + step / (2 * half))
    x = np.abs(step / half - 2 * cycle + 1)
    scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma**step}[mode]
    return base + (top - base) * np.maximum(0, 1 - x) * scale


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_lr_formula(mode):
    schedule = CyclicLR(0.01, 0.1, step_size=3, mode=mode, gamma=0.9)
    expected = smith_clr(STEPS.astype(float), 0.01, 0.1, 3, mode, 0.9)
    np.testing.assert_allclose(values(schedule), expected, rtol=1e-5)
    if mode == "triangular":  # base at the cycle ends, top in the middle
        assert values(schedule, [0, 3, 6]) == pytest.approx([0.01, 0.1, 0.01])


def test_epoch_boundaries_are_exact_at_large_steps():
    schedule = TimeDecay(1.0, decay=1.0, steps_per_epoch=7)
    step = 7 * 100_000
    got = values(schedule, [step - 1, step])
    np.testing.assert_allclose(got, [1 / 100_000, 1 / 100_001], rtol=1e-6)


# ---------------------------------------------------------------------------
# Serialization.


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_config_round_trip(name):
    schedule = EXAMPLES[name]
    config = schedule.get_config()
    clone = type(schedule).from_config(config)
    assert clone.get_config() == config
    np.testing.assert_allclose(values(clone), values(schedule), rtol=1e-7)
    restored = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(schedule)
    )
    assert type(restored) is type(schedule)
    assert restored.get_config() == config


def test_constructor_args_are_all_in_config():
    import inspect

    for cls in schedules.SCHEDULES.values():
        params = set(inspect.signature(cls).parameters)
        example = next(s for s in EXAMPLES.values() if type(s) is cls)
        assert set(example.get_config()) == params, cls.__name__


def tiny_model():
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(2, name="dense")(inputs)
    return keras.Model(inputs, outputs)


def tiny_data(n=8):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 3)).astype("float32"), rng.standard_normal((n, 2)).astype(
        "float32"
    )


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_schedule_survives_keras_file_inside_optimizer(name, tmp_path):
    schedule = EXAMPLES[name]
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule), loss="mse")
    x, y = tiny_data()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    restored = loaded.optimizer._learning_rate
    assert type(restored) is type(schedule)
    assert restored.get_config() == schedule.get_config()
    assert int(loaded.optimizer.iterations) == 2
    np.testing.assert_allclose(float(loaded.optimizer.learning_rate), float(schedule(2)), rtol=1e-6)


# ---------------------------------------------------------------------------
# By name from config specs; one training step each.

SPECS = {
    "time_decay": {"initial_learning_rate": 0.1, "decay": 0.5},
    "step_decay": {"initial_learning_rate": 0.1},
    "exp_decay": {"initial_learning_rate": 0.1, "decay": 0.1},
    "per_epoch": {"values": [0.1, 0.05]},
    "warmup_linear_decay": {
        "peak_learning_rate": 0.1,
        "warmup_steps": 1,
        "initial_learning_rate": 0.01,
    },
    "warmup_cosine_decay": {
        "peak_learning_rate": 0.1,
        "warmup_steps": 1,
        "decay_steps": 10,
        "initial_learning_rate": 0.01,
    },
    "noam_decay": {"peak_learning_rate": 0.1, "warmup_steps": 2},
    "cyclic_lr": {"base_learning_rate": 0.01, "max_learning_rate": 0.1, "step_size": 2},
    "exponential_decay": {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.9},
    "cosine_decay": {"initial_learning_rate": 0.1, "decay_steps": 5},
}


def test_specs_cover_every_kzoo_schedule():
    assert set(schedules.SCHEDULES) <= set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_named_schedule_trains_one_step(name):
    schedule = schedules.get({"name": name, **SPECS[name]}, steps_per_epoch=4, epochs=2)
    model = tiny_model()
    model.compile(optimizer=optimizers.get("adam", schedule=schedule), loss="mse")
    before = [np.array(w) for w in model.get_weights()]
    x, y = tiny_data(4)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    after = model.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
    assert np.isfinite(float(model.optimizer.learning_rate))


def test_get_fills_steps_per_epoch_and_epochs():
    schedule = schedules.get({"name": "per_epoch", "values": [0.1, 0.2, 0.3]}, 7, 3)
    assert schedule.steps_per_epoch == 7 and schedule.epochs == 3
    explicit = schedules.get(
        {"name": "time_decay", "initial_learning_rate": 1.0, "decay": 1, "steps_per_epoch": 2}, 7, 3
    )
    assert explicit.steps_per_epoch == 2


def test_get_decay_steps_default_to_the_rest_of_the_run():
    schedule = schedules.get(
        {"name": "warmup_linear_decay", "peak_learning_rate": 0.1, "warmup_steps": 6}, 10, 5
    )
    assert schedule.decay_steps == 44
    assert float(schedule(50)) == pytest.approx(0.0)


def test_get_keras_schedule_by_snake_name():
    schedule = schedules.get(
        {"name": "piecewise_constant_decay", "boundaries": [2], "values": [0.1, 0.01]}, 4, 2
    )
    assert isinstance(schedule, keras.optimizers.schedules.PiecewiseConstantDecay)


# ---------------------------------------------------------------------------
# Bad input.


def test_unknown_schedule_name_suggests_close_matches():
    with pytest.raises(ValueError, match="Unknown schedule 'warmup_cosine'.*warmup_cosine_decay"):
        schedules.get({"name": "warmup_cosine", "peak_learning_rate": 0.1}, 10, 2)


def test_bad_arguments_name_the_schedule():
    with pytest.raises(ValueError, match="Bad arguments for schedule 'noam_decay'"):
        schedules.get({"name": "noam_decay", "peak": 0.1}, 10, 2)


def test_per_epoch_list_shorter_than_the_run():
    with pytest.raises(ValueError, match="2 learning rates.*3 epochs.*1 more"):
        schedules.get({"name": "per_epoch", "values": [0.1, 0.05]}, steps_per_epoch=4, epochs=3)
    schedule = PerEpoch([0.1, 0.05], steps_per_epoch=4)
    assert schedule.check_epochs(2) == 2
    with pytest.raises(ValueError, match="has 2 learning rates"):
        schedule.check_epochs(5)


@pytest.mark.parametrize(
    "build, match",
    [
        (
            lambda: TimeDecay(0.0, 0.1, 10),
            "initial_learning_rate.*positive.*Received: initial_learning_rate=0.0",
        ),
        (lambda: TimeDecay(-1e-3, 0.1, 10), "initial_learning_rate"),
        (lambda: TimeDecay(0.1, -0.1, 10), "`decay`.*Received: decay=-0.1"),
        (
            lambda: TimeDecay(0.1, 0.1, 0),
            "steps_per_epoch.*positive integer.*Received: steps_per_epoch=0",
        ),
        (lambda: ExpDecay(0.1, 0.1, -5), "steps_per_epoch"),
        (lambda: ExpDecay(True, 0.1, 5), "initial_learning_rate"),
        (lambda: StepDecay(0.1, factor=0, steps_per_epoch=3), "`factor`.*Received: factor=0"),
        (lambda: StepDecay(0.1, drop=-1, steps_per_epoch=3), "`drop`"),
        (lambda: StepDecay(0.1, steps_per_epoch=2.5), "steps_per_epoch"),
        (lambda: PerEpoch([], steps_per_epoch=3), "non-empty list"),
        (lambda: PerEpoch([0.1, -0.1], steps_per_epoch=3), r"values\[1\]"),
        (lambda: PerEpoch([0.1], steps_per_epoch=3, epochs=0), "epochs"),
        (lambda: WarmupLinearDecay(0.0, 1, 10), "peak_learning_rate"),
        (lambda: WarmupLinearDecay(0.1, -1, 10), "warmup_steps.*non-negative"),
        (lambda: WarmupCosineDecay(0.1, 1, 0), "decay_steps"),
        (
            lambda: WarmupCosineDecay(0.1, 1, 10, initial_learning_rate=-0.1),
            "initial_learning_rate",
        ),
        (lambda: WarmupCosineDecay(0.1, 1, 10, final_learning_rate=0.2), "must not exceed"),
        (lambda: NoamDecay(0.1, 0), "warmup_steps.*positive"),
        (lambda: NoamDecay(-0.1, 10), "peak_learning_rate"),
        (lambda: CyclicLR(0.0, 0.1, 10), "base_learning_rate"),
        (lambda: CyclicLR(0.1, 0.1, 10), "larger than"),
        (lambda: CyclicLR(0.01, 0.1, 0), "step_size"),
        (lambda: CyclicLR(0.01, 0.1, 5, mode="triangle"), "mode.*Did you mean 'triangular'"),
        (lambda: CyclicLR(0.01, 0.1, 5, mode="exp_range", gamma=1.5), "gamma"),
    ],
)
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_warmup_longer_than_the_run():
    with pytest.raises(ValueError, match="no steps left to decay over"):
        schedules.get(
            {"name": "warmup_cosine_decay", "peak_learning_rate": 0.1, "warmup_steps": 20}, 5, 4
        )


def test_cosine_decay_ends_at_the_final_rate():
    assert math.isclose(
        float(WarmupCosineDecay(1.0, 0, 4, final_learning_rate=0.25)(4)), 0.25, rel_tol=1e-6
    )


# ---------------------------------------------------------------------------
# kzoo.plots.plot_schedule


def read_png(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    return data


def test_plot_schedule_writes_a_png(tmp_path):
    from kzoo.plots import plot_schedule

    schedule = schedules.get({"name": "step_decay", "initial_learning_rate": 0.1}, 6, 5)
    out = plot_schedule(schedule, 6, 5, tmp_path / "sub" / "lr.png")
    assert out == tmp_path / "sub" / "lr.png"
    read_png(out)


def test_plot_schedule_long_run_keras_schedule_and_constant(tmp_path):
    from kzoo.plots import _steps_to_plot, plot_schedule

    steps = _steps_to_plot(50 * 200, 200)
    assert len(steps) < 50 * 200 and {0, 199, 200, 9999} <= set(steps.tolist())
    keras_schedule = keras.optimizers.schedules.CosineDecay(
        0.1, 40, warmup_target=0.2, warmup_steps=5
    )
    read_png(plot_schedule(keras_schedule, 5, 10, tmp_path / "keras.png"))
    read_png(plot_schedule(0.01, 5, 2, tmp_path / "constant.png"))
    variable = optimizers.get({"name": "adam", "learning_rate": 0.01}).learning_rate
    read_png(plot_schedule(variable, 5, 2, tmp_path / "variable.png"))


@pytest.mark.parametrize(
    "args, match",
    [
        ((0.1, 0, 2), "steps_per_epoch.*positive integer"),
        ((0.1, 5, -1), "epochs"),
        (("cosine", 5, 2), "needs a learning-rate schedule"),
        ((None, 5, 2), "needs a learning-rate schedule"),
    ],
)
def test_plot_schedule_bad_input(args, match, tmp_path):
    from kzoo.plots import plot_schedule

    with pytest.raises(ValueError, match=match):
        plot_schedule(*args, tmp_path / "x.png")


def test_custom_is_speechbrains_name_for_per_epoch():
    sched = schedules.get({"name": "custom", "values": [0.1, 0.05]}, steps_per_epoch=2, epochs=2)
    assert isinstance(sched, schedules.PerEpoch)
    assert [round(float(sched(s)), 4) for s in range(4)] == [0.1, 0.1, 0.05, 0.05]
    with pytest.raises(ValueError, match="Did you mean 'custom'"):
        schedules.get({"name": "custon", "values": [0.1]}, steps_per_epoch=2, epochs=1)
