"""TensorBoard HParams logs of a search, whichever engine ran it.

Each finished trial writes one TensorBoard run, `DIRECTORY/tensorboard/trial_N`, holding
the trial's hyperparameters (its config values) and, once completed, its objectives as
scored (best epoch, mean over folds, `params`, `latency`), so

```
tensorboard --logdir DIRECTORY
```

shows every trial in the HParams dashboard (table, parallel coordinates, scatter plots).
`train.tensorboard: false` in the config turns it off. The logs are written through
TensorBoard's public `tensorboard.plugins.hparams.api` once per trial, when it ends.

Keras Tuner writes HParams of its own only for a `keras.callbacks.TensorBoard` passed to
`tuner.search` (the Python route); `kzoo tune` passes none, so each trial is logged once,
here, in the same layout for both engines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kzoo.tuning.reports import TrialRecord

FOLDER = "tensorboard"  # inside the search directory


def enabled(config: Mapping[str, Any]) -> bool:
    """Whether a search over `config` writes HParams logs (`train.tensorboard`)."""
    return bool(config["train"].get("tensorboard", True))


def log_dir(directory: str | Path, number: int | str) -> Path:
    """The TensorBoard run of trial `number` in the search `directory`."""
    return Path(directory) / FOLDER / f"trial_{number}"


def hparam_value(value: Any) -> bool | int | float | str:
    """A config value as an HParams value: lists, mappings and None as JSON text."""
    if isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, sort_keys=True)


def write_trial(directory: str | Path, record: TrialRecord) -> Path:
    """Writes a finished trial's hyperparameters and (completed) objectives; returns its run.

    Args:
        directory: the search directory (`kzoo tune --directory`).
        record: the trial as both engines report it (`kzoo.tuning.reports.TrialRecord`).
    """
    import tensorflow as tf  # TensorBoard's summary writer; only when a trial ends
    from tensorboard.plugins.hparams import api as hp

    path = log_dir(directory, record.number)
    values = {key: hparam_value(value) for key, value in record.values.items()}
    writer = tf.summary.create_file_writer(str(path))
    with writer.as_default():
        hp.hparams(values, trial_id=f"trial_{record.number}")
        if record.done:
            for name, score in record.scores.items():
                tf.summary.scalar(name, score, step=0)
    writer.close()
    return path
