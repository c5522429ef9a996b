"""Each trial of either engine writes TensorBoard HParams logs: its values and objectives."""

from __future__ import annotations

import json

import pytest
import tensorflow as tf
from tensorboard.plugins.hparams import plugin_data_pb2

from kzoo.tuning import hparams, search
from tests.helpers import vowel_folders
from tests.tuning.test_search import read_rows, tiny_search_config


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return vowel_folders(tmp_path_factory.mktemp("vowels"), num_speakers=2, repetitions=3)


def read_run(path):
    """(hparams written by the trial, scalars by tag) read back from its event files."""
    values, scalars = {}, {}
    for events in sorted(path.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data
                if plugin.plugin_name == "hparams":
                    data = plugin_data_pb2.HParamsPluginData.FromString(plugin.content)
                    if data.HasField("session_start_info"):
                        for key, entry in data.session_start_info.hparams.items():
                            kind = entry.WhichOneof("kind")
                            values[key] = getattr(entry, kind)
                else:
                    scalars[value.tag] = float(tf.make_ndarray(value.tensor))
    return values, scalars


@pytest.mark.parametrize(
    "engine, options",
    [("keras_tuner", {"tuner": "random"}), ("optuna", {"sampler": "random"})],
)
def test_every_trial_writes_its_hparams_and_objective(tmp_path, folders, engine, options):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    out = tmp_path / "tune"
    search.run(
        str(config), engine=engine, max_trials=2, source=str(folders), directory=out, **options
    )
    rows = read_rows(out / "results.csv")
    assert len(rows) == 2
    for row in rows:
        run = hparams.log_dir(out, row["trial"])
        assert run.parent == out / "tensorboard"
        values, scalars = read_run(run)
        assert json.loads(values["args.units"]) == json.loads(row["args.units"])
        rate = float(row["train.optimizer.learning_rate"])
        assert values["train.optimizer.learning_rate"] == pytest.approx(rate)
        assert scalars["val_accuracy"] == pytest.approx(float(row["val_accuracy"]))

    # train.tensorboard: false writes none; --overwrite clears the earlier logs.
    search.run(
        str(config), engine=engine, max_trials=1, source=str(folders), directory=out,
        overwrite=True, overrides=["train.tensorboard=false"], **options,
    )  # fmt: skip
    assert not (out / "tensorboard").exists()


def test_values_become_hparams_values():
    assert hparams.hparam_value([4, 4]) == "[4, 4]"
    assert hparams.hparam_value({"b": 1, "a": None}) == '{"a": null, "b": 1}'
    assert hparams.hparam_value(None) == "null"
    assert [hparams.hparam_value(v) for v in (True, 3, 0.5, "gru")] == [True, 3, 0.5, "gru"]
