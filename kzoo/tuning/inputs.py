"""What both engines start from: a search's config, data and space loaded once, and the
search directory with its search.json (a resume must match what was searched)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras

from kzoo import configs, data, run_dir
from kzoo.errors import ConfigError
from kzoo.training import _fill_from_data
from kzoo.tuning import folds as folds_lib
from kzoo.tuning import reports
from kzoo.tuning.hypermodel import ConfigHyperModel
from kzoo.tuning.space import Objective, SearchSpace, load, parse_objective, require_search

FILES = ("search.json", "results.csv", "trials.png", "best.yaml", "pareto.png")


def positive(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"--{name} must be an integer of at least {minimum}. Received: {value!r}."
        )


def prepare_directory(
    directory: Path,
    record: dict[str, Any],
    overwrite: bool,
    shared: bool = False,
    reset: Sequence[str] = (),
    repair=None,
) -> None:
    """Checks that `directory` holds no other search (or clears it), then writes search.json.

    `shared`: other processes may be writing the same directory (workers); `reset`: the
    engine's files and folders that `overwrite` removes; `repair(directory)` fixes an
    engine's state left half-written by a killed process before it is read.
    """
    marker = directory / "search.json"
    if overwrite:
        for name in reset:
            path = directory / name
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        for name in FILES:
            (directory / name).unlink(missing_ok=True)
    elif marker.exists():
        if repair is not None:
            repair(directory)
        previous = json.loads(marker.read_text())
        changed = [k for k in record if previous.get(k) != record[k]]
        if changed:
            raise ConfigError(
                f"{directory} holds a different search (its {', '.join(changed)} differ), so "
                "it cannot be resumed with these settings. Pass --overwrite to start afresh, "
                "or choose another --directory."
            )
    elif not shared and any((directory / name).exists() for name in reset):
        raise ConfigError(
            f"{directory} holds search state but no {marker.name}: it was not written by "
            "`kzoo tune`. Pass --overwrite or choose another --directory."
        )
    directory.mkdir(parents=True, exist_ok=True)
    run_dir.write_json(marker, record)


class Prepared:
    """A search's config, data and space, loaded once: what both engines need."""

    def __init__(
        self,
        config: str | Path | Mapping[str, Any],
        *,
        source: str | None = None,
        data_dir: str | Path | None = None,
        epochs: int | None = None,
        folds: int | None = None,
        overrides: Sequence[str] | Mapping[str, Any] | None = None,
        hypermodel: bool = True,
    ):
        config = load(config, overrides)
        require_search(config)
        if epochs is not None:
            positive("epochs", epochs)
            config["train"]["epochs"] = epochs
        if source is not None:
            config["data"]["source"] = str(source)
        if folds is not None:
            positive("folds", folds, minimum=2)
        self.config = config
        self.folds = folds
        self.data_dir = data_dir
        self.hypermodel = hypermodel

    def load(self) -> Prepared:
        """Loads the data (the slow part) and builds the search space."""
        config = self.config
        train = config["train"]
        keras.utils.set_random_seed(int(train["seed"]))
        dataset = data.load(
            config["data"], train["batch_size"], train["seed"], data_dir=self.data_dir
        )
        _fill_from_data(config, dataset)
        configs.validate(config)
        self.x_train, self.y_train = dataset.arrays["train"]
        self.x_val, self.y_val = dataset.arrays["validation"]
        self.validation = len(self.y_val) > 0 or bool(self.folds)
        self.fold_data = None
        if self.folds:
            seed = int(train["seed"])
            self.fold_data = folds_lib.fold_data(
                self.x_train, self.y_train, self.x_val, self.y_val, self.folds, seed
            )
            total = len(self.fold_data[1])
            train_size = total - total // self.folds
        else:
            train_size = len(self.y_train)
        space_class = ConfigHyperModel if self.hypermodel else SearchSpace
        self.space = space_class(config, train_size=train_size)
        return self

    @property
    def validation_data(self):
        return None if self.folds or not len(self.y_val) else (self.x_val, self.y_val)

    def objectives(self, specs: Sequence[str], pseudo: bool = False) -> list[Objective]:
        parsed = [parse_objective(self.config, s, self.validation, pseudo) for s in specs]
        names = [o.name for o in parsed]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ConfigError(f"--objective {repeated[0]} is given twice. Give each once.")
        return parsed


def raise_stopped(count: int, error: BaseException, directory: Path) -> None:
    raise ConfigError(
        f"The search stopped: {count} trials in a row failed "
        f"(last: {reports.last_line(str(error))}). {directory / 'results.csv'} lists every "
        "trial; narrow the search space (e.g. the learning rate range) and run again."
    )


def require_a_completed_trial(summary: dict, directory: Path) -> dict:
    """A search none of whose trials completed ends in one error line, not a summary."""
    if summary.get("trials") and not summary.get("completed") and not summary.get("pruned"):
        raise ConfigError(
            f"Every trial of the search failed ({summary['failed']} of {summary['trials']}). "
            f"{directory / 'results.csv'} gives each trial's error; narrow the search space "
            "(e.g. the learning-rate range) or fix the config, and run again with --overwrite."
        )
    return summary
