"""Distributed search: one chief and two workers on 127.0.0.1, each its own process."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import vowel_folders
from tests.tuning.test_search import tiny_search_config

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from kzoo.tuning import search
role, port, tuner_id, config, data, out = sys.argv[1:]
summary = search.run(config, tuner="random", max_trials=3, source=data, directory=out,
                     distributed=role, oracle=f"127.0.0.1:{port}",
                     tuner_id=None if tuner_id == "-" else tuner_id)
print("SUMMARY", summary)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_chief_and_two_workers_share_one_search(tmp_path):
    pytest.importorskip("grpc")
    data = vowel_folders(tmp_path / "vowels", num_speakers=2, repetitions=3)
    config = tiny_search_config(tmp_path / "tiny.yaml")
    out = tmp_path / "tune"
    port = str(free_port())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    processes = {}
    try:
        for role, tuner_id in (("chief", "-"), ("worker", "w1"), ("worker", "w2")):
            processes[tuner_id] = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    SCRIPT,
                    role,
                    port,
                    tuner_id,
                    str(config),
                    str(data),
                    str(out),
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        outputs = {}
        for name, process in processes.items():
            # Bounded so a hung gRPC handshake fails the test instead of hanging it.
            outputs[name], _ = process.communicate(timeout=420)
            assert process.returncode == 0, outputs[name][-3000:]
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
            process.communicate()  # reaps it and closes its pipe
    assert "SUMMARY" in outputs["-"]
    trial_lines = [
        line
        for name in ("w1", "w2")
        for line in outputs[name].splitlines()
        if line.startswith("trial ")
    ]
    assert len(trial_lines) == 3, outputs
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and all(r["status"] == "completed" for r in rows)
    assert (out / "best.yaml").exists()
