"""`Examples`: what every data source returns before features, splits and batching."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from kzoo.errors import ConfigError, preview

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

    def relabel(self, class_names: Sequence[str]) -> Examples:
        """These examples labelled by index into `class_names`, matched by name.

        A trained model's output i is its class `class_names[i]`; data read later (other
        folders, a subset of the classes) numbers its own classes in its own order, so
        its labels are mapped to the model's by name. A class the model does not know
        is refused: no output stands for it.
        """
        wanted = [str(name) for name in class_names]
        own = [str(name) for name in self.class_names]
        unknown = [name for name in own if name not in wanted]
        if unknown:
            raise ConfigError(
                f"The data has class(es) {preview(unknown)} that the model was not trained on: "
                f"its classes, in label order, are {preview(wanted)}. Evaluate on data whose "
                "class folders are named after those classes (a subset is fine), or train a "
                "model on these classes."
            )
        index = np.array([wanted.index(name) for name in own], "int32")
        return replace(self, labels=index[np.asarray(self.labels, "int64")], class_names=wanted)
