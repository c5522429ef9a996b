"""A throwaway PostgreSQL server for the tuning tests: initdb + pg_ctl on 127.0.0.1.

The server runs as the `postgres` user when the tests run as root (PostgreSQL refuses
root), in a fresh temporary folder, on a free port, with trust authentication for local
connections; it is stopped and its folder removed when the test module ends.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="module")
def postgres_url():
    """`postgresql://postgres@127.0.0.1:PORT/postgres` of a server this fixture started."""
    pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg (3) is not installed")
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL's initdb/pg_ctl are not installed (Debian: apt-get install postgresql)"
        )
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="kzoo-postgres-"))
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()

    def run(*command):
        return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120)

    made = run(
        str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"
    )
    assert made.returncode == 0, made.stdout + made.stderr
    options = f"-h 127.0.0.1 -p {port} -k {root} -F -c fsync=off"
    started = run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(root / "log"),
        "-w",
        "start",
    )
    assert started.returncode == 0, started.stdout + started.stderr + (root / "log").read_text()
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        status = run(str(bindir / "pg_ctl"), "-D", str(data), "status")
        shutil.rmtree(root, ignore_errors=True)
        # pg_ctl status: 3 means no server is running in that folder.
        assert status.returncode == 3, "the PostgreSQL server did not stop: " + status.stdout
