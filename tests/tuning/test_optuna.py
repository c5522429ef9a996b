"""The Optuna engine end to end on tiny class-folder data: storage, pruning, objectives."""

from __future__ import annotations

import keras
import numpy as np
import optuna
import pytest

import kzoo
from kzoo import configs
from kzoo.tuning import optuna as engine
from kzoo.tuning import optuna_trial, search
from tests.helpers import vowel_folders
from tests.tuning.test_search import read_rows, tiny_search_config


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return vowel_folders(tmp_path_factory.mktemp("vowels"), num_speakers=2, repetitions=3)


def optuna_run(config, folders, out, **kwargs):
    kwargs.setdefault("max_trials", 2)
    return search.run(str(config), engine="optuna", source=str(folders), directory=out, **kwargs)


def test_optuna_search_writes_results_and_resumes(tmp_path, folders, capsys):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    out = tmp_path / "tune"
    summary = optuna_run(config, folders, out)
    printed = capsys.readouterr().out
    assert "trial 1/2: val_accuracy=" in printed and "args.units=" in printed
    assert summary["trials"] == 2 and summary["completed"] == 2 and summary["study"] == "tiny"
    for name in ("results.csv", "trials.png", "best.yaml", "search.json", "study.db"):
        assert (out / name).stat().st_size > 0, name
    rows = read_rows(out / "results.csv")
    assert [r["trial"] for r in rows] == ["1", "2"]
    assert all(r["status"] == "completed" for r in rows)
    best = configs.load(out / "best.yaml")
    assert best["args"]["units"] == summary["best"]["values"]["args.units"]
    assert summary["best"]["value"] == max(float(r["val_accuracy"]) for r in rows)

    # The same command again joins the finished study: nothing runs; a larger budget adds.
    again = optuna_run(config, folders, out)
    assert "trial " not in capsys.readouterr().out and again["best"] == summary["best"]
    assert optuna_run(config, folders, out, max_trials=3)["trials"] == 3
    with pytest.raises(kzoo.ConfigError, match="different search"):
        optuna_run(config, folders, out, sampler="random")
    assert optuna_run(config, folders, out, sampler="random", overwrite=True)["trials"] == 2


def test_the_space_maps_onto_optuna_distributions(tmp_path, folders):
    block = {
        "args.units": {"type": "choice", "values": [[8], [4, 4]]},
        "args.dropout": {"type": "float", "min": 0.0, "max": 0.25, "step": 0.1},
        "train.batch_size": {"type": "int", "min": 4, "max": 16, "step": 2, "sampling": "log"},
        "args.normalization": {"type": "choice", "values": [None, "layer"]},
        "train.optimizer.learning_rate": {
            "type": "float", "min": 1e-4, "max": 1e-2, "sampling": "log",
            "parent": "args.normalization", "parent_values": ["layer"],
        },
    }  # fmt: skip
    config = tiny_search_config(tmp_path / "tiny.yaml", **block)
    objective = kzoo.tuning.objective(str(config), source=str(folders))
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(objective, n_trials=4)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    for trial in study.trials:
        dists = trial.distributions
        assert dists["args.dropout"].step == 0.1 and dists["args.dropout"].high == 0.2
        assert dists["train.batch_size"].choices == (4, 8, 16)  # log with a step: x2 factors
        values = objective.space.decode(trial.params)  # mixed choices are JSON-encoded
        layer = values["args.normalization"] == "layer"
        assert ("train.optimizer.learning_rate" in trial.params) == layer
        assert values["args.units"] in ([8], [4, 4])
    best = kzoo.tuning.best_config(str(config), study.best_params)
    assert best["args"]["units"] == objective.space.decode(study.best_params)["args.units"]


def test_failed_trials_are_recorded_retried_and_the_search_goes_on(tmp_path, folders, capsys):
    config = tiny_search_config(
        tmp_path / "tiny.yaml",
        **{"train.optimizer.learning_rate": {"type": "choice", "values": [0.001, 1.0e30]}},
    )
    out = tmp_path / "tune"
    summary = optuna_run(
        config, folders, out, sampler="grid", objective="val_loss", max_retries_per_trial=1
    )
    rows = read_rows(out / "results.csv")
    failed = [r for r in rows if r["status"] == "failed"]
    # The diverging trial ran twice (once retried with the same value), the other once.
    assert len(rows) == 3 and len(failed) == 2, rows
    assert all(r["train.optimizer.learning_rate"] == "1e+30" for r in failed)
    assert "NaN" in failed[0]["error"] and "retried as trial" in failed[0]["error"]
    assert summary["best"]["values"] == {"train.optimizer.learning_rate": 0.001}
    assert ": failed (TrialFailed: Training diverged" in capsys.readouterr().out


def test_consecutive_failures_stop_the_worker(tmp_path, folders):
    config = tiny_search_config(
        tmp_path / "tiny.yaml",
        **{"train.optimizer.learning_rate": {"type": "float", "min": 1e29, "max": 1e31}},
    )
    with pytest.raises(ValueError, match="2 trials in a row failed"):
        optuna_run(
            config, folders, tmp_path / "t", max_trials=4, max_consecutive_failed_trials=2,
            overrides={"train.optimizer.learning_rate": 1e30},
        )  # fmt: skip
    assert len(read_rows(tmp_path / "t" / "results.csv")) == 2


