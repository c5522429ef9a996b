"""Leave-one-speaker-out digit recognition on the Free Spoken Digit Dataset.

Trains on three speakers and tests on the fourth, once per speaker, and prints a
table of test accuracies and their mean. A held-out speaker is chosen with the
config's `data.test_pattern` (FSDD names files `{digit}_{speaker}_{index}.wav`, so
`_george_` selects george), through kzoo's public API only:

    git clone https://github.com/Jakobovski/free-spoken-digit-dataset
    python examples/fsdd_folders.py free-spoken-digit-dataset/recordings /tmp/fsdd_digits --by digit
    python examples/fsdd_leave_one_speaker_out.py /tmp/fsdd_digits

`--config` picks another recipe, `--epochs` shortens every run, `--speakers` runs a
subset; each run directory lands under `--output`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import kzoo


def speakers_of(root: Path) -> list[str]:
    """The speakers named by the FSDD files under a class-folder directory."""
    found = {
        match["speaker"]
        for path in root.glob("*/*.wav")
        if (match := re.match(r"^\d_(?P<speaker>[a-z]+)_\d+\.wav$", path.name))
    }
    return sorted(found)


def run(config_name: str, data: Path, speaker: str, output: Path, epochs: int | None) -> dict:
    """Trains on every speaker but `speaker`; returns the run's metrics (with its test accuracy)."""
    config = kzoo.configs.load(
        config_name, {"data.source": str(data), "data.test_pattern": f"_{speaker}_"}
    )
    return kzoo.training.train(
        config, epochs=epochs, output=output / speaker, overwrite=True, verbose=0
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="FSDD arranged by digit (fsdd_folders.py)")
    parser.add_argument("--config", default="digits_fsdd")
    parser.add_argument("--epochs", type=int, default=None, help="default: the config's")
    parser.add_argument("--speakers", nargs="*", help="default: every speaker in the data")
    parser.add_argument("--output", type=Path, default=Path("runs/fsdd_loso"))
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"fsdd_leave_one_speaker_out: error: {args.data} is not a directory", file=sys.stderr)
        return 2
    found = speakers_of(args.data)
    speakers = args.speakers or found
    if len(found) < 2 or set(speakers) - set(found):
        print(
            f"fsdd_leave_one_speaker_out: error: {args.data} holds speakers {found}; "
            f"leaving one out needs at least two, and {speakers} must be among them.",
            file=sys.stderr,
        )
        return 2
    rows = []
    for speaker in speakers:
        started = time.perf_counter()
        metrics = run(args.config, args.data, speaker, args.output, args.epochs)
        seconds = time.perf_counter() - started
        rows.append((speaker, metrics["test"]["accuracy"], metrics["sizes"]["test"], seconds))
        print(f"{speaker}: test accuracy {rows[-1][1]:.3f} ({seconds:.0f} s)", flush=True)
    print("\n| held-out speaker | test accuracy | test examples | seconds |")
    print("|---|---|---|---|")
    for speaker, accuracy, size, seconds in rows:
        print(f"| {speaker} | {accuracy:.3f} | {size} | {seconds:.0f} |")
    mean = sum(r[1] for r in rows) / len(rows)
    print(
        f"| **mean** | **{mean:.3f}** | {sum(r[2] for r in rows)} | {sum(r[3] for r in rows):.0f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
