"""kzoo.optimizers: names, weight decay and clipping pass through, schedules, bad input."""

import keras
import numpy as np
import pytest

from kzoo import optimizers, schedules

NAMES = sorted(optimizers.OPTIMIZERS)


def one_update(optimizer, grad, start=(1.0, 1.0)):
    """The variable after one `apply_gradients` step from `start` with gradient `grad`."""
    var = keras.Variable(np.array(start, "float32"))
    optimizer.apply_gradients([(keras.ops.convert_to_tensor(np.array(grad, "float32")), var)])
    return np.asarray(var)


def tiny_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    return model


def tiny_data(n=4):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 3)).astype("float32"), rng.standard_normal((n, 2)).astype(
        "float32"
    )


@pytest.mark.parametrize("name", NAMES)
def test_named_optimizer_with_schedule_and_clipping_trains_one_step(name):
    schedule = schedules.get(
        {"name": "warmup_cosine_decay", "peak_learning_rate": 0.05, "warmup_steps": 0},
        steps_per_epoch=1,
        epochs=3,
    )
    spec = {"name": name, "weight_decay": 1e-4, "global_clipnorm": 1.0}
    optimizer = optimizers.get(spec, schedule=schedule)
    model = tiny_model()
    model.compile(optimizer=optimizer, loss="mse")
    before = [np.array(w) for w in model.get_weights()]
    x, y = tiny_data()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True)), (
        name
    )
    assert model.optimizer.global_clipnorm == 1.0
    assert float(model.optimizer.learning_rate) == pytest.approx(float(schedule(1)))


def test_momentum_and_nesterov_presets_can_be_overridden():
    opt = optimizers.get({"name": "momentum", "learning_rate": 0.1, "momentum": 0.95})
    assert float(opt.momentum) == pytest.approx(0.95) and not opt.nesterov
    opt = optimizers.get("nesterov")
    assert float(opt.momentum) == pytest.approx(0.9) and opt.nesterov
    assert float(optimizers.get("sgd").momentum) == 0.0


def test_integer_learning_rate_is_accepted():
    opt = optimizers.get({"name": "sgd", "learning_rate": 1})
    assert float(opt.learning_rate) == 1.0


# ---------------------------------------------------------------------------
# Pass-through, checked by what one update does (SGD: var -= lr * grad).


def test_weight_decay_is_decoupled():
    opt = optimizers.get({"name": "sgd", "learning_rate": 0.1, "weight_decay": 0.5})
    assert float(opt.weight_decay) == 0.5
    # zero gradient: only the decay moves the weights, var *= 1 - lr * weight_decay
    np.testing.assert_allclose(one_update(opt, [0.0, 0.0]), [0.95, 0.95], rtol=1e-6)


def test_clipvalue_clips_each_element():
    opt = optimizers.get({"name": "sgd", "learning_rate": 0.1, "clipvalue": 0.5})
    assert opt.clipvalue == 0.5
    np.testing.assert_allclose(one_update(opt, [3.0, -0.2]), [1 - 0.05, 1 + 0.02], rtol=1e-6)


def test_clipnorm_rescales_each_gradient():
    opt = optimizers.get({"name": "sgd", "learning_rate": 0.1, "clipnorm": 1.0})
    assert opt.clipnorm == 1.0
    # |(3, 4)| = 5 -> (0.6, 0.8)
    np.testing.assert_allclose(one_update(opt, [3.0, 4.0]), [1 - 0.06, 1 - 0.08], rtol=1e-6)


def test_global_clipnorm_rescales_all_gradients_together():
    opt = optimizers.get({"name": "sgd", "learning_rate": 0.1, "global_clipnorm": 2.5})
    a, b = keras.Variable(np.ones(1, "float32")), keras.Variable(np.ones(1, "float32"))
    grads = [np.array([3.0], "float32"), np.array([4.0], "float32")]  # global norm 5
    opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in grads], [a, b]))
    np.testing.assert_allclose(
        [float(np.asarray(v)[0]) for v in (a, b)],
        [1 - 0.1 * 1.5, 1 - 0.1 * 2.0],
        rtol=1e-6,
    )


def test_schedule_drives_the_rate_and_round_trips():
    schedule = schedules.StepDecay(0.2, factor=0.5, drop=1, steps_per_epoch=1)
    opt = optimizers.get({"name": "adam", "learning_rate": 0.9, "clipnorm": 1.0}, schedule=schedule)
    assert float(opt.learning_rate) == pytest.approx(0.1)  # step 0, epoch 0: 0.2 * 0.5**1
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert type(restored._learning_rate) is schedules.StepDecay
    assert restored._learning_rate.get_config() == schedule.get_config()
    assert restored.clipnorm == 1.0


# ---------------------------------------------------------------------------
# Bad input.


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="Unknown optimizer 'adamm'.*'adam'"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="Unknown optimizer 'nesterov_sgd'"):
        optimizers.get({"name": "nesterov_sgd"})


@pytest.mark.parametrize("rate", [0, 0.0, -0.1, True, "fast", float("nan")])
def test_bad_learning_rate(rate):
    with pytest.raises(ValueError, match="`learning_rate` must be a positive number"):
        optimizers.get({"name": "adam", "learning_rate": rate})


@pytest.mark.parametrize(
    "extra, match",
    [
        ({"weight_decay": -0.1}, "`weight_decay` must be zero or a positive number"),
        ({"clipnorm": 0}, "`clipnorm` must be a positive number"),
        ({"clipvalue": -1.0}, "`clipvalue`"),
        ({"global_clipnorm": "big"}, "`global_clipnorm`"),
        ({"clipnorm": 1.0, "global_clipnorm": 1.0}, "clip gradients one way only"),
        ({"betas": [0.9, 0.99]}, "Unknown argument for optimizer 'adam'.*betas"),
    ],
)
def test_bad_arguments(extra, match):
    with pytest.raises(ValueError, match=match):
        optimizers.get({"name": "adam", **extra})


def test_spec_must_be_name_or_mapping():
    with pytest.raises(ValueError, match="name or as a mapping"):
        optimizers.get(3)
