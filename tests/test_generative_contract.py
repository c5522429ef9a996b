"""The CLI's contract, searched for counter-examples rather than listed by hand.

Hypothesis builds configs, `--set` values and class-folder data sets from the rules the
validator itself reads (`kzoo.configs.RULES`, the builders' defaults, the feature
ranges), good values and hostile ones alike (NaN, infinity, huge, negative, zero,
wrong types, sections replaced by scalars), and runs `kzoo train` on each. Whatever it
draws, the outcome must be one of:

- exit 0 and a complete run directory;
- exit 2 (or 3 for a diverged run) with exactly one `kzoo: error:` line, no traceback,
  and no run directory (a diverged run keeps its last good checkpoint).

`make test` runs a fixed-seed profile of a few dozen examples; `make fuzz` a long one.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import wave
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kzoo import cli, configs, registry, run_dir
from kzoo.data import features
from tests.helpers import write_wav

settings.register_profile(
    "ci",
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "fuzz", max_examples=400, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("KZOO_FUZZ_PROFILE", "ci"))

BASE = {
    "model": "mlp",
    "args": {"units": [8], "dropout": 0.0},
    "train": {"epochs": 1, "batch_size": 4},
    "data": {
        "features": {"type": "logmel", "num_mel_bins": 8},
        "validation_split": 0.2,
        "test_split": 0.2,
    },
}

HOSTILE = st.sampled_from(
    [
        math.nan,
        math.inf,
        -math.inf,
        0,
        -1,
        -0.5,
        1.5,
        10**12,
        1e300,
        True,
        None,
        "",
        "x" * 300,
        "ten",
        [],
        [1, 2],
        [math.nan],
        {},
        {"name": "x"},
        {"a": {"b": [1, None]}},
    ]
)


def _good_values(rule: configs.Rule):
    """Values a rule accepts (the contract still allows any of them to fail later)."""
    if rule.kind in ("count", "number"):
        low = rule.minimum if rule.minimum is not None else -10
        high = min(rule.maximum if rule.maximum is not None else 10, low + 50)
        if rule.kind == "count":
            return st.integers(int(math.ceil(low)), int(high))
        return st.floats(low, high, allow_nan=False, exclude_max=rule.exclusive_maximum)
    if rule.kind == "choice":
        return st.sampled_from(rule.choices)
    return st.nothing()


def _rule_mutation():
    keys = sorted(configs.RULES)
    return st.sampled_from(keys).flatmap(
        lambda key: st.tuples(st.just(key), st.one_of(_good_values(configs.RULES[key]), HOSTILE))
    )


def _argument_mutation():
    defaults = {
        k: p.default for k, p in registry.builder_arguments("mlp").items() if k != "input_shape"
    }
    return st.tuples(
        st.sampled_from(sorted(f"args.{k}" for k in defaults)),
        st.one_of(HOSTILE, st.integers(-3, 64), st.lists(st.integers(-2, 32), max_size=3)),
    )


def _feature_mutation():
    keys = sorted(set(features.DEFAULTS["logmel"]) | set(features.DEFAULTS["mfcc"]) | {"type"})
    return st.tuples(
        st.sampled_from([f"data.features.{k}" for k in keys]),
        st.one_of(
            HOSTILE,
            st.sampled_from(["raw", "logmel", "mfcc", "cmvn", "utterance"]),
            st.floats(0.01, 2000, allow_nan=False),
            st.integers(1, 128),
        ),
    )


def _section_mutation():
    return st.tuples(st.sampled_from(["args", "train", "data", "search", "model"]), HOSTILE)


MUTATIONS = st.lists(
    st.one_of(_rule_mutation(), _argument_mutation(), _feature_mutation(), _section_mutation()),
    min_size=1,
    max_size=3,
)


def _apply(config: dict, dotted: str, value) -> None:
    node = config
    *parents, last = dotted.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[last] = value


def _yaml_text(value) -> str:
    """A value as one YAML flow line (what a user types after `--set key=`)."""
    return (
        yaml.safe_dump(value, default_flow_style=True, width=10**6)
        .strip()
        .removesuffix("\n...")
        .removesuffix("...")
        .strip()
    )


def _run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exit_info:  # argparse
        code = exit_info.code
    return code, capsys.readouterr().err


def _assert_contract(code: int, err: str, run: Path) -> None:
    assert "Traceback" not in err, err[-3000:]
    if code == 0:
        for name in (*run_dir.FILES, run_dir.MARKER):
            assert (run / name).is_file(), f"exit 0 but {name} is missing"
        return
    assert code in (2, 3), f"exit {code}: {err[-3000:]}"
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kzoo: error: "), err[-3000:]
    if code == 2:
        assert not run.exists(), f"exit 2 left {run} behind: {err}"
    else:
        assert (run / "checkpoint").is_dir() or not run.exists()


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("generative") / "data"
    t = np.arange(1600) / 8000
    for c in range(3):
        for i in range(6):
            write_wav(root / f"c{c}" / f"{i}.wav", 0.3 * np.sin(2 * np.pi * (250 + 150 * c) * t))
    return root


@given(mutations=MUTATIONS, through_set=st.booleans())
def test_any_config_keeps_the_contract(capsys, data_folder, mutations, through_set):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config = yaml.safe_load(yaml.safe_dump(BASE))
        overrides = []
        for dotted, value in mutations:
            if through_set and "." in dotted:
                overrides += ["--set", f"{dotted}={_yaml_text(value)}"]
            else:
                _apply(config, dotted, value)
        path = tmp / "c.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True))
        run = tmp / "run"
        argv = ["train", path, "--data", data_folder, "--output", run, "--quiet", *overrides]
        code, err = _run(argv, capsys)
        _assert_contract(code, err, run)


def _write_clip(path: Path, frames: int, rate: int, width: int, channels: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if rate <= 0:  # `wave` will not write it; a damaged header can still say so
        import struct

        size = frames * width * channels
        fmt = struct.pack("<HHIIHH", 1, channels, 0, 0, channels * width, 8 * width)
        body = b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", size)
        path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(body) + size) + b"WAVE" + body)
        path.write_bytes(path.read_bytes() + b"\x01" * size)
        return
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(np.random.default_rng(frames).bytes(frames * width * channels))


CLIPS = st.lists(
    st.tuples(
        st.integers(0, 2400),  # frames
        st.sampled_from([8000, 8000, 8000, 16000, 0]),
        st.sampled_from([2, 2, 2, 1, 3]),
        st.sampled_from([1, 1, 1, 2]),
    ),
    min_size=0,
    max_size=5,
)


@given(classes=st.lists(CLIPS, min_size=1, max_size=3), extra=st.sampled_from(["", "txt", "dir"]))
def test_any_data_folder_keeps_the_contract(capsys, classes, extra):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        data.mkdir()
        for c, clips in enumerate(classes):
            (data / f"c{c}").mkdir()
            for i, (frames, rate, width, channels) in enumerate(clips):
                _write_clip(data / f"c{c}" / f"{i}.wav", frames, rate, width, channels)
        if extra == "txt":
            (data / "c0" / "notes.txt").write_text("not audio")
        elif extra == "dir":
            (data / "c0" / "nested").mkdir()
        path = tmp / "c.yaml"
        path.write_text(yaml.safe_dump(BASE))
        run = tmp / "run"
        code, err = _run(["train", path, "--data", data, "--output", run, "--quiet"], capsys)
        _assert_contract(code, err, run)
        shutil.rmtree(data)