def test_multi_objective_search_writes_the_pareto_front(tmp_path, folders):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    out = tmp_path / "tune"
    summary = optuna_run(
        config, folders, out, max_trials=3, sampler="nsga2",
        objective=["val_accuracy", "params:min", "latency"],
    )  # fmt: skip
    rows = read_rows(out / "results.csv")
    assert {"val_accuracy", "params", "latency"} <= set(rows[0])
    assert all(0 < float(r["latency"]) < 1 for r in rows)
    front = summary["pareto"]
    assert front and (out / "pareto.png").stat().st_size > 0
    assert sorted(p.name for p in (out / "pareto").iterdir()) == sorted(
        f"trial_{p['trial']}.yaml" for p in front
    )
    for point in front:  # its config rebuilds a network of that size; nothing dominates it
        model = kzoo.models.build(configs.load(point["config"]))
        assert model.count_params() == point["params"]
        assert not any(
            float(r["val_accuracy"]) >= point["val_accuracy"]
            and float(r["params"]) <= point["params"]
            and float(r["latency"]) <= point["latency"]
            and (float(r["val_accuracy"]), float(r["params"]), float(r["latency"]))
            != (point["val_accuracy"], point["params"], point["latency"])
            for r in rows
        )


def test_pruner_reports_every_epoch(tmp_path, folders):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    out = tmp_path / "tune"
    optuna_run(config, folders, out, max_trials=3, epochs=2, pruner="median")
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{out / 'study.db'}")
    for trial in study.trials:
        expected = {0, 1} if trial.state.name == "COMPLETE" else {0}
        assert set(trial.intermediate_values) >= expected, trial
    rows = read_rows(out / "results.csv")
    assert {r["status"] for r in rows} <= {"completed", "pruned"}


def test_pruning_callback_stops_a_rejected_trial_on_keras_3():
    # A pruner that rejects any loss above 0: the trial stops after its first epoch.
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.0))
    epochs_run = []

    def objective(trial):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        x = np.ones((8, 3), "float32")
        seen = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: epochs_run.append(e))
        model.fit(x, x[:, :1] + 1, epochs=5, verbose=0,
                  callbacks=[seen, optuna_trial.PruningCallback(trial, "loss")])  # fmt: skip
        return 0.0

    study.optimize(objective, n_trials=1)
    assert study.trials[0].state == optuna.trial.TrialState.PRUNED
    assert epochs_run == [0] and list(study.trials[0].intermediate_values) == [0]


def test_python_route_study_and_objective(tmp_path, folders):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    study = kzoo.tuning.study(str(config), directory=tmp_path, objectives=["val_loss"])
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    study.optimize(kzoo.tuning.objective(str(config), objectives=["val_loss"],
                                         source=str(folders)), n_trials=1)  # fmt: skip
    assert study.trials[0].state == optuna.trial.TrialState.COMPLETE
    assert study.trials[0].user_attrs["worker"].endswith(f":{__import__('os').getpid()}")


def test_timeout_stops_starting_trials(tmp_path, folders):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    summary = optuna_run(config, folders, tmp_path / "t", max_trials=5, timeout=1e-6)
    assert summary["trials"] == 0 and summary["best"] is None
    assert read_rows(tmp_path / "t" / "results.csv") == []


def test_a_trial_failed_as_stale_under_its_worker_does_not_stop_it(tmp_path, capsys):
    # On a busy machine another worker may fail a live trial whose heartbeats came late
    # and queue it again; the worker of the original then cannot record its result.
    from kzoo.tuning.space import Objective, SearchSpace

    space = SearchSpace(configs.load(tiny_search_config(tmp_path / "tiny.yaml")))
    study = kzoo.tuning.study(space, storage=f"sqlite:///{tmp_path / 's.db'}", seed=0)

    class StolenOnce:
        objectives = [Objective("val_accuracy", "max")]

        def __init__(self):
            self.space, self.calls = space, 0

        def __call__(self, trial):
            optuna_trial.suggest_values(trial, space)
            self.calls += 1
            self.last_trial = trial.number
            if self.calls == 1:  # what another worker's fail_stale_trials does
                study._storage.set_trial_state_values(
                    trial._trial_id, state=optuna.trial.TrialState.FAIL
                )
                retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
                retry(study, study._storage.get_trial(trial._trial_id))
            return 0.5

    function = StolenOnce()
    stopped = engine._work(
        study, function, max_trials=1, timeout=None, max_retries_per_trial=0,
        max_consecutive_failed_trials=3, heartbeats=False, heartbeat=60,
    )  # fmt: skip
    assert stopped is None and function.calls == 2
    assert [t.state.name for t in study.trials] == ["FAIL", "COMPLETE"]
    assert "failed as stale by another worker" in capsys.readouterr().out
