"""Keras Tuner's private API that kzoo.tuning.keras_tuner uses, pinned to the supported
version, and the documented public route `keras_tuner.RandomSearch(kzoo.tuning.hypermodel(...))`."""

from __future__ import annotations

import inspect

import keras_tuner
import numpy as np

import kzoo
from kzoo.tuning import keras_tuner as adapter


def test_private_touchpoints_exist_in_the_supported_keras_tuner():
    # An upgrade of keras-tuner lands here first: check each touchpoint in the new
    # version, then add it to adapter.SUPPORTED.
    assert keras_tuner.__version__ in adapter.SUPPORTED, keras_tuner.__version__
    from keras_tuner.src import config as tuner_config
    from keras_tuner.src.engine import tuner_utils

    assert isinstance(tuner_config.DEBUG, bool)

    saver = tuner_utils.SaveBestEpoch(keras_tuner.Objective("val_loss", "min"), "x.weights.h5")
    assert saver.objective.name == "val_loss" and saver.best_value == float("inf")
    assert callable(saver._save_model)
    assert list(inspect.signature(tuner_utils.convert_to_metrics_dict).parameters) == [
        "results",
        "objective",
    ]
    expected = {
        "_populate_initial_space": ["self"],
        "_build_and_fit_model": ["self", "trial", "args", "kwargs"],
        "_try_build": ["self", "hp"],
        "_build_hypermodel": ["self", "hp"],
        "_configure_tensorboard_dir": ["self", "callbacks", "trial", "execution"],
    }
    for name, parameters in expected.items():
        assert list(inspect.signature(getattr(keras_tuner.Tuner, name)).parameters) == parameters


def test_random_search_over_a_kzoo_hypermodel_runs_every_trial(tmp_path):
    # Keras Tuner's own tuner imports tensorboard for its hparams on TensorFlow: a
    # declared dependency, so every trial completes.
    hypermodel = kzoo.tuning.hypermodel("mlp", num_classes=3, input_shape=[8])
    tuner = keras_tuner.RandomSearch(
        hypermodel, objective="val_accuracy", max_trials=2, directory=tmp_path, seed=0
    )
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 8)).astype("float32"), rng.integers(0, 3, 24)
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    statuses = [t.status for t in tuner.oracle.trials.values()]
    assert statuses == ["COMPLETED", "COMPLETED"], statuses
    best = tuner.get_best_hyperparameters()[0]
    assert (
        kzoo.tuning.best_config("mlp", best)["args"]["units"]
        == hypermodel.values(best)["args.units"]
    )
