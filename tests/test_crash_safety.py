"""A run killed with SIGKILL mid-training resumes from its last completed epoch.

The training process is a real `python -m kzoo.cli train` subprocess, killed as soon
as its checkpoint reports two finished epochs; the resumed run must finish with every
epoch logged exactly once, starting from the checkpoint's weights.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest
import yaml

from kzoo import cli, run_dir
from tests.helpers import tiny_config, vowel_folders

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 6


def _command(config: Path, data: Path, run: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "kzoo.cli",
        "train",
        str(config),
        "--data",
        str(data),
        "--output",
        str(run),
        "--epochs",
        str(EPOCHS),
        "--quiet",
        *extra,
    ]


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "KERAS_BACKEND": "tensorflow",
        "PYTHONPATH": str(ROOT),
    }


def _checkpoint_epoch(run: Path) -> int:
    try:
        return json.loads((run / "checkpoint" / "state.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0  # not written yet (the rename makes a partly written file impossible)


def _assert_only_complete_files(run: Path) -> None:
    """Every final file parses; the only extra files are write_atomic's temporaries."""
    for path in [*run.iterdir(), *(run / "checkpoint").iterdir()]:
        if path.is_dir():
            # tensorboard/: append-only event logs, which TensorBoard reads up to a torn record
            assert path.name in ("checkpoint", "tensorboard"), path
            continue
        if path.name in (run_dir.MARKER, run_dir.LOCK):  # a killed run's lock file stays, unheld
            continue
        if path.name.startswith("."):
            assert run_dir._TEMPORARY.match(path.name), f"unexpected leftover {path}"
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".yaml":
            assert isinstance(yaml.safe_load(path.read_text()), dict)
        elif path.suffix == ".csv":
            with path.open(newline="") as f:
                rows = list(csv.DictReader(f))
            assert rows and all(None not in row for row in rows), path
        elif path.name.endswith(".h5"):
            with h5py.File(path, "r") as f:
                assert len(f.keys()) > 0
        else:
            raise AssertionError(f"unexpected file {path} in a killed run")


def test_sigkill_mid_run_then_resume(tmp_path):
    # 540 clips, batches of 4: about 80 steps an epoch, long enough to kill between epochs.
    data = vowel_folders(tmp_path / "data", num_speakers=6, repetitions=30)
    config = tiny_config(
        tmp_path / "c.yaml", batch_size=4, optimizer={"name": "adam", "learning_rate": 0.01}
    )
    run = tmp_path / "run"
    process = subprocess.Popen(
        _command(config, data, run),
        env=_environment(),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while process.poll() is None and _checkpoint_epoch(run) < 2:
            time.sleep(0.01)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        _, err = process.communicate()
    assert process.returncode == -signal.SIGKILL, err.decode()[-2000:]
    killed_at = _checkpoint_epoch(run)
    assert 2 <= killed_at < EPOCHS, "the run finished before it could be killed"
    assert not (run / "metrics.json").exists()
    _assert_only_complete_files(run)
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    assert (run / "checkpoint" / state["weights"]).exists()
    killed_rows = state["history"]
    assert [row["epoch"] for row in killed_rows] == list(range(killed_at))

    # What a kill inside write_atomic leaves behind; resuming must remove it.
    leftover = run / "checkpoint" / f".weights-{killed_at + 1}.weights-abcd1234.weights.h5"
    leftover.write_bytes(b"half a file")

    resumed = subprocess.run(
        _command(config, data, run, "--resume"),
        env=_environment(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert not leftover.exists()
    assert [p.name for p in run.glob(".*")] == [run_dir.MARKER]
    assert not list((run / "checkpoint").glob(".*"))
    rows = run_dir.read_history(run / "history.csv")
    assert [int(row["epoch"]) for row in rows] == list(range(EPOCHS))
    # The epochs before the kill are kept as they were logged.
    for before, after in zip(killed_rows, rows):
        assert before["loss"] == pytest.approx(after["loss"])
    # The first resumed epoch continues from the checkpoint's weights: its loss is near
    # the last loss logged before the kill, far from the loss of the first epoch.
    first_resumed = rows[killed_at]["loss"]
    last_before = killed_rows[-1]["loss"]
    assert rows[0]["loss"] - last_before > 0.1, rows  # the model did learn before the kill
    assert abs(first_resumed - last_before) < abs(first_resumed - rows[0]["loss"]), rows
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == EPOCHS
    assert (run / "model.keras").stat().st_size > 0


def test_remove_temporaries_keeps_other_files(tmp_path):
    for name in ("state.json", ".state-x1y2z3_4.json", ".model-abcdefgh.keras", ".keep", "a.b"):
        (tmp_path / name).write_text("")
    removed = run_dir.remove_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == [".model-abcdefgh.keras", ".state-x1y2z3_4.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keep", "a.b", "state.json"]
    assert run_dir.remove_temporaries(tmp_path / "missing") == []


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return vowel_folders(tmp_path_factory.mktemp("vowel_folders"))


def test_cli_reports_divergence_on_one_line_with_status_3(capsys, tmp_path, folder):
    config = tiny_config(tmp_path / "c.yaml", epochs=2)
    code = cli.main(
        [
            "train",
            str(config),
            "--data",
            str(folder),
            "--output",
            str(tmp_path / "run"),
            "--quiet",
            "--set",
            "train.optimizer.learning_rate=1e30",
        ]
    )
    out, err = capsys.readouterr()
    assert code == cli.EXIT_DIVERGED == 3
    assert err.startswith("kzoo: error: Training diverged") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not (tmp_path / "run" / "metrics.json").exists()
