"""The recipe (config `train` block -> compile): the loss and metrics follow a CTC head."""

import numpy as np
import pytest

import kzoo
from kzoo import configs, recipe
from kzoo.models import factory

SMALL = {"conv_filters": [4], "dense_units": 4, "rnn_units": 4, "head_units": 4, "pool_size": 1}


def ctc_config(loss, metrics=()):
    config = configs.load("cnn_mlp_rnn")
    config["args"].update(SMALL, head="ctc", num_classes=5, input_shape=[12, 8])
    config["train"].update(loss=loss, metrics=list(metrics))
    return config


def test_ctc_head_gets_its_blank_in_the_loss_and_token_error_rate():
    config = ctc_config("ctc", ["token_error_rate"])
    model = recipe.compile_model(factory.build(config), config)
    assert model.get_layer("ctc_head").activation.__name__ == "linear"  # logits
    assert model.loss.blank_index == 5  # the head's last class
    x = np.random.default_rng(0).standard_normal((2, 12, 8)).astype("float32")
    logs = model.train_on_batch(x, np.array([[0, 4, 1], [2, -1, -1]]), return_dict=True)
    assert np.isfinite(logs["loss"])
    assert model.metrics[-1].metrics[0].blank_index == 5


def test_an_explicit_blank_index_is_kept():
    config = ctc_config({"name": "ctc", "blank_index": 0})
    model = recipe.compile_model(factory.build(config), config)
    assert model.loss.blank_index == 0


def test_ctc_head_with_a_classification_loss_is_a_clear_error():
    with pytest.raises(kzoo.ConfigError, match=r"args.head.*'ctc'.*train.loss=ctc"):
        kzoo.models.get("cnn_mlp_rnn", head="ctc", **SMALL)
