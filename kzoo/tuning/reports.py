"""What a search leaves behind, whichever engine ran it: results.csv, best.yaml, a table.

Each engine turns its trials into `TrialRecord`s (number, status, config values, one
score per objective, error); this module writes them:

```
results.csv    one row per trial: trial, status, each objective, each hyperparameter, error
trials.png     the (first) objective per trial, and against the main hyperparameters
best.yaml      the best trial's config (`kzoo train best.yaml` trains it)
pareto.png     multi-objective only: every trial, the Pareto front highlighted
pareto/        multi-objective only: trial_N.yaml for each trial on the front
```
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kzoo import configs, plots, run_dir
from kzoo.tuning.space import Objective, SearchSpace

TOP = 5  # rows of the table printed after a search
UNFINISHED = ("pruned", "running", "waiting")  # neither completed nor failed


@dataclass
class TrialRecord:
    """One trial of either engine. `scores` holds a value per objective name when completed."""

    number: int | str  # 1-based, as printed
    status: str  # completed, failed, pruned, running, waiting, ...
    values: dict[str, Any]  # config values of the active hyperparameters
    scores: dict[str, float | None] = field(default_factory=dict)
    error: str = ""

    @property
    def done(self) -> bool:
        return self.status == "completed" and all(
            v is not None and math.isfinite(v) for v in self.scores.values()
        ) and bool(self.scores)  # fmt: skip


def short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def last_line(message: str | None) -> str:
    lines = [line.strip() for line in (message or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def progress_line(record: TrialRecord, total: int | None) -> str:
    """`trial 3/10: val_accuracy=0.91 (args.rnn=lstm, ...)` for a finished trial."""
    head = f"trial {record.number}/{total}" if total else f"trial {record.number}"
    values = ", ".join(f"{k}={short(v)}" for k, v in record.values.items())
    if record.done:
        scores = ", ".join(f"{k}={v:.4g}" for k, v in record.scores.items())
        return f"{head}: {scores} ({values})"
    reason = record.error
    return f"{head}: {record.status}{f' ({reason})' if reason else ''} [{values}]"


def rows(records: Sequence[TrialRecord], space: SearchSpace, objectives) -> list[dict]:
    """results.csv's rows: trial, status, each objective (empty unless completed), each
    hyperparameter (empty while inactive), error."""
    out = []
    for record in records:
        row: dict[str, Any] = {"trial": record.number, "status": record.status}
        for objective in objectives:
            row[objective.name] = record.scores.get(objective.name) if record.done else None
        for param in space.params:
            value = record.values.get(param.key)
            row[param.key] = json.dumps(value) if isinstance(value, (list, dict)) else value
        row["error"] = "" if record.done else record.error
        out.append(row)
    return out


def write_results(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    run_dir.write_text(path, buffer.getvalue())


def ranked(records: Sequence[TrialRecord], objective: Objective) -> list[TrialRecord]:
    """Completed trials, best first on `objective`; ties go to the earliest trial, so a
    reloaded search names the same best one."""
    sign = -1.0 if objective.direction == "max" else 1.0
    done = [r for r in records if r.done]
    return sorted(done, key=lambda r: (sign * r.scores[objective.name], _order(r.number)))


def pareto_front(records: Sequence[TrialRecord], objectives) -> list[TrialRecord]:
    """The completed trials no other completed trial dominates, in trial order."""
    done = [r for r in records if r.done]

    def dominates(a: TrialRecord, b: TrialRecord) -> bool:
        at_least = all(
            not o.better(b.scores[o.name], a.scores[o.name]) for o in objectives
        )  # fmt: skip
        return at_least and any(o.better(a.scores[o.name], b.scores[o.name]) for o in objectives)

    return [r for r in done if not any(dominates(o, r) for o in done if o is not r)]


def _order(number: int | str) -> tuple[int, str]:
    return (int(number), "") if str(number).isdigit() else (1 << 62, str(number))


def write_reports(
    directory: Path,
    records: Sequence[TrialRecord],
    space: SearchSpace,
    objectives: Sequence[Objective],
    top: int = TOP,
) -> dict[str, Any]:
    """results.csv, trials.png, best.yaml (and the Pareto files); returns the summary
    `kzoo.tuning.search.run` returns."""
    records = sorted(records, key=lambda r: _order(r.number))
    objectives = list(objectives)
    main = objectives[0]
    table = rows(records, space, objectives)
    columns = ["trial", "status", *[o.name for o in objectives], *[p.key for p in space.params]]
    write_results(directory / "results.csv", table, [*columns, "error"])
    title = space.config["model"]
    plots.plot_trials(directory / "trials.png", table, space.params, main, title)
    summary: dict[str, Any] = {
        "directory": str(directory),
        "objective": main.name,
        "objectives": [f"{o.name}:{o.direction}" for o in objectives],
        "trials": len(records),
        "completed": sum(r.done for r in records),
        "failed": sum(not r.done and r.status not in UNFINISHED for r in records),
        "pruned": sum(r.status == "pruned" for r in records),
        "best": None,
        "top": [],
    }
    best = ranked(records, main)
    if best:
        config = space.trial_config(best[0].values)
        run_dir.write_text(directory / "best.yaml", configs.dump(config))
        summary["best"] = {
            "trial": best[0].number,
            main.name: float(best[0].scores[main.name]),
            "value": float(best[0].scores[main.name]),
            "values": best[0].values,
            "config": str(directory / "best.yaml"),
        }
        summary["top"] = [
            {"trial": r.number, **r.scores, "values": r.values} for r in best[:top]
        ]  # fmt: skip
    if len(objectives) > 1:
        summary["pareto"] = _write_pareto(directory, records, space, objectives)
    return summary


def _write_pareto(directory, records, space, objectives) -> list[dict[str, Any]]:
    front = pareto_front(records, objectives)
    folder = directory / "pareto"
    shutil.rmtree(folder, ignore_errors=True)  # the front of an earlier run may differ
    folder.mkdir(parents=True, exist_ok=True)
    points = []
    for record in front:
        path = folder / f"trial_{record.number}.yaml"
        run_dir.write_text(path, configs.dump(space.trial_config(record.values)))
        points.append({"trial": record.number, **record.scores, "config": str(path)})
    done = [r for r in records if r.done]
    plots.plot_pareto(
        directory / "pareto.png",
        [[r.scores[o.name] for o in objectives] for r in done],
        [[r.scores[o.name] for o in objectives] for r in front],
        [f"{o.name} ({o.direction})" for o in objectives],
        f"{space.config['model']}: {len(front)} of {len(done)} trials on the Pareto front",
    )
    return points


def top_table(summary: dict[str, Any]) -> str:
    """The best trials of a summary as a small aligned table (empty when none completed)."""
    top = summary.get("top") or []
    if not top:
        return ""
    names = [spec.rpartition(":")[0] for spec in summary["objectives"]]
    keys = sorted({k for row in top for k in row["values"]}, key=str)
    header = ["trial", *names, *keys]
    lines = [
        [str(row["trial"]), *[f"{row[n]:.4g}" for n in names],
         *[short(row["values"].get(k, "")) for k in keys]]
        for row in top
    ]  # fmt: skip
    widths = [max(len(x) for x in column) for column in zip(header, *lines)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
        for line in [header, *lines]
    )
