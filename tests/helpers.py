"""Small fixtures for spine tests: tiny audio folders and configs written to tmp dirs."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
import yaml

import kzoo
from kzoo.data import vowels


def write_wav(path: Path, samples: np.ndarray, sample_rate: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.tobytes())


def vowel_folders(
    root: Path, num_speakers: int = 3, repetitions: int = 3, vowels_kept: int = 3
) -> Path:
    """A class-folder data set of synthetic vowels: one sub-folder per vowel."""
    data = vowels.generate(num_speakers=num_speakers, repetitions=repetitions, duration=0.12)
    counts: dict[int, int] = {}
    for audio, label in zip(data["audio"], data["vowel"]):
        if label >= vowels_kept:
            continue
        index = counts[label] = counts.get(label, -1) + 1
        # Variable lengths, like real recordings.
        length = len(audio) - (index % 3) * 100
        write_wav(root / f"v{label}" / f"{label}_spk_{index}.wav", audio[:length] * 3)
    return root


def data_block(root: Path, **overrides) -> dict:
    """A resolved `data` block reading the class folders at `root` as 16-bin log-mels."""
    block = kzoo.configs.load("mlp")["data"]
    block.update(
        source=str(root),
        features={"type": "logmel", "num_mel_bins": 16},
        validation_split=0.2,
        test_split=0.2,
    )
    block.update(overrides)
    return block


def tiny_config(path: Path, model: str = "mlp", **train) -> Path:
    config = {
        "model": model,
        "args": {"units": [16], "dropout": 0.0} if model == "mlp" else {},
        "train": {"epochs": 1, "batch_size": 8, **train},
        "data": {
            "features": {"type": "logmel", "num_mel_bins": 16},
            "validation_split": 0.2,
            "test_split": 0.2,
        },
    }
    path.write_text(yaml.safe_dump(config))
    return path


def is_large_model(name: str) -> bool:
    """The keras.applications backbones: 15-24M parameters and .keras files of 170-290 MB."""
    return kzoo.registry.builder(name).__module__ == "kzoo.models.applications"


def model_params() -> list:
    """Every registered model name as a pytest parameter, the large ones marked `slow`.

    Building, training and reloading a large backbone takes minutes on 2 CPU cores, so
    `make test` leaves them to `make test-slow`; their wrapper code (input reshaping,
    resizing, weights files, freezing, heads) runs in every pass through
    tests/models/test_applications.py's small MobileNetV2.
    """
    return [
        pytest.param(name, marks=pytest.mark.slow) if is_large_model(name) else name
        for name in kzoo.models.list()
    ]


def conditional_search() -> dict:
    """A search block for `mlp` whose `args.dropout` is searched only with layer norm."""
    return {
        "args.normalization": {"type": "choice", "values": ["batch", "layer"]},
        "args.dropout": {
            "type": "float",
            "min": 0.0,
            "max": 0.5,
            "parent": "args.normalization",
            "parent_values": ["layer"],
        },
    }
