"""Hypermodels from `search` blocks: every model's space, values <-> configs, bad blocks."""

from __future__ import annotations

import keras_tuner
import pytest
import yaml

import kzoo
from kzoo import configs
from kzoo.tuning import best_config, hypermodel, parse_space
from tests.helpers import conditional_search, model_params

MODELS = model_params()


def _config(search, model="mlp", **args):
    raw = {
        "model": model,
        "args": {"input_shape": [6], "num_classes": 3, "units": [8], **args},
        "search": search,
    }
    config = configs.load(raw)
    config["source"] = "tiny.yaml"
    return config


def _space_config(name):
    try:
        config = configs.load(name)
    except kzoo.ConfigError as error:
        pytest.fail(f"model {name!r} has no loadable zoo config of its own name: {error}")
    if not config["search"]:
        pytest.fail(
            f"zoo_configs/{name}.yaml has no `search` block: every registered model needs "
            "a search space so `kzoo tune` works on it."
        )
    return config


@pytest.mark.parametrize("name", MODELS)
def test_every_model_builds_with_default_hyperparameters(name):
    config = _space_config(name)
    model = hypermodel(config)
    hp = keras_tuner.HyperParameters()
    built = model.build(hp)
    assert built.optimizer is not None  # compiled with the recipe
    # The defaults are the config's own values: the default trial is the config itself.
    rebuilt = best_config(model, hp)
    for key in hp.values:
        section, *path = key.split(".")
        expected = config[section]
        for part in path:
            expected = expected[part] if part in expected else None
        if expected is not None:
            assert model.values(hp)[key] == expected, key
    assert rebuilt["args"] == configs.load(name)["args"] | {
        k.split(".", 1)[1]: v for k, v in model.values(hp).items() if k.startswith("args.")
    }


@pytest.mark.parametrize("name", MODELS)
def test_every_model_builds_with_a_random_draw(name):
    config = _space_config(name)
    model = hypermodel(config)
    hp = keras_tuner.HyperParameters()
    model.declare(hp)
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective="val_accuracy", max_trials=1, seed=1, hyperparameters=hp
    )
    drawn = keras_tuner.HyperParameters()
    model.declare(drawn)
    drawn.values.update(oracle.populate_space("0")["values"])
    built = model.build(drawn)
    if config["data"]["targets"] == "inputs":  # autoencoders reconstruct their input
        assert built.output.shape[1:] == built.input.shape[1:]
    else:
        assert built.output.shape[-1] == config["args"].get("num_classes", built.output.shape[-1])


def test_values_decode_lists_and_round_trip_into_a_config():
    config = _config(
        {
            "args.units": {"type": "choice", "values": [[8], [16, 16]]},
            "args.dropout": {"type": "float", "min": 0.0, "max": 0.4, "step": 0.05},
            "train.optimizer.learning_rate": {
                "type": "float",
                "min": 1e-4,
                "max": 1e-2,
                "sampling": "log",
            },
            "train.batch_size": {"type": "int", "min": 8, "max": 64, "step": 8},
        },
        dropout=0.1,
    )
    model = hypermodel(config)
    hp = keras_tuner.HyperParameters()
    built = model.build(hp)
    assert hp.values["args.units"] == "[8]"  # Keras Tuner holds scalars
    assert model.values(hp)["args.units"] == [8]
    assert built.get_layer("dense0").units == 8
    hp.values["args.units"] = "[16, 16]"
    hp.values["args.dropout"] = 0.15000000000000002
    best = best_config(model, hp)
    assert best["args"]["units"] == [16, 16]
    assert best["args"]["dropout"] == 0.15
    assert best["train"]["optimizer"]["learning_rate"] == 0.001
    assert model.build(hp).get_layer("dense1").units == 16
    # best.yaml text loads back as the same config
    assert configs.load(yaml.safe_load(configs.dump(best)))["args"]["units"] == [16, 16]


def test_fixed_arguments_override_and_leave_the_search():
    model = hypermodel("mlp", num_classes=5, input_shape=[4], units=[8])
    assert "args.units" not in [p.key for p in model.params]
    assert model.build(keras_tuner.HyperParameters()).output.shape == (None, 5)


