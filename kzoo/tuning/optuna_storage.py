"""Where an Optuna study lives: an SQLite file by default, any SQLAlchemy URL, or
Optuna's journal file (`journal:PATH`), opened with clear errors and credentials masked.

Database storages run heartbeats: a running trial records one every `heartbeat`
seconds, and a trial silent for three of them (its worker was killed) is failed and
queued again with the same parameters, up to `STALE_RETRIES` times.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna

from kzoo.errors import ConfigError
from kzoo.tuning import reports

DEFAULT_STORAGE_FILE = "study.db"
JOURNAL_PREFIX = "journal:"
HEARTBEAT = 60  # seconds between a running trial's heartbeats (database storages)
STALE_RETRIES = 3  # times a trial whose worker died is queued again
# The driver each SQLAlchemy dialect imports by default, and the package that installs it.
DRIVERS = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary]",
    "pymysql": "PyMySQL",
    "MySQLdb": "mysqlclient",
}


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Optuna's experimental-feature warnings (heartbeats, stale-trial retries) and its
    INFO log lines stay out of kzoo's output: kzoo prints one line per trial itself."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def mask(url: str) -> str:
    """`url` with its password replaced by ***, for messages and files."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", str(url))


def storage_url(storage: str | None, directory: Path) -> str:
    return storage or f"sqlite:///{(directory / DEFAULT_STORAGE_FILE).resolve()}"


def make_storage(url: str, heartbeat: int = HEARTBEAT) -> optuna.storages.BaseStorage:
    """Optuna storage for an SQLAlchemy URL or `journal:PATH`, with clear errors for a
    malformed URL, a missing driver or an unreachable database (credentials masked)."""
    if url.startswith(JOURNAL_PREFIX):
        path = Path(url[len(JOURNAL_PREFIX) :]).expanduser()
        if not path.parent.is_dir():
            raise ConfigError(
                f"--storage {url}: the folder {path.parent} does not exist. Create it, or "
                "give a journal file in an existing folder."
            )
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(str(path)))
    import sqlalchemy

    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise ConfigError(
            f"--storage must be a database URL (sqlite:///FILE, postgresql://USER@HOST/DB, "
            f"mysql://...) or journal:PATH. Received: {mask(url)!r}."
        ) from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        # Workers sharing one SQLite file wait for each other's writes instead of failing.
        kwargs = {"connect_args": {"timeout": 60}}
    try:
        with quiet():
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=kwargs,
                heartbeat_interval=heartbeat,
                grace_period=3 * heartbeat,  # a busy machine may delay one or two
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=STALE_RETRIES
                ),
            )
    except ImportError as error:
        module = getattr(error.__cause__, "name", None) or getattr(error, "name", None)
        package = DRIVERS.get(str(module).split(".")[0], module)
        raise ConfigError(
            f"--storage {mask(url)}: the database driver `{module}` is not installed. "
            f"Install it (pip install {package}) or choose another storage."
        ) from None
    except sqlalchemy.exc.SQLAlchemyError as error:
        detail = reports.last_line(str(getattr(error, "orig", None) or error).split("\n(")[0])
        raise ConfigError(
            f"--storage {mask(url)}: cannot reach the database ({mask(detail)}). Check the "
            "host, port, user and database name, and that the server is running."
        ) from None
