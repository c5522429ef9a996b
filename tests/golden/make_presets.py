"""Makes the stored inputs and expected outputs of the shipped presets' regression test.

    PYTHONPATH=. python tests/golden/make_presets.py [NAME ...]

For each shipped preset, `tests/golden/presets/NAME/` gets a few small input files and
`expected.json`, the preset's predictions on them (label and probabilities) as
computed now; `tests/test_presets.py` checks that a fresh process still gives them.
Run it again only when a preset's weights are retrained on purpose.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent / "presets"
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import kzoo  # noqa: E402
from kzoo.data import vowels  # noqa: E402
from tests.helpers import write_wav  # noqa: E402


def inputs(name: str, folder: Path) -> list[Path] | None:
    """A few inputs per preset, none of them from its training data: written into `folder`,
    or (for data the project may not ship) returned where they lie."""
    if name == "vowels":
        data = vowels.generate(num_speakers=3, repetitions=1, seed=2026)
        for i in (0, 14, 29, 35):  # several vowels, a man's, a woman's and a child's voice
            label = data["vowel_names"][data["vowel"][i]]
            write_wav(
                folder / f"{i:02d}_{data['speaker_names'][data['speaker'][i]]}.wav",
                data["audio"][i],
            )
            print(f"  {i}: {label}")
    elif name == "fsdd_digits":
        # FSDD (CC BY-SA 4.0) is not copied into the project: the inputs stay in the shared
        # copy of the data set, and only the expected outputs are stored here. The preset
        # is trained on all of FSDD's recordings, so these check only that its outputs stay
        # the same; its accuracy comes from the recipe's held-out evaluations.
        recordings = ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
        return [recordings / f"{stem}.wav" for stem in FSDD_INPUTS]
    else:
        raise SystemExit(f"No golden inputs defined for preset {name!r}.")


FSDD_INPUTS = ("0_jackson_0", "3_george_1", "7_nicolas_2", "9_lucas_3")


def main(names: list[str]) -> None:
    for name in names or kzoo.presets.list():
        folder = HERE / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        print(name)
        files = inputs(name, folder) or sorted(folder.glob("*.wav"))
        clf = kzoo.load(name)
        probabilities = clf.probabilities(files)
        expected = {
            f.name: {"label": clf.labels[int(np.argmax(p))], "probabilities": p.tolist()}
            for f, p in zip(files, probabilities)
        }
        (folder / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
        for file, result in expected.items():
            print(f"  {file}: {result['label']} {max(result['probabilities']):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
