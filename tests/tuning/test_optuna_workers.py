"""Chief-less Optuna workers sharing one study: PostgreSQL (one worker killed mid-trial),
SQLite and journal storage. Each worker is its own `kzoo tune --engine optuna` process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from tests.helpers import vowel_folders
from tests.tuning.test_search import read_rows, tiny_search_config

ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT = 2  # seconds: a killed worker's trial is failed after three missed heartbeats


def worker(config, data, directory, storage, max_trials, epochs=2):
    command = [
        sys.executable, "-m", "kzoo.cli", "tune", str(config), "--engine", "optuna",
        "--data", str(data), "--directory", str(directory), "--max-trials", str(max_trials),
        "--epochs", str(epochs), "--sampler", "random", "--heartbeat", str(HEARTBEAT),
    ]  # fmt: skip
    if storage:
        command += ["--storage", storage]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish(processes, timeout=300) -> list[str]:
    """Waits for every process (killing any left after `timeout`); returns their output."""
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=timeout)[0])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.communicate()
    return outputs


def check_study(study: optuna.Study, max_trials: int, workers: int) -> list:
    """Every trial finished once; the budget met, overshot by at most one per other worker."""
    trials = study.get_trials()
    states = [t.state.name for t in trials]
    assert "RUNNING" not in states and "WAITING" not in states, states
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    counted = [t for t in trials if t.number not in retried]
    assert max_trials <= len(counted) <= max_trials + workers - 1, states
    return trials


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return vowel_folders(tmp_path_factory.mktemp("vowels"), num_speakers=2, repetitions=3)


def test_three_postgres_workers_one_killed_mid_trial(tmp_path, data, postgres_url):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    max_trials = 4
    processes = [
        worker(config, data, tmp_path / f"w{i}", postgres_url, max_trials) for i in range(3)
    ]
    victim = processes[0]
    killed_trial = None
    try:
        storage = optuna.storages.RDBStorage(postgres_url)
        deadline = time.monotonic() + 240
        while killed_trial is None and time.monotonic() < deadline:
            assert victim.poll() is None, "the worker ended before it could be killed"
            time.sleep(0.2)
            try:
                study = optuna.load_study(study_name="tiny", storage=storage)
            except KeyError:
                continue  # no worker has created the study yet
            for trial in study.get_trials(states=[optuna.trial.TrialState.RUNNING]):
                if trial.user_attrs.get("worker", "").endswith(f":{victim.pid}"):
                    victim.send_signal(signal.SIGKILL)  # mid-trial: no chance to clean up
                    killed_trial = trial.number
                    break
        assert killed_trial is not None, "the victim never ran a trial"
        outputs = finish(processes)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert victim.returncode == -signal.SIGKILL
    for process, output in zip(processes[1:], outputs[1:]):
        assert process.returncode == 0, output[-3000:]
    study = optuna.load_study(study_name="tiny", storage=storage)
    trials = check_study(study, max_trials, workers=3)
    killed = trials[killed_trial]
    assert killed.state.name == "FAIL"
    retries = [t for t in trials if t.system_attrs.get("retry_history") == [killed_trial]]
    assert len(retries) == 1 and retries[0].state.name == "COMPLETE"
    assert retries[0].params == killed.params
    # Every surviving worker's results.csv lists every trial of the study, the killed one
    # as failed and retried.
    rows = read_rows(tmp_path / "w1" / "results.csv")
    assert len(rows) == len(trials)
    assert "retried as trial" in rows[killed_trial]["error"]
    assert "postgres@127.0.0.1" in (tmp_path / "w1" / "search.json").read_text()
    storage.engine.dispose()


# ~45 s each on 2 busy cores (two TensorFlow processes); the PostgreSQL test above runs
# the same worker loop in every `make test`.
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_two_workers_share_a_file_study(tmp_path, data, kind):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    shared = tmp_path / "shared"
    shared.mkdir()
    url = f"sqlite:///{shared / 'study.db'}" if kind == "sqlite" else f"journal:{shared / 'j.log'}"
    processes = [worker(config, data, tmp_path / f"w{i}", url, max_trials=3) for i in range(2)]
    outputs = finish(processes)
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]
    if kind == "sqlite":
        storage = url
    else:
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        storage = JournalStorage(JournalFileBackend(str(shared / "j.log")))
    study = optuna.load_study(study_name="tiny", storage=storage)
    trials = check_study(study, 3, workers=2)
    assert all(t.state.name == "COMPLETE" for t in trials)
    ran = sum(bool(re.match(r"trial \d+/3: ", line)) for o in outputs for line in o.splitlines())
    assert ran == len(trials)  # each trial ran in exactly one worker
    # The last worker to finish has seen every trial.
    assert max(len(read_rows(tmp_path / f"w{i}" / "results.csv")) for i in range(2)) == len(trials)
