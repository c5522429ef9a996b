"""The run directory `kzoo train` writes, every file written whole or not at all.

```
RUN_DIR/
  config.yaml     the resolved config (defaults filled, overrides applied, shapes from the data)
  history.csv     one row per epoch: losses, metrics, learning rate
  metrics.json    test metrics, final epoch and best epoch of each metric
  curves.png      training curves
  model.keras     the trained model
  checkpoint/     weights, optimizer and callback state after the last completed epoch
  .kzoo-run       the marker: this directory was written by `kzoo train` (run id, versions)
  .kzoo-lock      held (flock) by the one process writing the run; the kernel releases it
```
Each file is written to a temporary name in the same directory and renamed over
the final one (`os.replace` is atomic), so a killed run never leaves half a file.

Ownership: `--overwrite` only ever replaces a directory that `is_run` recognises
(the marker, or the `config.yaml` + `checkpoint/state.json` pair of runs written
before the marker existed), and `Lock` keeps a second process out while one writes.
"""

from __future__ import annotations

import csv
import errno
import fcntl
import io
import json
import math
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

_UMASK = os.umask(0o022)
os.umask(_UMASK)

FILES = ("config.yaml", "history.csv", "metrics.json", "curves.png", "model.keras")
MARKER = ".kzoo-run"
LOCK = ".kzoo-lock"


class Busy(ValueError):
    """Another process holds the lock of the directory (a `ValueError`: the CLI's exit 2)."""


class Lock:
    """An exclusive lock on `directory`, held through an flock on `directory/.kzoo-lock`.

    The kernel releases it when the process dies, so a killed run never leaves a stale
    lock; the lock file is removed on a clean release. Taking it never waits: a second
    writer gets `Busy` with one line naming the directory.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d, Lock(d):
    ...     Lock(d).acquire()
    Traceback (most recent call last):
    ...
    kzoo.run_dir.Busy: ...
    """

    def __init__(self, directory: str | Path, what: str = "run directory"):
        self.path = Path(directory) / LOCK
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> Lock:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666 & ~_UMASK)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                os.close(fd)
                if error.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    raise
                raise Busy(_busy(self.path.parent, self.what)) from None
            try:  # a releasing holder may have unlinked the file we opened: take the new one
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    self._fd = fd
                    return self
            except FileNotFoundError:
                pass
            os.close(fd)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    def __enter__(self) -> Lock:
        return self.acquire() if self._fd is None else self

    def __exit__(self, *exc_info) -> None:
        self.release()


def _busy(directory: Path, what: str) -> str:
    return (
        f"The {what} {directory} is in use by another kzoo process (it holds the directory's "
        "lock). Wait for it to finish, or choose another directory."
    )


def check_unlocked(directory: str | Path, what: str = "run directory") -> None:
    """Raises `Busy` when another process holds `directory`'s lock. Writes nothing."""
    path = Path(directory) / LOCK
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # no lock file: nobody holds it (a holder keeps its file until it releases)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        raise Busy(_busy(Path(directory), what)) from None
    finally:
        os.close(fd)


def is_run(directory: str | Path) -> bool:
    """Whether `directory` was written by `kzoo train` (marked, or an unmarked older run)."""
    directory = Path(directory)
    return (directory / MARKER).is_file() or (
        (directory / "config.yaml").is_file()
        and (directory / "checkpoint" / "state.json").is_file()
    )


def mark(directory: Path, versions: dict[str, str]) -> str:
    """Writes the marker that makes `directory` a kzoo run; returns its run id."""
    run_id = uuid.uuid4().hex[:12]
    write_json(directory / MARKER, {"run_id": run_id, **versions})
    return run_id


def clear(directory: Path) -> None:
    """Removes everything in a run directory but its lock: what `--overwrite` replaces."""
    if not is_run(directory):  # the one rule `--overwrite` rests on, checked where it deletes
        raise ValueError(f"Refusing to clear {directory}: it is not a kzoo run directory.")
    for path in directory.iterdir():
        if path.name == LOCK:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def overlaps(a: str | Path, b: str | Path) -> bool:
    """Whether one of two paths lies inside the other (or they are the same)."""
    a, b = Path(a).resolve(), Path(b).resolve()
    return a == b or a in b.parents or b in a.parents


