"""Data sources for training and evaluation.

`--data` (or a config's `data.source`) accepts:

- `vowels`: the embedded synthetic vowel set (`data.task`: `vowel` or `speaker`);
- `tfds:NAME[:split]`: a TensorFlow Datasets set, `data_dir` for an offline copy;
- a directory of class sub-folders (audio .wav, images or text files).

`load` returns a `Dataset` of batched, prefetched `tf.data` splits; everything is
deterministic given the seed. Audio clips are batched by length when the model takes
any length (`data.bucketing`, see `bucketing.py`), and what does not change between
epochs is computed once and kept in memory or on disk (`data.cache`, see `store.py`). `Frontend` (kzoo/data/frontend.py) is the feature front
end the splits are made with, for prediction to use the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kzoo.data import folders, vowels
from kzoo.data.bucketing import variable_length
from kzoo.data.examples import Examples
from kzoo.data.frontend import Frontend
from kzoo.data.pipeline import Dataset, prepare, split_indices
from kzoo.errors import ConfigError, did_you_mean, preview

__all__ = [
    "Dataset",
    "Examples",
    "Frontend",
    "examples",
    "load",
    "split_indices",
    "variable_length",
]


def examples(
    data: dict[str, Any], source: str | None = None, data_dir: str | Path | None = None
) -> Examples:
    """Loads the examples a source names (no features, no splits)."""
    source = source or data["source"]
    if not source:  # a config for data kzoo cannot ship: the user names a copy
        where = data.get("download_instructions")
        raise ConfigError(
            "No data source: this config has no default (`data.source` is null). Name one "
            "with --data DIR, or --set data.source=DIR (a directory of class sub-folders, "
            "`vowels` or `tfds:NAME`)." + (f" {where}" if where else "")
        )
    source = str(source)
    if source == "vowels" or source.startswith("vowels:"):
        task = source.partition(":")[2] or data.get("task") or "vowel"
        if task not in vowels.TASKS:
            raise ConfigError(f"Unknown vowels task {task!r}. {did_you_mean(task, vowels.TASKS)}")
        generated = vowels.generate(seed=0)
        return Examples(
            kind="audio",
            inputs=list(generated["audio"]),
            labels=generated[task],
            class_names=generated[f"{task}_names"],
            sample_rate=vowels.SAMPLE_RATE,
        )
    if source.startswith("tfds:"):
        from kzoo.data import tfds

        _, name, split = (source.split(":", 2) + [""])[:3]
        if not name:
            raise ConfigError(f"Data source {source!r} names no data set: use tfds:NAME[:split].")
        return tfds.load(name, split or "train", data_dir)
    return folders.load(source, data.get("sample_rate"), data.get("test_pattern"))


def load(
    data: dict[str, Any],
    batch_size: int,
    seed: int = 0,
    source: str | None = None,
    data_dir: str | Path | None = None,
    variable_length: bool = False,
    steps: int | None = None,
    class_names: list[str] | None = None,
) -> Dataset:
    """The batched splits of a config's `data` block, optionally from another `source`.

    `variable_length`: the model takes inputs of any length (`variable_length(config)`),
    so audio batches are bucketed by length unless `data.bucketing` is false. `steps`:
    the time steps of a trained model with a fixed input length (audio is padded or cut
    to them). `class_names`: a trained model's classes in label order; the data's
    labels are matched to them by name (`Examples.relabel`).
    """
    loaded = examples(data, source, data_dir)
    if class_names is not None:
        loaded = loaded.relabel(class_names)
    if data.get("targets", "labels") == "labels" and len(loaded.class_names) < 2:
        raise ConfigError(
            f"The data has a single class ({preview(loaded.class_names)}); a classifier needs "
            "at least two. Add a sub-folder per class, or set `data.targets: inputs` to train "
            "an autoencoder."
        )
    if data.get("sample_rate") and loaded.sample_rate and loaded.sample_rate != data["sample_rate"]:
        raise ConfigError(
            f"The audio is sampled at {loaded.sample_rate} Hz but the config expects "
            f"`data.sample_rate`={data['sample_rate']} Hz. Resample the audio or change the setting."
        )
    return prepare(loaded, data, batch_size, seed, variable_length, steps)
