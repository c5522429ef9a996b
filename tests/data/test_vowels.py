import numpy as np

from kzoo.data import vowels


def test_generate_is_deterministic_and_balanced():
    a = vowels.generate(num_speakers=3, repetitions=2, duration=0.05, seed=1)
    b = vowels.generate(num_speakers=3, repetitions=2, duration=0.05, seed=1)
    np.testing.assert_array_equal(a["audio"], b["audio"])
    assert a["audio"].shape == (3 * 12 * 2, 400)
    assert np.bincount(a["vowel"]).tolist() == [6] * 12
    assert np.bincount(a["speaker"]).tolist() == [24] * 3
    c = vowels.generate(num_speakers=3, repetitions=2, duration=0.05, seed=2)
    assert not np.array_equal(a["audio"], c["audio"])


def test_speakers_have_distinct_pitch_and_groups():
    people = vowels.speakers(9, seed=0)
    assert len({round(p.f0) for p in people}) == 9
    assert [p.group for p in people[:3]] == ["men", "women", "children"]


def test_spectral_peak_follows_first_formant():
    """An /ɑ/ (high F1) has more energy near 800 Hz than an /i/ (low F1), as the table says."""
    data = vowels.generate(num_speakers=1, repetitions=4, duration=0.2, snr_db=60)
    spectrum = np.abs(np.fft.rfft(data["audio"], axis=1)) ** 2
    freqs = np.fft.rfftfreq(data["audio"].shape[1], 1 / vowels.SAMPLE_RATE)
    band = (freqs > 650) & (freqs < 900)
    i_energy = spectrum[data["vowel"] == vowels.VOWELS.index("i")][:, band].mean()
    a_energy = spectrum[data["vowel"] == vowels.VOWELS.index("ɑ")][:, band].mean()
    assert a_energy > 3 * i_energy


def test_bad_arguments():
    import pytest

    with pytest.raises(ValueError, match="num_speakers >= 1"):
        vowels.generate(num_speakers=0)