def write_atomic(path: Path, write: Callable[[str], None]) -> None:
    """Calls `write(temporary_path)`, then moves the file it wrote over `path`.

    The writer works on a scratch file in the system's temporary folder, and Python's
    own I/O copies it next to `path` before the atomic rename: a full or read-only
    disk then fails as one `OSError` (HDF5, which Keras writes weights with, crashes
    the process at exit after a failed write instead).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes)  # keras checks the extension of what it saves
    with tempfile.TemporaryDirectory(prefix="kzoo-") as scratch:
        written = os.path.join(scratch, path.name)
        write(written)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=suffix, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as target, open(written, "rb") as source:
                shutil.copyfileobj(source, target, 1 << 20)
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 would make every run file private
            os.replace(tmp, path)
        except OSError as error:
            if error.filename is None:  # copyfileobj's write names no file: name it
                raise OSError(error.errno, error.strerror, str(path)) from None
            raise
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


# `write_atomic`'s temporary names: "." + stem + "-" + mkstemp's 8 random characters + suffix.
_TEMPORARY = re.compile(r"^\..+-[a-z0-9_]{8}(\.[^.]+)*$")


def remove_temporaries(directory: Path) -> list[Path]:
    """Removes the temporary files a killed `write_atomic` left in `directory`; returns them.

    A SIGKILL skips `write_atomic`'s clean-up, so a run killed mid-write leaves one
    `.NAME-XXXXXXXX.SUFFIX` file (never a half-written final file); resuming removes it.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = [p for p in directory.iterdir() if p.is_file() and _TEMPORARY.match(p.name)]
    for path in removed:
        path.unlink()
    return removed


def load_model(path: Path, compile: bool = True):
    """`keras.saving.load_model`, with a damaged file reported as one `ValueError`."""
    import keras

    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as error:  # zipfile, h5py and Keras raise many types for a damaged file
        reason = " ".join(str(error).split())[:160] or type(error).__name__
        raise ValueError(
            f"{path} cannot be loaded: it is damaged or not a Keras model file ({reason}). "
            "Train the run again (kzoo train ... --overwrite), or use another run."
        ) from None


def holds_files(directory: Path) -> bool:
    """Whether `directory` holds anything but a released lock and killed writes' leftovers."""
    return any(p.name != LOCK and not _TEMPORARY.match(p.name) for p in directory.iterdir())


def write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))


def write_json(path: Path, value: Any, sort_keys: bool = True) -> None:
    write_text(path, json.dumps(_finite(value), indent=2, sort_keys=sort_keys) + "\n")


def write_history(path: Path, rows: list[dict[str, float]]) -> None:
    """history.csv: an `epoch` column, then every logged key, in order of appearance."""
    keys: list[str] = ["epoch"]
    for row in rows:
        keys += [k for k in row if k not in keys]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def read_history(path: Path) -> list[dict[str, float]]:
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]


def summarize(rows: list[dict[str, float]]) -> dict[str, Any]:
    """The final epoch's logs and, for each logged metric, its best value and epoch."""
    best = {}
    for key in rows[0] if rows else []:
        if key == "epoch":
            continue
        values = [(row[key], int(row["epoch"])) for row in rows if key in row]
        pick = min if "loss" in key or "error" in key or key.endswith("learning_rate") else max
        value, epoch = pick(values, key=lambda item: item[0])
        best[key] = {"value": value, "epoch": epoch}
    return {"final": rows[-1] if rows else {}, "best": best, "epochs": len(rows)}


def plot_curves(path: Path, rows: list[dict[str, float]], title: str) -> None:
    """curves.png: one panel per quantity (loss, each metric), training against validation."""
    import matplotlib.pyplot as plt

    fig = curves_figure(rows, title)
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=90, format="png"))
    plt.close(fig)


def curves_figure(rows: list[dict[str, float]], title: str):
    """The figure of `plot_curves`: panels in the order of the history's columns, whole epochs
    on the x axes, and the learning rate (one value per epoch) in a panel of its own."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    names = [k for k in (rows[0] if rows else {}) if k != "epoch" and not k.startswith("val_")]
    names = names or ["loss"]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    epochs = [int(row["epoch"]) + 1 for row in rows]
    for axis, name in zip(axes[0], names):
        if name == "learning_rate":
            axis.plot(epochs, [row.get(name, math.nan) for row in rows], marker="o", markersize=3)
            axis.set_title("learning rate")
            axis.set_ylabel("rate at the epoch's start")
        else:
            for key, label in ((name, "train"), (f"val_{name}", "validation")):
                values = [row.get(key, math.nan) for row in rows]
                if any(not math.isnan(v) for v in values):
                    axis.plot(epochs, values, marker="o", markersize=3, label=label)
            axis.set_title(name)
            axis.legend()
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
