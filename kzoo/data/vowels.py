"""`vowels`: an embedded speech data set, synthesised on the fly with no download.

Each utterance is a sustained vowel made by source-filter synthesis (Fant's model of
speech production):

1. Source: a glottal pulse train at the speaker's fundamental frequency F0, with
   jitter (cycle-to-cycle period noise) and shimmer (cycle-to-cycle amplitude noise),
   each pulse a smoothed raised-cosine shape so the spectrum falls at about -12 dB per
   octave, as real glottal flow does.
2. Filter: a cascade of three second-order formant resonators (Klatt 1980) at the
   vowel's F1-F3, scaled by the speaker's vocal-tract length factor.
3. Radiation (a first difference), an amplitude envelope, and additive white noise.

Formant targets are the average F1-F3 of men, women and children for the twelve
American-English vowels of Hillenbrand, Getty, Clark & Wheeler (1995), "Acoustic
characteristics of American English vowels", JASA 97(5), Table V (values rounded
from the published averages). Each synthetic speaker belongs to one of the three
groups, with an F0 and a vocal-tract length factor of its own, so both the vowel
and the speaker can be recognised: the two label sets of the data set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 8000

# Hillenbrand et al. (1995), Table V: average F1, F2, F3 in Hz.
VOWELS = ("i", "ɪ", "e", "ɛ", "æ", "ɑ", "ɔ", "o", "ʊ", "u", "ʌ", "ɝ")
FORMANTS = {
    "men": [
        (342, 2322, 3000),
        (427, 2034, 2684),
        (476, 2089, 2691),
        (580, 1799, 2605),
        (588, 1952, 2601),
        (768, 1333, 2522),
        (652, 997, 2538),
        (497, 910, 2459),
        (469, 1122, 2434),
        (378, 997, 2343),
        (623, 1200, 2550),
        (474, 1379, 1710),
    ],
    "women": [
        (437, 2761, 3372),
        (483, 2365, 3053),
        (536, 2530, 3047),
        (731, 2058, 2979),
        (669, 2349, 2972),
        (936, 1551, 2815),
        (781, 1136, 2824),
        (555, 1035, 2828),
        (519, 1225, 2827),
        (459, 1105, 2735),
        (753, 1426, 2933),
        (523, 1588, 1929),
    ],
    "children": [
        (452, 3081, 3702),
        (511, 2552, 3403),
        (564, 2656, 3323),
        (749, 2267, 3310),
        (717, 2501, 3289),
        (1002, 1688, 2950),
        (803, 1210, 2982),
        (597, 1137, 2987),
        (568, 1490, 3072),
        (494, 1345, 2988),
        (749, 1546, 3145),
        (586, 1719, 2143),
    ],
}
# Mean F0 (Hz) of each group in the same study.
MEAN_F0 = {"men": 138.0, "women": 227.0, "children": 236.0}
BANDWIDTHS = (80.0, 100.0, 140.0)  # Hz, typical formant bandwidths (Klatt 1980)
# Token-to-token variation within a speaker: each utterance draws its F0 and each of
# its formants uniformly within these fractions of the speaker's values.
F0_TOKEN_SPREAD = 0.05
FORMANT_TOKEN_SPREAD = 0.04
TASKS = ("vowel", "speaker")
SINGULAR = {"men": "man", "women": "woman", "children": "child"}


@dataclass(frozen=True)
class Speaker:
    name: str
    group: str
    f0: float
    tract_scale: float  # formants are divided by this: > 1 is a longer vocal tract


def speakers(num_speakers: int, seed: int) -> list[Speaker]:
    """`num_speakers` synthetic speakers cycling through men, women and children.

    F0s within a group are spread over +-20% of the group mean and vocal-tract
    factors over +-8%, so speakers of one group differ as real ones do.
    """
    rng = np.random.default_rng(seed)
    groups = ("men", "women", "children")
    result = []
    for i in range(num_speakers):
        group = groups[i % 3]
        rank = i // 3
        per_group = (num_speakers - (i % 3) + 2) // 3
        spread = np.linspace(-1.0, 1.0, per_group)[rank] if per_group > 1 else 0.0
        f0 = MEAN_F0[group] * (1 + 0.2 * spread) * rng.uniform(0.98, 1.02)
        tract = 1 + 0.08 * rng.uniform(-1, 1)
        result.append(Speaker(f"{SINGULAR[group]}{rank + 1}", group, f0, tract))
    return result


def _glottal_source(rng, f0, num_samples, sample_rate, jitter, shimmer):
    """A pulse train with jitter and shimmer, each period an open-phase raised cosine."""
    source = np.zeros(num_samples)
    t = rng.uniform(0, sample_rate / f0)
    while t < num_samples:
        period = sample_rate / f0 * (1 + jitter * rng.standard_normal())
        amplitude = 1 + shimmer * rng.standard_normal()
        open_len = max(int(0.6 * period), 2)
        start = int(t)
        pulse = amplitude * 0.5 * (1 - np.cos(2 * np.pi * np.arange(open_len) / open_len))
        end = min(start + open_len, num_samples)
        source[start:end] += pulse[: end - start]
        t += period
    return source


def _resonator_coefficients(frequency, bandwidth, sample_rate):
    """Klatt's digital resonator y[n] = a x[n] + b y[n-1] + c y[n-2] (unit gain at DC)."""
    c = -np.exp(-2 * np.pi * bandwidth / sample_rate)
    b = 2 * np.exp(-np.pi * bandwidth / sample_rate) * np.cos(2 * np.pi * frequency / sample_rate)
    a = 1 - b - c
    return a, b, c


