"""The Free Spoken Digit Dataset's recordings, as the FSDD examples read them.

Files are named `{digit}_{speaker}_{index}.wav`; indices 0-4 of every speaker and
digit are the data set's customary test split. Not an example itself: the others
import it (`python examples/NAME.py` puts this folder on the import path).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

NAME = re.compile(r"^(?P<digit>\d)_(?P<speaker>[a-z]+)_(?P<index>\d+)\.wav$")
TEST_INDICES = range(5)


def recordings(directory: Path, limit: int | None = None) -> Iterator[tuple[Path, re.Match]]:
    """Each FSDD file in `directory` (sorted) with its name's parts; `limit` keeps indices below it."""
    for path in sorted(Path(directory).glob("*.wav")):
        match = NAME.match(path.name)
        if match and (limit is None or int(match["index"]) < limit):
            yield path, match


def load(directory: Path, program: str, limit: int | None = None):
    """Waveforms, digits, speaker names and recording indices, and the sample rate.

    Exits with `program: error: ...` when `directory` holds no FSDD file.
    """
    from kzoo.data import folders  # here, so fsdd_folders.py links files without TensorFlow

    waves, digits, speakers, indices, rate = [], [], [], [], None
    for path, match in recordings(directory, limit):
        rate, wave = folders.read_wav(path)
        waves.append(wave)
        digits.append(int(match["digit"]))
        speakers.append(match["speaker"])
        indices.append(int(match["index"]))
    if not waves:
        raise SystemExit(f"{program}: error: no FSDD .wav files in {directory}")
    return waves, np.array(digits), np.array(speakers), np.array(indices), rate
