"""Where a data set's per-example arrays wait between epochs: memory, or disk when large.

What does not change from one epoch to the next (the features of unaugmented audio,
the trimmed waveforms that augmentation starts from) is computed once and packed end
to end in one array of rows (`Ragged`): example `i` is rows `starts[i] : starts[i] +
lengths[i]`. Batches gather any set of examples from it, zero-padded, so the whole
split can be reshuffled every epoch without holding examples in a shuffle buffer.

`data.cache` chooses where the rows live:

- `auto` (the default): in memory up to `MEMORY_BUDGET` bytes, in a temporary file
  (memory-mapped, removed when the process ends) beyond that;
- `memory`: always in memory;
- a directory: in a file there, memory-mapped, removed when the process ends.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from kzoo.errors import ConfigError

MEMORY_BUDGET = 256 * 2**20  # bytes of rows `auto` holds in memory


def resolve_cache(value: Any) -> str | Path:
    """`"auto"`, `"memory"` or a directory checked to be writable (created if missing)."""
    if value is None:
        return "auto"
    if value in ("auto", "memory"):
        return value
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(
            "`data.cache` must be `auto` (memory, or a temporary file when large), `memory` "
            f"or a directory for the cached features. Received: {value!r}."
        )
    directory = Path(value).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise ConfigError(
            f"`data.cache` directory {directory} is not writable ({error.strerror or error}). "
            "Choose a writable directory, or `data.cache: memory`."
        ) from None
    return directory


class Ragged:
    """Variable-length examples `(steps, dims)`, packed end to end.

    Args:
        values: float32 or int32 `(total steps, dims)`: an array or a read-only memmap.
        lengths: int (n,) steps of each example.
    """

    def __init__(self, values: np.ndarray, lengths: np.ndarray):
        self.lengths = np.asarray(lengths, "int64")
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype("int64")
        self.dims = int(values.shape[1])
        self.dtype = tf.as_dtype(values.dtype)
        self.on_disk = isinstance(values, np.memmap)
        self._values = values if self.on_disk else tf.constant(values)
        self._starts = tf.constant(self.starts)
        self._lengths = tf.constant(self.lengths)

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def nbytes(self) -> int:
        return int(self.lengths.sum()) * self.dims * self.dtype.size

    def gather(self, indices: tf.Tensor, steps: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Examples `indices` zero-padded (or cut) to `steps`: `(b, steps, dims)`, lengths."""
        indices = tf.cast(indices, tf.int64)
        steps = tf.cast(steps, tf.int64)
        lengths = tf.minimum(tf.gather(self._lengths, indices), steps)
        if self.on_disk:
            batch = tf.numpy_function(self._read, [indices, steps], self.dtype, stateful=False)
            batch.set_shape([None, None, self.dims])
            return batch, lengths
        offsets = tf.range(steps)[None, :]
        inside = offsets < lengths[:, None]
        rows = tf.where(inside, tf.gather(self._starts, indices)[:, None] + offsets, 0)
        batch = tf.gather(self._values, rows)
        return tf.where(inside[..., None], batch, tf.zeros([], self.dtype)), lengths

    def _read(self, indices: np.ndarray, steps: np.ndarray) -> np.ndarray:
        batch = np.zeros((len(indices), int(steps), self.dims), self._values.dtype)
        for row, i in enumerate(indices):
            n = min(int(self.lengths[i]), int(steps))
            batch[row, :n] = self._values[self.starts[i] : self.starts[i] + n]
        return batch

    def dense(self, indices: np.ndarray, steps: int, chunk: int = 1024) -> np.ndarray:
        """Examples `indices` as one zero-padded numpy array `(len(indices), steps, dims)`."""
        parts = [
            self.gather(indices[i : i + chunk], steps)[0].numpy()
            for i in range(0, len(indices), chunk)
        ]
        if not parts:
            return np.zeros((0, steps, self.dims), self.dtype.as_numpy_dtype)
        return np.concatenate(parts)


class Writer:
    """Collects examples one by one into a `Ragged`, in memory or on disk as `cache` says."""

    def __init__(self, cache: str | Path, budget: int = MEMORY_BUDGET):
        self.cache = cache
        self.budget = budget
        self.chunks: list[np.ndarray] = []
        self.lengths: list[int] = []
        self.bytes = 0
        self.file = None
        self.path: Path | None = None
        self.dtype = None
        self.dims = None
        if isinstance(cache, Path):
            self._open(cache)

    def _open(self, directory: Path | None) -> None:
        handle, name = tempfile.mkstemp(prefix="kzoo-cache-", suffix=".bin", dir=directory)
        self.file = os.fdopen(handle, "wb")
        self.path = Path(name)
        for chunk in self.chunks:
            self.file.write(chunk.tobytes())
        self.chunks = []

    def add(self, rows: np.ndarray) -> None:
        """One example's rows `(steps, dims)`."""
        rows = np.ascontiguousarray(rows)
        self.dtype, self.dims = rows.dtype, rows.shape[1]
        self.lengths.append(len(rows))
        self.bytes += rows.nbytes
        if self.file is None:
            self.chunks.append(rows)
            if self.cache == "auto" and self.bytes > self.budget:
                self._open(None)
        else:
            self.file.write(rows.tobytes())

    def finish(self) -> Ragged:
        if self.file is None:
            values = (
                np.concatenate(self.chunks)
                if self.chunks
                else np.zeros((0, self.dims or 1), self.dtype or "float32")
            )
            self.chunks = []
            return Ragged(values, np.asarray(self.lengths))
        self.file.close()
        total = int(sum(self.lengths))
        values = np.memmap(self.path, self.dtype, "r", shape=(total, self.dims))
        store = Ragged(values, np.asarray(self.lengths))
        weakref.finalize(store, _remove, self.path)
        return store


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


__all__ = ["MEMORY_BUDGET", "Ragged", "Writer", "resolve_cache"]
