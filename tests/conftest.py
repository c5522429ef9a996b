"""Shared fixtures: every test starts from a fresh Keras state and a fixed seed."""

import os
from pathlib import Path

import keras
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


def backend() -> str:
    return keras.backend.backend()


def require_shared(*parts: str) -> Path:
    """A path under ../shared/data, or a skip saying why the test cannot run."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (a fresh checkout has no ../shared/data)")
    return path


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
