"""Bad input to the Optuna engine: one clear error each, before any trial runs."""

from __future__ import annotations

import pytest
import yaml

import kzoo
from kzoo.tuning import optuna as engine
from kzoo.tuning import search
from tests.tuning.test_search import tiny_search_config


@pytest.fixture
def config(tmp_path):
    return str(tiny_search_config(tmp_path / "tiny.yaml"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"engine": "optona"}, "--engine must be one of .*Did you mean 'optuna'"),
        ({"sampler": "tpee"}, "--sampler must be one of .*Did you mean 'tpe'"),
        ({"pruner": "medain"}, "--pruner must be one of .*Did you mean 'median'"),
        ({"objective": "val_acuracy"}, "Did you mean 'val_accuracy'"),
        ({"objective": "val_accuracy:up"}, "must be min or max"),
        ({"objective": ["loss", "loss:max"]}, "given twice"),
        ({"objective": ["val_accuracy", "params"], "sampler": "cmaes"}, "optimizes one objective"),
        (
            {"objective": ["val_accuracy", "latency"], "pruner": "median"},
            "needs a single objective",
        ),
        ({"pruner": "median", "folds": 2}, "does not combine with --folds"),
        ({"tuner": "random"}, "--tuner belongs to the keras_tuner engine"),
        ({"distributed": "chief", "oracle": "h:1"}, "--distributed, --oracle belong to"),
        ({"timeout": 0}, "--timeout must be a positive number"),
        ({"storage": "not a url"}, "--storage must be a database URL"),
        ({"storage": "journal:/no/such/folder/j.log"}, "does not exist"),
    ],
)
def test_bad_optuna_arguments_are_clear_errors(tmp_path, config, kwargs, match):
    kwargs = {"engine": "optuna", **kwargs}
    with pytest.raises(kzoo.ConfigError, match=match):
        search.run(config, directory=tmp_path / "t", **kwargs)
    assert not (tmp_path / "t").exists()  # nothing written


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sampler": "tpe"}, "--sampler belongs to the optuna engine.*--engine optuna"),
        ({"storage": "sqlite:///x.db", "study": "s"}, "--storage, --study belong to the optuna"),
        ({"objective": ["val_accuracy", "params"]}, "optimizes one --objective"),
        ({"objective": "latency"}, "measured by the Optuna engine only"),
    ],
)
def test_keras_tuner_engine_rejects_optuna_options(tmp_path, config, kwargs, match):
    with pytest.raises(kzoo.ConfigError, match=match):
        search.run(config, directory=tmp_path / "t", **kwargs)


def test_unreachable_database_names_it_without_the_password(tmp_path, config):
    url = "postgresql://kzoo:s3cret@127.0.0.1:1/kzoo"  # nothing listens on port 1
    with pytest.raises(kzoo.ConfigError, match="cannot reach the database") as caught:
        search.run(config, engine="optuna", storage=url, directory=tmp_path / "t")
    assert "s3cret" not in str(caught.value) and "kzoo:***@127.0.0.1:1" in str(caught.value)


def test_missing_driver_names_the_package(tmp_path, config):
    pytest.importorskip("sqlalchemy")
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("mysqlclient is installed here")
    with pytest.raises(
        kzoo.ConfigError, match=r"`MySQLdb` is not installed.*pip install mysqlclient"
    ):
        search.run(config, engine="optuna", storage="mysql://u:pw@localhost/db", directory=tmp_path)


def test_mask_hides_passwords_only():
    assert engine.mask("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert engine.mask("postgresql://u@h/db") == "postgresql://u@h/db"
    assert engine.mask("sqlite:////tmp/a:b@c.db") == "sqlite:////tmp/a:b@c.db"


def test_a_study_with_another_space_or_direction_is_refused(tmp_path):
    first = tiny_search_config(tmp_path / "a.yaml")
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    kzoo.tuning.study(str(first), storage=url, study_name="s")
    kzoo.tuning.study(str(first), storage=url, study_name="s")  # the same search joins it
    with pytest.raises(kzoo.ConfigError, match="exists with directions \\['max'\\]"):
        kzoo.tuning.study(str(first), storage=url, study_name="s", objectives=["val_loss"])
    other = tiny_search_config(
        tmp_path / "b.yaml", **{"args.dropout": {"type": "float", "min": 0.0, "max": 0.5}}
    )
    with pytest.raises(kzoo.ConfigError, match="exists with another search space"):
        kzoo.tuning.study(str(other), storage=url, study_name="s")


@pytest.mark.parametrize(
    "spec, sampler, match",
    [
        ({"type": "float", "min": 0.0, "max": 0.5}, "grid", "continuous float range"),
        ({"type": "float", "min": 0.1, "max": 0.5, "sampling": "reverse_log"}, "tpe",
         "reverse_log sampling"),
    ],
)  # fmt: skip
def test_space_optuna_cannot_draw(tmp_path, spec, sampler, match):
    path = tiny_search_config(tmp_path / "tiny.yaml", **{"args.dropout": spec})
    config = yaml.safe_load(path.read_text())
    config["args"]["dropout"] = 0.25
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(kzoo.ConfigError, match=match):
        kzoo.tuning.study(str(path), directory=tmp_path, sampler=sampler)


def test_storage_urls_hide_passwords_and_default_to_the_search_folder(tmp_path):
    from kzoo.tuning import optuna_storage

    assert optuna_storage.mask("postgresql://kzoo:s3cret@db:5432/studies") == (
        "postgresql://kzoo:***@db:5432/studies"
    )
    assert optuna_storage.mask("sqlite:///tmp/study.db") == "sqlite:///tmp/study.db"
    default = optuna_storage.storage_url(None, tmp_path)
    assert default.startswith("sqlite:///") and str(tmp_path.resolve()) in default
    assert optuna_storage.storage_url("journal:/x/j.log", tmp_path) == "journal:/x/j.log"
