"""The run directory `kzoo train` writes, every file written whole or not at all.

```
RUN_DIR/
  config.yaml     the resolved config (defaults filled, overrides applied, shapes from the data)
  history.csv     one row per epoch: losses, metrics, learning rate
  metrics.json    test metrics, final epoch and best epoch of each metric
  curves.png      training curves
  model.keras     the trained model
  checkpoint/     weights, optimizer and callback state after the last completed epoch
```
Each file is written to a temporary name in the same directory and renamed over
the final one (`os.replace` is atomic), so a killed run never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

_UMASK = os.umask(0o022)
os.umask(_UMASK)

FILES = ("config.yaml", "history.csv", "metrics.json", "curves.png", "model.keras")


def write_atomic(path: Path, write: Callable[[str], None]) -> None:
    """Calls `write(temporary_path)`, then renames the temporary file over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes)  # keras checks the extension of what it saves
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 would make every run file private
    try:
        write(tmp)
        os.replace(tmp, path)
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


def write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))


def write_json(path: Path, value: Any) -> None:
    write_text(path, json.dumps(_finite(value), indent=2, sort_keys=True) + "\n")


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