def _filter_formants(x, formants, sample_rate):
    """Runs every utterance (rows of `x`) through its own cascade of resonators at once."""
    y = x
    for k in range(formants.shape[1]):
        a, b, c = _resonator_coefficients(formants[:, k], BANDWIDTHS[k], sample_rate)
        out = np.zeros_like(y)
        prev1 = np.zeros(len(y))
        prev2 = np.zeros(len(y))
        for n in range(y.shape[1]):
            current = a * y[:, n] + b * prev1 + c * prev2
            out[:, n] = current
            prev2, prev1 = prev1, current
        y = out
    return y


def generate(
    num_speakers: int = 9,
    repetitions: int = 24,
    duration: float = 0.3,
    sample_rate: int = SAMPLE_RATE,
    snr_db: float = 25.0,
    seed: int = 0,
) -> dict[str, np.ndarray | list[str]]:
    """Synthesises the data set.

    Args:
        num_speakers: synthetic speakers, cycling through men, women and children.
        repetitions: utterances of each vowel by each speaker.
        duration: seconds per utterance.
        sample_rate: Hz.
        snr_db: signal-to-noise ratio of the additive white noise.
        seed: everything is a deterministic function of the seed.

    Returns:
        A dict with `audio` (float32, (n, samples)), `vowel` and `speaker` (int labels),
        `vowel_names` and `speaker_names`.

    >>> data = generate(num_speakers=3, repetitions=2, duration=0.1)
    >>> data["audio"].shape, data["vowel"][:3].tolist(), data["speaker_names"]
    ((72, 800), [0, 0, 1], ['man1', 'woman1', 'child1'])
    """
    if num_speakers < 1 or repetitions < 1 or duration <= 0:
        raise ValueError(
            "vowels.generate needs num_speakers >= 1, repetitions >= 1 and duration > 0. "
            f"Received: num_speakers={num_speakers}, repetitions={repetitions}, duration={duration}."
        )
    rng = np.random.default_rng(seed)
    people = speakers(num_speakers, seed)
    num_samples = int(duration * sample_rate)
    sources, formants, vowel_labels, speaker_labels = [], [], [], []
    for s, speaker in enumerate(people):
        for v in range(len(VOWELS)):
            target = np.array(FORMANTS[speaker.group][v], float) / speaker.tract_scale
            for _ in range(repetitions):
                f0 = speaker.f0 * rng.uniform(1 - F0_TOKEN_SPREAD, 1 + F0_TOKEN_SPREAD)
                sources.append(_glottal_source(rng, f0, num_samples, sample_rate, 0.01, 0.05))
                spread = rng.uniform(1 - FORMANT_TOKEN_SPREAD, 1 + FORMANT_TOKEN_SPREAD, 3)
                formants.append(np.minimum(target * spread, 0.45 * sample_rate))
                vowel_labels.append(v)
                speaker_labels.append(s)
    source = np.stack(sources)
    voiced = _filter_formants(source, np.stack(formants), sample_rate)
    radiated = np.diff(voiced, axis=1, prepend=0.0)
    # An onset and offset of 20 ms each, as a speaker starts and stops a vowel.
    ramp = min(int(0.02 * sample_rate), num_samples // 2)
    envelope = np.ones(num_samples)
    envelope[:ramp] = np.linspace(0, 1, ramp)
    envelope[num_samples - ramp :] = np.linspace(1, 0, ramp)
    speech = radiated * envelope
    speech /= np.sqrt(np.mean(speech**2, axis=1, keepdims=True)) + 1e-12
    noise = rng.standard_normal(speech.shape) * 10 ** (-snr_db / 20)
    audio = 0.1 * (speech + noise)
    return {
        "audio": audio.astype("float32"),
        "vowel": np.array(vowel_labels, "int32"),
        "speaker": np.array(speaker_labels, "int32"),
        "vowel_names": list(VOWELS),
        "speaker_names": [p.name for p in people],
    }
