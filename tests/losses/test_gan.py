import keras
import numpy as np
import pytest
from keras import ops

import kzoo
from kzoo.losses.gan import (
    CycleConsistencyLoss,
    LeastSquaresGANLoss,
    cycle_consistency_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
)


def test_lsgan_formulas():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    d = ops.convert_to_numpy(lsgan_discriminator_loss(real, fake))
    np.testing.assert_allclose(d, 0.5 * (((real - 1) ** 2).mean(1) + (fake**2).mean(1)), rtol=1e-6)
    g = ops.convert_to_numpy(lsgan_generator_loss(fake))
    np.testing.assert_allclose(g, 0.5 * ((fake - 1) ** 2).mean(1), rtol=1e-6)
    loss = LeastSquaresGANLoss()
    both = float(loss(np.array([1.0] * 4 + [0.0] * 4), np.concatenate([real, fake])))
    np.testing.assert_allclose(both, d.sum() / 8, rtol=1e-5)  # 8 examples, real and fake
    np.testing.assert_allclose(float(loss(np.ones((4, 1)), fake)), g.mean(), rtol=1e-5)


def test_cycle_consistency():
    rng = np.random.default_rng(1)
    x, x_cycled = rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(2, 4, 4, 3))
    expected = np.abs(x - x_cycled).reshape(2, -1).mean(1)
    np.testing.assert_allclose(
        ops.convert_to_numpy(cycle_consistency_loss(x, x_cycled)), expected, rtol=1e-6
    )
    np.testing.assert_allclose(
        float(CycleConsistencyLoss(weight=5.0)(x, x_cycled)), 5 * expected.mean(), rtol=1e-5
    )


@pytest.mark.parametrize(
    "spec, cls",
    [
        ({"name": "lsgan"}, LeastSquaresGANLoss),
        ({"name": "cycle_consistency", "weight": 2.0}, CycleConsistencyLoss),
    ],
)
def test_config_round_trip(spec, cls):
    loss = kzoo.losses.get(spec)
    assert type(loss) is cls
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert again.get_config() == loss.get_config()


def test_bad_inputs():
    with pytest.raises(ValueError, match="weight"):
        CycleConsistencyLoss(weight=-1.0)
    with pytest.raises(ValueError, match="same shape"):
        cycle_consistency_loss(np.zeros((2, 3)), np.zeros((2, 4)))
