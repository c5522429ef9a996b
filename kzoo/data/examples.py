"""`Examples`: what every data source returns before features, splits and batching."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

KINDS = ("audio", "image", "text", "tabular")


@dataclass
class Examples:
    """A labelled data set held in memory.

    Attributes:
        kind: "audio" (a sequence of 1-D float waveforms in [-1, 1]: a list, or the
            `folders.WavFiles` of a class folder, which reads a file when indexed),
            "image" (an array (n, height, width, channels)), "text" (a list of strings)
            or "tabular".
        inputs: the examples, as `kind` says.
        labels: int32 (n,) class indices into `class_names`.
        class_names: the name of each class.
        sample_rate: Hz, for audio.
        test_mask: bool (n,), examples that a source fixes as its test split (e.g.
            FSDD's indices 0-4), or None to split at random.
        names: a name per example (file name), for error messages and reports.
    """

    kind: str
    inputs: Sequence | np.ndarray
    labels: np.ndarray
    class_names: list[str]
    sample_rate: int | None = None
    test_mask: np.ndarray | None = None
    names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)
