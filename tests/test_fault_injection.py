"""Faults injected into real `kzoo train` processes: a SIGKILL at every file write of a
run, and a file system that is full or read-only.

The kill comes from inside the process, at the instant a finished temporary file is
about to be renamed over a run file (the last moment a write can be cut), so every
write of the run is hit exactly once across the parametrization. After each kill the
directory must hold only complete files, and `--resume` (or `--overwrite`, when no
epoch had finished) must carry the run to the end.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from kzoo import run_dir
from tests.helpers import tiny_config, vowel_folders

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 2
# marker, config.yaml, frontend.json, per epoch (weights, state.json, history.csv), then
# model.keras, metrics.json, curves.png
WRITES = 3 + 3 * EPOCHS + 3
QUICK = {1, 4, WRITES}  # the others run in `make test-slow`

KILLER = """
import os, signal, sys
target, at = os.environ["KZOO_KILL_UNDER"], int(os.environ["KZOO_KILL_AT_WRITE"])
real, count = os.replace, [0]
def replace(src, dst, **kwargs):
    if str(dst).startswith(target):
        count[0] += 1
        if count[0] == at:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst, **kwargs)
os.replace = replace
from kzoo.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return vowel_folders(tmp_path_factory.mktemp("faults") / "data")


def _environment(**extra) -> dict[str, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    return {**env, **extra}


def _train(config: Path, data: Path, run: Path, *extra: str, kill_at: int | None = None):
    argv = ["train", str(config), "--data", str(data), "--output", str(run), "--quiet", *extra]
    if kill_at is None:
        command = [sys.executable, "-m", "kzoo.cli", *argv]
        env = _environment()
    else:
        command = [sys.executable, "-c", KILLER, *argv]
        env = _environment(KZOO_KILL_UNDER=str(run), KZOO_KILL_AT_WRITE=str(kill_at))
    return subprocess.run(command, capture_output=True, text=True, env=env)


def _assert_complete_files(run: Path) -> None:
    for path in run.rglob("*"):
        if path.is_dir():
            continue
        if path.name.startswith(".") and path.name not in (run_dir.MARKER, run_dir.LOCK):
            assert run_dir._TEMPORARY.match(path.name), f"unexpected leftover {path}"
            continue
        if path.suffix == ".json" or path.name == run_dir.MARKER:
            json.loads(path.read_text())
        elif path.suffix == ".yaml":
            assert isinstance(yaml.safe_load(path.read_text()), dict)
        elif path.suffix == ".csv":
            with path.open(newline="") as f:
                assert all(None not in row for row in csv.DictReader(f)), path


@pytest.mark.parametrize(
    "kill_at",
    [n if n in QUICK else pytest.param(n, marks=pytest.mark.slow) for n in range(1, WRITES + 1)],
)
def test_a_kill_at_any_write_leaves_a_run_that_finishes(tmp_path, folder, kill_at):
    config = tiny_config(tmp_path / "c.yaml", epochs=EPOCHS)
    run = tmp_path / "run"
    killed = _train(config, folder, run, kill_at=kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    _assert_complete_files(run)

    resumable = (run / "checkpoint" / "state.json").exists()
    finished = _train(config, folder, run, "--resume" if resumable else "--overwrite")
    assert finished.returncode == 0, finished.stderr[-2000:]
    _assert_complete_files(run)
    assert not [p for p in run.rglob(".*") if run_dir._TEMPORARY.match(p.name)]
    with (run / "history.csv").open(newline="") as f:
        assert [int(row["epoch"]) for row in csv.DictReader(f)] == list(range(EPOCHS))
    assert json.loads((run / "metrics.json").read_text())["epochs"] == EPOCHS


def test_every_write_is_counted(tmp_path, folder):
    """WRITES matches the run: a kill one past the last write never fires."""
    config = tiny_config(tmp_path / "c.yaml", epochs=EPOCHS)
    run = tmp_path / "run"
    assert _train(config, folder, run, kill_at=WRITES + 1).returncode == 0
    overwrite = _train(config, folder, run, "--overwrite", kill_at=WRITES)
    assert overwrite.returncode == -signal.SIGKILL


@pytest.fixture
def small_file_system(tmp_path):
    """A 64 KiB tmpfs (and a read-only one), where this machine lets the tests mount."""
    mounts = []
    for name, options in (("full", "size=64k"), ("read_only", "size=64k,ro")):
        point = tmp_path / name
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, f"kzoo-{uuid.uuid4().hex[:6]}", str(point)],
            capture_output=True,
        )
        if done.returncode != 0:
            for mounted in mounts:
                subprocess.run(["umount", str(mounted)], check=False)
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()[:200]}")
        mounts.append(point)
    yield tmp_path
    for point in mounts:
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.mark.parametrize("where", ["full", "read_only"])
def test_a_full_or_read_only_disk_is_one_line_and_leaves_nothing(
    tmp_path, folder, small_file_system, where
):
    config = tiny_config(tmp_path / "c.yaml", epochs=EPOCHS)
    run = small_file_system / where / "run"
    result = _train(config, folder, run)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("kzoo:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert ("No space left" in lines[0]) if where == "full" else ("Read-only" in lines[0])
    assert not run.exists()
    assert not list((small_file_system / where).iterdir())
    shutil.rmtree(tmp_path / "unused", ignore_errors=True)
