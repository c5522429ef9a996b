"""A real `kzoo tune` process killed mid-search resumes with the same command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.helpers import vowel_folders
from tests.tuning.test_search import read_rows, tiny_search_config


def _tune(config, data, directory):
    return [
        sys.executable,
        "-m",
        "kzoo.cli",
        "tune",
        str(config),
        "--data",
        str(data),
        "--directory",
        str(directory),
        "--max-trials",
        "4",
        "--epochs",
        "3",
    ]


def test_killed_search_resumes_and_accounts_for_every_trial(tmp_path):
    data = vowel_folders(tmp_path / "data", num_speakers=2, repetitions=3)
    config = tiny_search_config(tmp_path / "tiny.yaml")
    directory = tmp_path / "tune"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        _tune(config, data, directory),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        # Kill it as soon as the first trial has finished, in the middle of the search.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            line = process.stdout.readline()
            if line.startswith("trial 1/4"):
                break
        assert process.poll() is None, "the search ended before it could be interrupted"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        process.stdout.close()
    resumed = subprocess.run(
        _tune(config, data, directory), capture_output=True, text=True, env=env, timeout=600
    )
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    rows = read_rows(directory / "results.csv")
    trial_ids = [row["trial"] for row in rows]
    assert len(trial_ids) == 4 and len(set(trial_ids)) == 4, rows
    assert sum(row["status"] == "completed" for row in rows) >= 3
    assert (directory / "best.yaml").exists()
