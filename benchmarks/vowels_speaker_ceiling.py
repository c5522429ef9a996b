"""The best speaker accuracy any model can reach on the embedded `vowels` set.

In `kzoo.data.vowels` a speaker is only an F0 and a vocal-tract factor: every
utterance draws its F0 within +-5 % of the speaker's and each formant F1-F3 within
+-4 % of the speaker's target for the vowel, and nothing else in the synthesis
depends on the speaker. So the Bayes classifier that is *told* each utterance's
exact F0 and formants bounds every model that has to estimate them from 0.3 s of
noisy audio. It picks the speaker (with any vowel) whose uniform box of
(F0, F1, F2, F3) gives the draw the highest density. This script estimates its
accuracy by Monte Carlo over the data set's own speakers:

    .venv/bin/python -m benchmarks.vowels_speaker_ceiling

Where two speakers' boxes overlap (woman3 and child3: F0 275 and 287 Hz, formants
a few percent apart), no model can tell the draws in the overlap apart. (The
synthesis clips formants at 0.45 x the sample rate, which touches some children's
F3; the oracle sees the unclipped values, so if anything it is optimistic.)
"""

from __future__ import annotations

import argparse

import numpy as np

from kzoo.data import vowels


def boxes(people: list[vowels.Speaker]) -> tuple[np.ndarray, np.ndarray]:
    """Low and high corners, (speakers, vowels, 4), of each speaker's (F0, F1-F3) draws."""
    f0 = np.array([p.f0 for p in people])[:, None, None] * np.ones((1, len(vowels.VOWELS), 1))
    formants = np.stack([np.array(vowels.FORMANTS[p.group], float) / p.tract_scale for p in people])
    spreads = (vowels.F0_TOKEN_SPREAD, vowels.FORMANT_TOKEN_SPREAD)
    low = np.concatenate([f0 * (1 - spreads[0]), formants * (1 - spreads[1])], axis=-1)
    high = np.concatenate([f0 * (1 + spreads[0]), formants * (1 + spreads[1])], axis=-1)
    return low, high


def oracle_accuracy(num_speakers: int = 9, draws: int = 2000, seed: int = 0) -> tuple:
    """Accuracy of the exact-parameter Bayes classifier, and its confusion matrix."""
    people = vowels.speakers(num_speakers, seed=0)  # the speakers `source: vowels` uses
    low, high = boxes(people)
    density = 1.0 / np.prod(high - low, axis=-1)  # (speakers, vowels)
    rng = np.random.default_rng(seed)
    confusion = np.zeros((num_speakers, num_speakers), int)
    for s in range(num_speakers):
        for v in range(len(vowels.VOWELS)):
            x = low[s, v] + (high[s, v] - low[s, v]) * rng.random((draws, 4))
            inside = np.all((x[:, None, None] >= low) & (x[:, None, None] <= high), axis=-1)
            score = (inside * density).max(axis=-1)  # (draws, speakers): best vowel each
            confusion[s] += np.bincount(score.argmax(axis=-1), minlength=num_speakers)
    return confusion.trace() / confusion.sum(), confusion, [p.name for p in people]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000, help="per speaker and vowel")
    args = parser.parse_args()
    accuracy, confusion, names = oracle_accuracy(draws=args.draws)
    print(f"Bayes accuracy given each utterance's exact F0 and F1-F3: {accuracy:.4f}")
    print("confusion (rows: true speaker), fractions of each speaker's utterances:")
    width = max(len(n) for n in names)
    print(" " * width, *(n.rjust(7) for n in names))
    for name, row in zip(names, confusion):
        print(name.rjust(width), *(f"{c / row.sum():7.3f}" for c in row))


if __name__ == "__main__":
    main()
