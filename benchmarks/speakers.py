"""New speakers: the default digit recipe with each FSDD speaker held out in turn.

Trained on three speakers, tested on the fourth's 500 recordings, one config for every
speaker, against the plain-Keras script (`benchmarks/digits_baseline.py
--test-speaker`); see benchmarks/recipes.py. Targets: mean >= 0.90, no speaker below 0.85.
"""

from __future__ import annotations

from benchmarks.recipes import new_speakers, with_fsdd


def run(repeats: int, quick: bool) -> list[str]:
    return with_fsdd("Recipes: new speakers", new_speakers, quick)
