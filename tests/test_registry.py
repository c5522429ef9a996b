import keras
import pytest

import kzoo
from kzoo import configs, registry


def test_list_is_sorted_and_filters():
    names = kzoo.models.list()
    assert names == sorted(names)
    assert {"mlp", "cnn_mlp_rnn"} <= set(names)
    assert kzoo.models.list("cnn_*") == ["cnn_mlp_rnn"]
    assert kzoo.models.list("no_such_*") == []


def test_get_returns_compiled_model_with_overrides():
    model = kzoo.models.get("cnn_mlp_rnn", num_classes=3)
    assert isinstance(model, keras.Model)
    assert model.output.shape == (None, 3)
    assert model.optimizer is not None and model.compiled


def test_get_without_compile():
    model = kzoo.models.get("mlp", compile=False)
    assert not model.compiled


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match=r"Unknown model 'cnn_mlp_rn'.*'cnn_mlp_rnn'.*kzoo list"):
        kzoo.models.get("cnn_mlp_rn")


def test_unknown_override_names_the_argument():
    with pytest.raises(kzoo.ConfigError, match=r"args.num_clases.*'num_classes'"):
        kzoo.models.get("mlp", num_clases=3)


def test_duplicate_registration_raises():
    with pytest.raises(ValueError, match="already registered"):
        registry.register("mlp")(lambda: None)


def test_register_rejects_non_identifiers():
    with pytest.raises(ValueError, match="identifier"):
        registry.register("my model")


def test_user_registration_and_unregister():
    @kzoo.models.register("test_user_model")
    def test_user_model(input_shape=(3,), num_classes=2):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Dense(num_classes)(inputs))

    try:
        assert "test_user_model" in kzoo.models.list()
    finally:
        registry.unregister("test_user_model")
    assert "test_user_model" not in kzoo.models.list()


def test_describe_is_a_model_card():
    card = kzoo.models.describe("cnn_mlp_rnn")
    for expected in ("cnn_mlp_rnn:", "Input:", "Output:", "Parameters:", "optimizer:", "rnn: gru"):
        assert expected in card
    # The recipes that train this model, with their measured results.
    recipes = card.split("Recipes (other zoo configs for this model", 1)[1]
    for config in ("digits_fsdd", "digits_fsdd_fast", "crdnn_ligru_vowels"):
        assert f"\n  {config}: " in recipes
        assert configs.load(config)["reference"]["result"] in recipes
