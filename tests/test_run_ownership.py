"""A run directory is kzoo's and one process's: what --overwrite may delete, locks, resume.

Every test here runs real `kzoo.cli` commands (in-process, or as real processes where
two must run at once) on tiny data, and checks what is left on disk afterwards.
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kzoo import cli, run_dir
from tests.helpers import tiny_config, vowel_folders

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return vowel_folders(tmp_path_factory.mktemp("ownership") / "data")


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def _fails(capsys, argv) -> str:
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("kzoo: error: ") and err.count("\n") == 1, err
    return err


def _train(config, folder, run, *extra):
    argv = ["train", config, "--data", folder, "--output", run, "--quiet", *extra]
    assert cli.main([str(a) for a in argv]) == 0


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--epochs", "0"], "--epochs"),
        (["--set", "train.batch_size=0"], "batch_size"),
        (["--data", "/no/such/data"], "does not exist"),
    ],
)
def test_overwrite_deletes_nothing_when_the_command_fails(capsys, tmp_path, folder, extra, message):
    config, run = tiny_config(tmp_path / "c.yaml"), tmp_path / "run"
    _train(config, folder, run)
    before = _snapshot(run)
    argv = ["train", config, "--data", folder, "--output", run, "--overwrite", "--quiet"]
    err = _fails(capsys, [*argv, *extra])  # argparse takes the last --data
    assert message in err
    assert _snapshot(run) == before


def test_overwrite_refuses_a_directory_kzoo_did_not_write(capsys, tmp_path, folder):
    config, mine = tiny_config(tmp_path / "c.yaml"), tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "sub" / "notes.txt").write_text("keep")
    err = _fails(capsys, ["train", config, "--data", folder, "--output", mine, "--overwrite"])
    assert "replaces only a run directory" in err
    assert (mine / "sub" / "notes.txt").read_text() == "keep"


def test_output_never_overlaps_the_data(capsys, tmp_path, folder):
    config = tiny_config(tmp_path / "c.yaml")
    before = _snapshot(folder)
    for output in (folder, folder / "runs" / "r1", folder.parent):
        err = _fails(capsys, ["train", config, "--data", folder, "--output", output, "--overwrite"])
        assert "overlap" in err or "replaces only" in err, err
    assert _snapshot(folder) == before
    assert not (folder / "runs").exists()


def test_overwrite_replaces_a_kzoo_run(tmp_path, folder):
    config, run = tiny_config(tmp_path / "c.yaml"), tmp_path / "run"
    _train(config, folder, run)
    first = json.loads((run / run_dir.MARKER).read_text())["run_id"]
    (run / "extra.txt").write_text("from the old run")
    _train(config, folder, run, "--overwrite")
    assert not (run / "extra.txt").exists()
    marker = json.loads((run / run_dir.MARKER).read_text())
    assert marker["run_id"] != first and marker["kzoo"] and marker["keras"]


def test_a_locked_run_directory_refuses_a_second_writer(capsys, tmp_path, folder):
    config, run = tiny_config(tmp_path / "c.yaml"), tmp_path / "run"
    _train(config, folder, run)
    before = _snapshot(run)
    with run_dir.Lock(run):  # as a training process holds it
        for extra in (["--overwrite"], ["--resume", "--epochs", "2"]):
            err = _fails(capsys, ["train", config, "--data", folder, "--output", run, *extra])
            assert "in use by another kzoo process" in err and str(run) in err
    assert {k: v for k, v in _snapshot(run).items() if k != run_dir.LOCK} == before
    assert not (run / run_dir.LOCK).exists()  # released and removed


def test_lock_is_released_by_the_kernel_when_its_process_dies(tmp_path):
    code = (
        "import sys, time; from kzoo import run_dir; run_dir.Lock(sys.argv[1]).acquire(); "
        "print('held', flush=True); time.sleep(60)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(run_dir.Busy):
            run_dir.check_unlocked(tmp_path)
        with pytest.raises(run_dir.Busy):
            run_dir.Lock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.communicate()
    run_dir.check_unlocked(tmp_path)  # the stale lock file is not a held lock
    with run_dir.Lock(tmp_path):
        pass


def test_two_concurrent_trains_never_mix(tmp_path, folder):
    """Two real processes given the same --output: one runs, the other refuses and writes nothing."""
    config = tiny_config(tmp_path / "c.yaml", epochs=3)
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    argv = [sys.executable, "-m", "kzoo.cli", "train", str(config), "--data", str(folder)]
    argv += ["--output", str(run), "--quiet", "--overwrite"]
    processes = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    results = [(p.communicate()[1], p.returncode)[::-1] for p in processes]
    codes = sorted(code for code, _ in results)
    # Either one refused the other (0, 2), or they ran one after the other (0, 0).
    assert codes in ([0, 2], [0, 0]), results
    for code, err in results:
        if code == 2:
            lines = [line for line in err.splitlines() if line.startswith("kzoo:")]
            assert len(lines) == 1 and "Traceback" not in err, err
    marker = json.loads((run / run_dir.MARKER).read_text())["run_id"]
    history = _history(run)
    assert [row["epoch"] for row in history] == ["0", "1", "2"]
    assert json.loads((run / run_dir.MARKER).read_text())["run_id"] == marker
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["epochs"] == 3


def test_resume_refuses_a_changed_config(capsys, tmp_path, folder):
    config, run = tiny_config(tmp_path / "c.yaml"), tmp_path / "run"
    _train(config, folder, run)
    before = _snapshot(run)
    cases = [
        (["--set", "train.optimizer.learning_rate=0.5"], "train.optimizer"),
        (["--set", "args.units=[32]"], "args.units"),
        (["--data", "vowels"], "data.source"),
        (["--epochs", "0"], "--epochs"),
    ]
    for extra, key in cases:
        argv = ["train", config, "--data", folder, "--output", run, "--resume", "--quiet", *extra]
        assert key in _fails(capsys, argv)
    assert _snapshot(run) == before


def test_resume_may_grow_epochs_only(capsys, tmp_path, folder):
    config, run = tiny_config(tmp_path / "c.yaml", epochs=2), tmp_path / "run"
    _train(config, folder, run)
    argv = ["train", config, "--output", run, "--resume", "--quiet", "--epochs", "1"]
    assert "may only add epochs" in _fails(capsys, argv)
    # --data may be left out: the run's own source is used; presentation flags may change.
    assert cli.main([str(a) for a in argv[:-1] + ["3"]]) == 0
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 3


def test_an_unmarked_older_run_resumes_and_gets_the_marker(tmp_path, folder):
    config, run = tiny_config(tmp_path / "c.yaml", epochs=1), tmp_path / "run"
    _train(config, folder, run)
    (run / run_dir.MARKER).unlink()
    assert run_dir.is_run(run)  # config.yaml + checkpoint/state.json
    _train(config, folder, run, "--resume", "--epochs", "2")
    assert (run / run_dir.MARKER).is_file()


@pytest.mark.parametrize("damage", ["state_truncated", "state_not_json", "weights_truncated"])
def test_resume_from_a_damaged_checkpoint_is_one_line(capsys, tmp_path, folder, damage):
    config, run = tiny_config(tmp_path / "c.yaml"), tmp_path / "run"
    _train(config, folder, run)
    state = run / "checkpoint" / "state.json"
    if damage == "state_truncated":
        state.write_text(state.read_text()[:40])
    elif damage == "state_not_json":
        state.write_text('{"epoch": "one"}')
    else:
        weights = run / "checkpoint" / json.loads(state.read_text())["weights"]
        weights.write_bytes(weights.read_bytes()[:500])
    before = _snapshot(run)
    argv = ["train", config, "--data", folder, "--output", run, "--resume", "--epochs", "2"]
    err = _fails(capsys, argv)
    assert "damaged" in err and "--overwrite" in err
    assert _snapshot(run) == before


def test_history_logs_the_rate_each_epoch_used(tmp_path, folder):
    config = tiny_config(tmp_path / "c.yaml", epochs=3)
    raw = yaml.safe_load(config.read_text())
    raw["train"]["schedule"] = {"name": "per_epoch", "values": [1e-3, 1e30, 1e30]}
    config.write_text(yaml.safe_dump(raw))
    run = tmp_path / "run"
    # Epoch 1 diverges at 1e30: only epoch 0 is kept, with the rate it used.
    code = cli.main(["train", str(config), "--data", str(folder), "--output", str(run), "--quiet"])
    rows = _history(run)
    assert code in (0, 3)
    assert float(rows[0]["learning_rate"]) == pytest.approx(1e-3)


def test_history_columns_keep_their_order_after_resume(tmp_path, folder):
    config, run = tiny_config(tmp_path / "c.yaml", epochs=1), tmp_path / "run"
    _train(config, folder, run)
    header = (run / "history.csv").read_text().splitlines()[0]
    _train(config, folder, run, "--resume", "--epochs", "2")
    lines = (run / "history.csv").read_text().splitlines()
    assert lines[0] == header and len(lines) == 3
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["seconds"] >= json.loads((run / "checkpoint" / "state.json").read_text())[
        "history"
    ][0].get("epoch", 0)


def _history(run: Path) -> list[dict[str, str]]:
    with (run / "history.csv").open(newline="") as f:
        return list(csv.DictReader(f))
