import json
import os
import subprocess
import sys

import pytest

from kzoo import cli
from tests.helpers import tiny_config, vowel_folders


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_and_pattern(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "cnn_mlp_rnn" in out and "mlp" in out and "demo" in out
    code, out, _ = run(capsys, "list", "cnn*")
    assert "cnn_mlp_rnn" in out and "\n  mlp " not in out


def test_show_and_summary(capsys):
    code, out, _ = run(capsys, "show", "mlp")
    assert code == 0 and "Parameters:" in out
    code, out, _ = run(capsys, "summary", "cnn_mlp_rnn", "--set", "args.rnn=lstm")
    assert (
        code == 0
        and "lstm0 (Bidirectional)" in out
        and "Total mult-adds" in out
        and "Estimated total size" in out
    )


def test_train_then_evaluate(capsys, tmp_path):
    folder = vowel_folders(tmp_path / "data")
    config = tiny_config(tmp_path / "c.yaml")
    code, out, err = run(
        capsys,
        "train",
        str(config),
        "--data",
        str(folder),
        "--output",
        str(tmp_path / "run"),
        "--quiet",
        "--set",
        "args.units=[8]",
    )
    assert code == 0, err
    assert "test accuracy:" in out and "Run directory:" in out
    code, out, _ = run(capsys, "evaluate", str(tmp_path / "run"), "--data", str(folder))
    assert code == 0 and "accuracy:" in out
    assert "evaluations" in json.loads((tmp_path / "run" / "metrics.json").read_text())


@pytest.mark.parametrize(
    "argv, message",
    [
        (["show", "cnn_mlp_rn"], "Unknown model 'cnn_mlp_rn'. Did you mean 'cnn_mlp_rnn'?"),
        (["train", "mlpp"], "Unknown config 'mlpp'"),
        (["train", "mlp", "--set", "args.unitz=3"], "'units'"),
        (["train", "mlp", "--data", "/no/such/dir"], "does not exist"),
        (["train", "mlp", "--resume"], "--resume needs --output"),
        (["evaluate", "/no/such/run"], "not a finished run directory"),
        (["train", "mlp", "--epochs", "0"], "--epochs must be a positive integer"),
    ],
)
def test_errors_are_one_line_with_status_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("kzoo: error: ") and err.count("\n") == 1, err
    assert message in err


def test_existing_output_directory(capsys, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "x").write_text("")
    code, _, err = run(capsys, "train", "mlp", "--output", str(tmp_path / "run"))
    assert code == 2 and "--overwrite" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["no-such-command"])
    assert exit_info.value.code == 2
    assert "kzoo: error:" in capsys.readouterr().err


def test_console_script_prints_no_traceback():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-m", "kzoo.cli", "train", "nope_config"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "kzoo: error: Unknown config 'nope_config'" in result.stderr


def test_plot_schedule_writes_a_png(capsys, tmp_path):
    schedule = "train.schedule={name: warmup_cosine_decay, peak_learning_rate: 0.01, warmup_steps: 5, decay_steps: 50}"
    code, out, err = run(
        capsys,
        "plot-schedule",
        "mlp",
        "--set",
        schedule,
        "--steps-per-epoch",
        "7",
        "--output",
        str(tmp_path / "lr.png"),
    )
    assert code == 0, err
    assert (tmp_path / "lr.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_schedule_bad_steps(capsys, tmp_path):
    code, _, err = run(
        capsys,
        "plot-schedule",
        "mlp",
        "--steps-per-epoch",
        "0",
        "--output",
        str(tmp_path / "lr.png"),
    )
    assert code == 2 and "`--steps-per-epoch` must be an integer in [1, " in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["tune", "mlp", "--max-trials", "0"], "max-trials"),
        (["tune", "nope"], "Unknown config 'nope'"),
    ],
)
def test_tune_errors(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err, err
