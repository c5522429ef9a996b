"""Arrange the Free Spoken Digit Dataset into the class-folder layout `kzoo train --data` reads.

FSDD ships flat, as `{digit}_{speaker}_{index}.wav`. This makes one sub-folder per
class (digits or speakers) holding symbolic links to the recordings, so nothing is
copied:

    git clone https://github.com/Jakobovski/free-spoken-digit-dataset
    python examples/fsdd_folders.py free-spoken-digit-dataset/recordings /tmp/fsdd_digits --by digit
    kzoo train digits_fsdd --data /tmp/fsdd_digits

The customary test split (indices 0-4 of every speaker and digit) is kept by the
file names, which the recipes' `data.test_pattern` matches.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import fsdd  # this folder's FSDD reader


def arrange(recordings: Path, output: Path, by: str, speakers: list[str] | None = None) -> int:
    """Links every recording into `output/<digit or speaker>/`; returns how many."""
    count = 0
    for path, match in fsdd.recordings(recordings):
        if speakers and match["speaker"] not in speakers:
            continue
        folder = output / match[by]
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / path.name
        if not link.exists():
            os.symlink(path.resolve(), link)
        count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recordings", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--by", choices=("digit", "speaker"), default="digit")
    parser.add_argument("--speakers", nargs="*", help="keep only these speakers")
    args = parser.parse_args()
    if not args.recordings.is_dir():
        print(
            f"fsdd_folders: error: {args.recordings} is not a directory of FSDD .wav files",
            file=sys.stderr,
        )
        return 2
    count = arrange(args.recordings, args.output, args.by, args.speakers)
    print(f"Linked {count} recordings into {args.output} by {args.by}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
