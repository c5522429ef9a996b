"""`kzoo tune` on the command line: --set, the printed best value and table, engine flags."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kzoo import cli
from tests.helpers import vowel_folders
from tests.tuning.test_search import read_rows, tiny_search_config


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return vowel_folders(tmp_path_factory.mktemp("vowels"), num_speakers=2, repetitions=3)


def test_tune_accepts_set_and_prints_the_best_value_and_a_table(tmp_path, folders, capsys):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    out = tmp_path / "tune"
    argv = ["tune", str(config), "--data", str(folders), "--directory", str(out),
            "--max-trials", "2", "--set", "args.dropout=0.1"]  # fmt: skip
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    rows = read_rows(out / "results.csv")
    best = max(float(r["val_accuracy"]) for r in rows)
    assert f"val_accuracy={best:.4g}" in printed and "=None" not in printed
    header = next(line for line in printed.splitlines() if line.startswith("trial  "))
    assert header.split() == [
        "trial",
        "val_accuracy",
        "args.units",
        "train.optimizer.learning_rate",
    ]
    assert "dropout: 0.1" in (out / "best.yaml").read_text()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--set", "args.dropuot=0.1"], "dropuot"),
        (["--set", "nokey"], "must look like key.path=value"),
        (["--engine", "optuna", "--tuner", "grid"], "--tuner belongs to the keras_tuner engine"),
        (["--sampler", "nsga2"], "--sampler belongs to the optuna engine"),
        (["--engine", "optuna", "--sampler", "tpe", "--objective", "val_accuracy",
          "--objective", "params", "--pruner", "hyperband"], "needs a single objective"),
        (["--engine", "optuna", "--storage", "postgresql://u:hunter2@127.0.0.1:1/x"],
         "cannot reach the database"),
    ],
)  # fmt: skip
def test_tune_errors_are_one_line(tmp_path, folders, capsys, extra, message):
    config = tiny_search_config(tmp_path / "tiny.yaml")
    out = tmp_path / "tune"
    argv = ["tune", str(config), "--data", str(folders), "--directory", str(out), *extra]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("kzoo: error: ") and err.count("\n") == 1 and message in err, err
    assert "hunter2" not in err
    assert not out.exists()


def test_the_same_seed_draws_the_same_trials(tmp_path, folders):
    # Two processes: without --seed, Optuna's sampler seed includes the process id.
    config = tiny_search_config(tmp_path / "tiny.yaml")

    def command(out):
        return [sys.executable, "-m", "kzoo.cli", "tune", str(config), "--data", str(folders),
                "--engine", "optuna", "--sampler", "tpe", "--max-trials", "2",
                "--directory", str(tmp_path / out), "--seed", "7", "--quiet"]  # fmt: skip

    procs = [subprocess.Popen(command(out), stdout=subprocess.DEVNULL) for out in "ab"]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    keys = ("args.units", "train.optimizer.learning_rate")
    a, b = ([tuple(r[k] for k in keys) for r in read_rows(tmp_path / out / "results.csv")]
            for out in "ab")  # fmt: skip
    assert a == b and len(a) == 2
    assert "seed: 7" in (tmp_path / "a" / "best.yaml").read_text()
