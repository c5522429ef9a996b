"""Smoke tests of the example recipes: each runs its `main` on a tiny setting."""

import importlib.util
import math
import sys
from pathlib import Path

import pytest

from tests.conftest import backend, require_shared

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example(name: str):
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))  # as `python examples/NAME.py` has it: fsdd.py
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _eager() -> list[str]:
    # One batch: tracing the train step costs more than running it eagerly, except on
    # JAX, whose eager scans (CTC, GRU) are slower than one compilation.
    return [] if backend() == "jax" else ["--eager"]


def test_fsdd_speaker_embeddings(tmp_path):
    recordings = require_shared("fsdd", "recordings")
    main = _example("fsdd_speaker_embeddings").main
    result = main(
        ["--fsdd", str(recordings), "--limit", "6", "--epochs", "1", "--output", str(tmp_path)]
        + _eager()
    )
    assert 0.0 <= result["eer"] <= 1.0 and 0.0 <= result["centroid_accuracy"] <= 1.0
    assert math.isfinite(result["final_loss"])
    assert result["sizes"]["test"] == 200 and result["sizes"]["train"] == 40
    for name in ("model.keras", "test_embeddings.npz", "results.json"):
        assert (tmp_path / name).exists()


def test_vae_samples(tmp_path):
    main = _example("vae_samples").main
    result = main(
        ["--speakers", "3", "--repetitions", "4", "--epochs", "1", "--columns", "3"]
        + ["--output", str(tmp_path)]
    )
    assert math.isfinite(result["test_mse"]) and math.isfinite(result["final_loss"])
    assert (tmp_path / "vae_samples.png").stat().st_size > 0
    assert (tmp_path / "results.json").exists()


def test_fsdd_digit_strings(tmp_path):
    recordings = require_shared("fsdd", "recordings")
    main = _example("fsdd_digit_strings").main
    result = main(
        ["--fsdd", str(recordings), "--limit", "6", "--strings", "32", "--test-strings", "8"]
        + ["--epochs", "1", "--output", str(tmp_path)]
        + _eager()
    )
    assert math.isfinite(result["token_error_rate"]) and result["token_error_rate"] >= 0.0
    assert math.isfinite(result["final_loss"])
    assert result["sizes"] == {"train_strings": 32, "test_strings": 8}
    assert (tmp_path / "model.keras").exists() and (tmp_path / "results.json").exists()


def test_fsdd_folders_links_one_folder_per_class(tmp_path):
    recordings = require_shared("fsdd", "recordings")
    arrange = _example("fsdd_folders").arrange
    assert arrange(recordings, tmp_path, "digit", speakers=["george"]) == 500
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert folders == [str(d) for d in range(10)]
    assert all(p.is_symlink() for p in (tmp_path / "3").iterdir())


def test_fsdd_reader_says_when_a_folder_holds_no_recordings(tmp_path):
    fsdd = _example("fsdd")
    (tmp_path / "notes.wav").write_bytes(b"")  # not an FSDD name
    with pytest.raises(SystemExit, match=r"^example: error: no FSDD \.wav files in "):
        fsdd.load(tmp_path, "example")