def test_boolean_and_conditional_hyperparameters():
    config = _config(conditional_search(), dropout=0.2)
    model = hypermodel(config)
    hp = keras_tuner.HyperParameters()
    model.build(hp)
    assert model.values(hp) == {"args.normalization": "batch"}  # dropout inactive
    hp.values["args.normalization"] = "layer"
    hp.values["args.dropout"] = 0.4
    assert model.values(hp) == {"args.normalization": "layer", "args.dropout": 0.4}
    assert best_config(model, hp)["args"]["dropout"] == 0.4
    raw = {"model": "demo_bool", "args": {}, "search": {"args.flag": {"type": "boolean"}}}

    @kzoo.models.register("demo_bool")
    def demo_bool(input_shape=(3,), num_classes=2, flag=False):
        import keras

        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Dense(num_classes, use_bias=flag)(inputs))

    try:
        model = hypermodel(raw)
        hp = keras_tuner.HyperParameters()
        assert len(model.build(hp).weights) == 1
        hp.values["args.flag"] = True
        assert len(model.build(hp).weights) == 2
    finally:
        kzoo.registry.unregister("demo_bool")


@pytest.mark.parametrize(
    "search, match",
    [
        ({"args.widths": {"type": "int", "min": 1, "max": 3}}, "'args.widths' is not an argument"),
        ({"train.optimizer.momentum": {"type": "float", "min": 0, "max": 1}}, "names no existing"),
        ({"data.validation_split": {"type": "float", "min": 0, "max": 0.5}}, "only `args"),
        ({"args.dropout": {"type": "float", "min": 0.5, "max": 0.1}}, "min must not exceed max"),
        ({"args.units": {"type": "choice", "values": []}}, "non-empty list `values`"),
        ({"args.dropout": {"type": "real", "min": 0, "max": 1}}, "unknown type 'real'"),
        ({"args.dropout": {"type": "float", "mn": 0, "max": 1}}, "unknown field 'mn'"),
        ({"args.dropout": {"type": "float", "min": 0, "max": 1, "sampling": "log"}}, "min > 0"),
        ({"args.dropout": {"type": "float", "min": 0.3, "max": 0.5}}, "current value 0.0"),
        ({"args.activation": {"type": "choice", "values": ["gelu"]}}, "not among the choice"),
        ({"args.dropout": {"type": "float", "min": 0, "max": 1, "parent": "args.x"}}, "parent"),
        ({"args.dropout": "0.1"}, "must map to a spec"),
        ({"args.dropout": {"type": "int", "min": 0, "max": 1}}, "not an integer"),
    ],
)
def test_bad_search_blocks_name_the_file_and_the_key(search, match):
    config = _config(search, dropout=0.0)
    with pytest.raises(kzoo.ConfigError, match=match) as info:
        hypermodel(config)
    assert "tiny.yaml" in str(info.value)
    assert list(search)[0] in str(info.value)


def test_missing_search_block_is_an_error():
    config = configs.load({"model": "mlp"})
    with pytest.raises(kzoo.ConfigError, match="no `search` block"):
        hypermodel(config)


def test_parse_space_orders_parents_first():
    child_first = dict(reversed(conditional_search().items()))
    config = _config(
        child_first,
        dropout=0.2,
    )
    assert [p.key for p in parse_space(config)] == ["args.normalization", "args.dropout"]


def test_import_kzoo_does_not_import_keras_tuner():
    import subprocess
    import sys

    code = "import sys, kzoo; kzoo.models.list(); print('keras_tuner' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_schedule_makes_the_optimizer_rate_unsearchable_and_its_own_searchable():
    search = {"train.optimizer.learning_rate": {"type": "float", "min": 1e-4, "max": 1e-2}}
    config = _config(search)
    config["train"]["schedule"] = {
        "name": "warmup_cosine_decay",
        "peak_learning_rate": 0.002,
        "warmup_steps": 10,
    }
    with pytest.raises(kzoo.ConfigError, match="would change nothing") as info:
        hypermodel(config)
    assert "'train.schedule.peak_learning_rate'" in str(info.value)
    assert "tiny.yaml" in str(info.value)

    config["search"] = {
        "train.schedule.peak_learning_rate": {"type": "float", "min": 1e-4, "max": 1e-2}
    }
    model = hypermodel(config)
    hp = keras_tuner.HyperParameters()
    model.build(hp)
    hp.values["train.schedule.peak_learning_rate"] = 0.005
    assert best_config(model, hp)["train"]["schedule"]["peak_learning_rate"] == 0.005
    schedule = model.build(hp).optimizer.get_config()["learning_rate"]  # what the trial uses
    assert schedule["config"]["peak_learning_rate"] == 0.005
