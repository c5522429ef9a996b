"""The console script's entry (kzoo_cli.py): fast commands without Keras, conventions of every command."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import kzoo
import kzoo_cli
from kzoo import cli, configs
from tests.helpers import tiny_config, vowel_folders

ROOT = Path(__file__).resolve().parents[1]


def _entry(*argv: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    """Runs kzoo_cli.main in a fresh interpreter; the last stdout line lists heavy modules."""
    code = (
        "import sys, kzoo_cli\n"
        "try:\n"
        f"    code = kzoo_cli.main({list(argv)!r})\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "heavy = sorted(m for m in ('keras', 'tensorflow', 'kzoo') if m in sys.modules)\n"
        "print('IMPORTED', code, ','.join(heavy))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(PYTHONPATH=str(ROOT), **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--help"], "list, inspect, train"),
        (["--version"], f"kzoo {kzoo.__version__}"),
        (["list"], "cnn_mlp_rnn"),
        (["list", "*gru*", "--json"], '"name": "ligru"'),
        (["train", "--help"], "--seed"),
    ],
)
def test_fast_commands_do_not_import_keras(argv, expected):
    result = _entry(*argv)
    *output, last = result.stdout.splitlines()
    _, code, heavy = last.split(" ", 2)
    assert code == "0", result.stderr
    assert heavy == "", f"kzoo {' '.join(argv)} imported {heavy}"
    assert expected in "\n".join(output)


def test_a_user_error_is_one_line_without_tensorflow_chatter():
    """TF_CPP_MIN_LOG_LEVEL is set before TensorFlow loads, so only kzoo's line is left."""
    result = _entry("train", "nope_config")
    assert result.stdout.splitlines()[-1].startswith("IMPORTED 2 ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("kzoo: error: Unknown config 'nope_config'")


def test_fast_list_matches_the_registry():
    assert kzoo_cli.zoo_config_dir() == configs.config_dir()
    entries = kzoo_cli.catalog()
    assert [m["name"] for m in entries["models"]] == kzoo.models.list()
    recipes = {r["name"]: r["model"] for r in entries["recipes"]}
    assert recipes == {
        n: configs.load(n)["model"] for n in configs.names() if n not in kzoo.models.list()
    }


def test_parser_facts_match_kzoo():
    from kzoo.tuning import keras_tuner, search

    assert kzoo_cli.TUNERS == tuple(keras_tuner.TUNERS)
    assert kzoo_cli.ENGINES == tuple(search.ENGINES)
    assert kzoo_cli.ENTRY_POINT_GROUP == kzoo.registry.ENTRY_POINT_GROUP
    assert kzoo_cli.version() == kzoo.__version__
    assert cli.build_parser is kzoo_cli.build_parser  # one parser


def test_help_shows_defaults_and_choices(capsys):
    for argv, expected in (
        (["tune", "--help"], ["{random,grid,bayesian,hyperband}", "(default: random)"]),
        (["train", "--help"], ["(default: none)", "--quiet", "--verbose"]),
        (["evaluate", "--help"], ["(default: test)", "--json"]),
    ):
        with pytest.raises(SystemExit):
            kzoo_cli.main(argv)
        out = " ".join(capsys.readouterr().out.split())
        for text in expected:
            assert text in out, (argv, text)
    with pytest.raises(SystemExit) as exit_info:
        kzoo_cli.main(["tune", "mlp", "--tuner", "bayes"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'bayes'" in capsys.readouterr().err


def test_fit_verbosity():
    def args(**flags):
        return argparse.Namespace(quiet=False, verbose=False, **flags)

    assert kzoo_cli.fit_verbosity(args(), default=2) == (1 if sys.stdout.isatty() else 2)
    assert kzoo_cli.fit_verbosity(argparse.Namespace(quiet=True, verbose=False)) == 0
    assert kzoo_cli.fit_verbosity(argparse.Namespace(quiet=False, verbose=True), default=0) == 1
    assert kzoo_cli.fit_verbosity(args(), default=0) == 0
    with pytest.raises(SystemExit):
        kzoo_cli.main(["train", "mlp", "--quiet", "--verbose"])


def test_seed_json_and_one_line_per_epoch(tmp_path, capsys):
    folder = vowel_folders(tmp_path / "data")
    config = tiny_config(tmp_path / "c.yaml", epochs=2, tensorboard=False)
    run = tmp_path / "run"
    code = cli.main(
        ["train", str(config), "--data", str(folder), "--output", str(run), "--seed", "7"]
    )
    out = capsys.readouterr().out
    assert code == 0
    # stdout is not a terminal here: Keras's verbose=2, one line per epoch, no carriage returns.
    assert "\r" not in out and "Epoch 2/2" in out
    assert configs.load(run / "config.yaml")["train"]["seed"] == 7
    code = cli.main(["evaluate", str(run), "--data", str(folder), "--json"])
    metrics = json.loads(capsys.readouterr().out)
    assert code == 0 and 0 <= metrics["accuracy"] <= 1


def test_show_and_list_json(capsys):
    assert cli.main(["show", "mlp", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["name"] == "mlp" and card["parameters"] > 0 and card["args"]["units"]
    assert card["args_from"] == "zoo_configs/mlp.yaml"
    assert kzoo_cli.main(["list", "cnn*", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in listed["models"]] == ["cnn", "cnn1d", "cnn_mlp_rnn"]
