"""Every malformed config, data directory and command line: status 2, one line, no run dir.

Each case runs `kzoo.cli.main` in-process and must print exactly one line,
`kzoo: error: ...`, on stderr, exit with status 2 and leave no run directory behind.
One case goes through a real subprocess to check that no traceback is printed.
"""

import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import yaml

from kzoo import cli
from tests.helpers import write_wav

ROOT = Path(__file__).resolve().parents[1]

BASE_CONFIG = {
    "model": "mlp",
    "args": {"units": [8], "dropout": 0.0},
    "train": {"epochs": 1, "batch_size": 8},
    "data": {
        "features": {"type": "logmel", "num_mel_bins": 16},
        "validation_split": 0.2,
        "test_split": 0.2,
    },
}

# (dotted key, YAML value): the base config with that one key set to a bad value.
CONFIG_CASES = [
    # wrong types for each `train` key
    ("train.optimizer", "3"),
    ("train.optimizer", "adamm"),
    ("train.optimizer", "{name: adam, learning_rate: fast}"),
    ("train.optimizer", "{learning_rate: 0.1}"),
    ("train.optimizer", "{name: adam, betta_1: 0.9}"),
    ("train.optimizer", "[adam]"),
    ("train.schedule", "3"),
    ("train.schedule", "cosine_decayy"),
    ("train.schedule", "{name: cosine_decay, decay_steps: many}"),
    ("train.schedule", "[1, 2]"),
    ("train.loss", "3"),
    ("train.loss", "cross_entropyy"),
    ("train.loss", "[sparse_categorical_crossentropy]"),
    ("train.loss", "{name: sparse_categorical_crossentropy, from_logitz: true}"),
    ("train.metrics", "accuracy"),
    ("train.metrics", "[3]"),
    ("train.metrics", "[accuracyy]"),
    ("train.metrics", "{accuracy: 1}"),
    ("train.batch_size", "'8'"),
    ("train.batch_size", "0"),
    ("train.batch_size", "1.5"),
    ("train.batch_size", "true"),
    ("train.batch_size", "null"),
    ("train.epochs", "many"),
    ("train.epochs", "-1"),
    ("train.callbacks", "[early_stopping]"),
    ("train.callbacks", "{early_stoppingg: {}}"),
    ("train.callbacks", "{early_stopping: 3}"),
    ("train.callbacks", "{early_stopping: {patiance: 3}}"),
    ("train.seed", "abc"),
    ("train.seed", "[1]"),
    ("train.jit_compile", "maybe"),
    ("train.epochz", "3"),
    # `data` keys
    ("data.validation_split", "half"),
    ("data.test_split", "1.5"),
    ("data.features", "3"),
    ("data.features", "{type: logmell}"),
    ("data.features", "{type: logmel, num_mel_bins: many}"),
    ("data.features", "{type: logmel, num_mel_binz: 16}"),
    ("data.task", "3"),
    ("data.max_seconds", "long"),
    ("data.max_seconds", "-1"),
    ("data.sample_rate", "fast"),
    ("data.sample_rate", "16000"),
    ("data.shuffle_buffer", "2048"),  # removed: the whole split is shuffled every epoch
    ("data.augment", "3"),
    ("data.test_pattern", "'['"),
    ("data.sourse", "vowels"),
    # `args` keys
    ("args.unitz", "[8]"),
    ("args.units", "many"),
    ("args.units", "[-8]"),
    ("args.dropout", "high"),
    ("args.dropout", "1.5"),
    # structure
    ("model", "mlpp"),
    ("model", "3"),
    ("model", "null"),
    ("modle", "mlp"),
    ("args", "3"),
    ("train", "[1, 2]"),
    ("data", "vowels"),
    ("search", "5"),
    ("reference", "[x]"),
    # non-finite, degenerate and absurd numbers, wherever a number is read
    ("train.epochs", ".nan"),
    ("train.epochs", ".inf"),
    ("train.epochs", "1000000000000"),
    ("train.batch_size", "1000000000000"),
    ("train.seed", "-1"),
    ("train.seed", ".nan"),
    ("train.optimizer", "{name: adam, learning_rate: .nan}"),
    ("train.optimizer", "{name: adam, learning_rate: -1}"),
    ("train.optimizer", "{name: adam, learning_rate: .inf}"),
    ("train.schedule", "{name: per_epoch, values: [.nan]}"),
    ("data.max_seconds", ".nan"),
    ("data.max_seconds", ".inf"),
    ("data.max_seconds", "0"),
    ("data.trim_silence", ".inf"),
    ("data.trim_silence", "-3"),
    ("data.sample_rate", "0"),
    ("data.sample_rate", "8000.5"),
    ("data.validation_split", ".nan"),
    ("data.features", "{type: logmel, num_mel_bins: 1.5}"),
    ("data.features", "{type: logmel, num_mel_bins: 1000000000000}"),
    ("data.features", "{type: logmel, frame_ms: .nan}"),
    ("data.features", "{type: logmel, hop_ms: -10}"),
    ("data.features", "{type: logmel, hop_ms: .inf}"),
    ("data.features", "{type: mfcc, num_mfcc: 0}"),
    ("args.units", "[1000000000000]"),
    ("args.units", "8"),
    ("args.dropout", "[0.1]"),
    ("args.dropout", ".nan"),
    ("args.num_classes", "ten"),  # the data would replace it: checked as written
    ("args.input_shape", "[.inf, 16]"),
]

# (name, text) of config files that are not a config at all.
RAW_CONFIG_CASES = [
    ("invalid_yaml", "model: mlp\nargs: {units: [8\n"),
    ("tabs", "model: mlp\n\targs: 3\n"),
    ("a_list", "- model\n- mlp\n"),
    ("a_string", "mlp\n"),
    ("empty", ""),
    ("missing_model", "args: {units: [8]}\n"),
    ("python_tag", "model: !!python/object/apply:os.system ['true']\n"),
    ("binary", "\x00\x01\x02"),
    ("recursive_alias", "model: mlp\nargs: &a {x: *a}\n"),
    (
        "alias_bomb",  # a few hundred bytes that expand to 9**9 values
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
            for i in range(8)
        )
        + "model: mlp\n",
    ),
]


def _set(config, dotted, value):
    node = config
    *parents, last = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _pcm(path, samples, rate=8000, width=2, channels=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(samples)


def _good(root, classes=2, files=5, rate=8000):
    t = np.arange(960) / rate
    for c in range(classes):
        for i in range(files):
            write_wav(
                root / f"c{c}" / f"{i}.wav", 0.3 * np.sin(2 * np.pi * (300 + 200 * c) * t), rate
            )
    return root


def _data_empty(root):
    root.mkdir()


def _data_files_only(root):
    root.mkdir()
    write_wav(root / "a.wav", np.zeros(800))


def _data_empty_classes(root):
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()


def _data_non_audio(root):
    for c in "ab":
        (root / c).mkdir(parents=True)
        (root / c / "x.bin").write_bytes(os.urandom(64))


def _data_mixed_kinds(root):
    _good(root)
    (root / "c0" / "picture.png").write_bytes(b"\x89PNG")


def _data_corrupt_wav(root):
    _good(root)
    (root / "c1" / "bad.wav").write_bytes(os.urandom(300))


def _data_truncated_wav(root):
    _good(root)
    data = (root / "c1" / "0.wav").read_bytes()
    (root / "c1" / "0.wav").write_bytes(data[:30])


def _data_header_only_wav(root):
    _good(root)
    _pcm(root / "c1" / "empty.wav", b"")


def _data_odd_bytes_wav(root):
    _good(root)
    _pcm(root / "c1" / "one_byte.wav", b"\x01")


def _data_24_bit(root):
    _good(root)
    _pcm(root / "c1" / "deep.wav", b"\x00" * 2400, width=3)


def _data_mixed_rates(root):
    _good(root)
    write_wav(root / "c1" / "fast.wav", np.zeros(1600), sample_rate=16000)


def _data_corrupt_image(root):
    for c in "ab":
        (root / c).mkdir(parents=True)
        for i in range(3):
            (root / c / f"{i}.png").write_bytes(os.urandom(100))


def _data_a_file(root):
    root.write_text("not a directory")


def _data_shorter_than_a_frame(root):
    for c in "ab":
        for i in range(4):
            write_wav(root / c / f"{i}.wav", np.full(20, 0.1))


def _data_zero_hertz(root):
    _good(root)
    header = _wav_header(channels=1, rate=0, width=2, frames=400)
    (root / "c1" / "zero_rate.wav").write_bytes(header + b"\x01\x00" * 400)


def _data_mixed_channels(root):
    _good(root)
    _pcm(root / "c1" / "stereo.wav", b"\x01\x00" * 1920, channels=2)


def _data_single_class(root):
    _good(root, classes=1)


def _data_one_empty_class(root):
    _good(root)
    (root / "c2").mkdir()


def _wav_header(channels, rate, width, frames):
    """A RIFF/WAVE header written by hand: `wave` refuses to write a rate of 0."""
    import struct

    size = frames * channels * width
    fmt = struct.pack(
        "<HHIIHH", 1, channels, rate, rate * channels * width, channels * width, 8 * width
    )
    return (
        b"RIFF"
        + struct.pack("<I", 36 + size)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", size)
    )


DATA_CASES = [
    _data_empty,
    _data_files_only,
    _data_empty_classes,
    _data_non_audio,
    _data_mixed_kinds,
    _data_corrupt_wav,
    _data_truncated_wav,
    _data_header_only_wav,
    _data_odd_bytes_wav,
    _data_24_bit,
    _data_mixed_rates,
    _data_corrupt_image,
    _data_a_file,
    _data_shorter_than_a_frame,
    _data_zero_hertz,
    _data_mixed_channels,
    _data_single_class,
    _data_one_empty_class,
]

# Command lines; {config}, {data}, {run} and {file} are filled in per test.
CLI_CASES = [
    [],
    ["trian", "mlp"],
    ["train"],
    ["train", "{config}", "--epochs", "abc"],
    ["train", "{config}", "--epochs", "0"],
    ["train", "{config}", "--epochs", "-3"],
    ["train", "{config}", "--resume"],
    ["train", "{config}", "--output", "{run}", "--resume"],
    ["train", "{config}", "--set", "args.units"],
    ["train", "{config}", "--set", "=3"],
    ["train", "{config}", "--set", "args.unitz=[8]"],
    ["train", "{config}", "--set", "train.batch_size=big"],
    ["train", "{config}", "--set", "train.optimizer.learning_rate.x=1"],
    ["train", "{config}", "--data", "tfds:"],
    ["train", "{config}", "--data", "vowels:colour"],
    ["train", "{config}", "--data", "{file}"],
    ["train", "{config}", "--output", "{file}"],
    ["train", "{config}", "--bogus-flag"],
    ["train", "/no/such/config.yaml"],
    ["train", "{data}"],
    ["train", "no_such_config"],
    ["evaluate", "/no/such/run"],
    ["evaluate", "{run}", "--split", "middle"],
    ["export", "{run}"],
    ["export", "{run}", "--format", "tflite"],
    ["show", "no_such_model"],
    ["summary", "mlp", "--set", "args.units=oops"],
    ["tune", "{config}", "--max-trials", "x"],
    ["plot-schedule", "{config}", "--steps-per-epoch", "-1"],
    # a whole section replaced by a scalar or null, malformed --set
    ["train", "{config}", "--set", "train=3"],
    ["train", "{config}", "--set", "args=null"],
    ["train", "{config}", "--set", "data=[1]"],
    ["train", "{config}", "--set", "train.epochs=.nan"],
    ["train", "{config}", "--set", "a..b=1"],
    ["train", "{config}", "--set", "args.units=&a [*a]"],
    ["summary", "{config}", "--set", "args=null"],
    ["plot-schedule", "{config}", "--set", "train.epochs=1000000000000"],
    ["plot-schedule", "{config}", "--steps-per-epoch", "1000000000000"],
    # a file where a folder is expected, and the reverse
    ["plot-schedule", "{config}", "--output", "{dir}"],
    ["plot-schedule", "{config}", "--output", "{file}/lr.png"],
    ["tune", "{config}", "--directory", "{file}"],
    ["train", "{config}", "--data", "{data}", "--output", "{file}/run"],
    ["export", "{file}"],
    ["evaluate", "{file}"],
]


@pytest.fixture(scope="module")
def good_data(tmp_path_factory):
    return _good(tmp_path_factory.mktemp("good") / "data")


def _write_config(path, config):
    path.write_text(yaml.safe_dump(config))
    return path


def _expect_one_line_error(capsys, argv, run):
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exit_info:  # argparse's own usage errors
        code = exit_info.code
    out, err = capsys.readouterr()
    assert code == 2, f"status {code}; stderr: {err!r}"
    assert err.startswith("kzoo: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not run.exists(), f"{run} was left behind"
    return err


@pytest.mark.parametrize("key, value", CONFIG_CASES, ids=[f"{k}={v}" for k, v in CONFIG_CASES])
def test_bad_config(capsys, tmp_path, good_data, key, value):
    config = yaml.safe_load(yaml.safe_dump(BASE_CONFIG))
    _set(config, key, yaml.safe_load(value))
    path = _write_config(tmp_path / "c.yaml", config)
    run = tmp_path / "run"
    err = _expect_one_line_error(
        capsys, ["train", path, "--data", good_data, "--output", run, "--quiet"], run
    )
    assert str(path) in err or key.split(".")[-1] in err, err  # says where the problem is


@pytest.mark.parametrize("name, text", RAW_CONFIG_CASES, ids=[n for n, _ in RAW_CONFIG_CASES])
def test_unreadable_config(capsys, tmp_path, good_data, name, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    run = tmp_path / "run"
    err = _expect_one_line_error(
        capsys, ["train", path, "--data", good_data, "--output", run, "--quiet"], run
    )
    assert str(path) in err, err


@pytest.mark.parametrize("make", DATA_CASES, ids=[m.__name__[6:] for m in DATA_CASES])
def test_bad_data_directory(capsys, tmp_path, make):
    config = _write_config(tmp_path / "c.yaml", BASE_CONFIG)
    data = tmp_path / "data"
    make(data)
    run = tmp_path / "run"
    _expect_one_line_error(
        capsys, ["train", config, "--data", data, "--output", run, "--quiet"], run
    )


@pytest.mark.parametrize("argv", CLI_CASES, ids=[" ".join(a) or "<none>" for a in CLI_CASES])
def test_cli_misuse(capsys, tmp_path, monkeypatch, good_data, argv):
    monkeypatch.chdir(tmp_path)  # a default runs/ directory would land here
    config = _write_config(tmp_path / "c.yaml", BASE_CONFIG)
    run = tmp_path / "run"
    file = tmp_path / "a_file.txt"
    file.write_text("x")
    folder = tmp_path / "a_folder"
    folder.mkdir()
    fill = {"{config}": config, "{data}": good_data, "{run}": run, "{file}": file, "{dir}": folder}
    argv = [_fill(a, fill) for a in argv]
    _expect_one_line_error(capsys, argv, run)
    assert file.read_text() == "x"
    assert not (tmp_path / "runs").exists()


def _fill(arg: str, fill: dict) -> str:
    for key, value in fill.items():
        arg = arg.replace(key, str(value))
    return arg


def test_errors_never_echo_a_file_that_is_not_a_config(capsys, tmp_path):
    secret = "hunter2-do-not-print"
    files = {
        "env": f"API_KEY={secret}\n",
        "mapping": f"password: {secret}\nuser: me\n",
        "list": f"- {secret}\n",
        "long_key": "k" * 5000 + f": {secret}\n",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text)
        for command in (["summary", path], ["train", path, "--output", tmp_path / "run"]):
            err = _expect_one_line_error(capsys, command, tmp_path / "run")
            assert secret not in err, (name, err)
            assert len(err) < 1000, (name, len(err))


def test_cases_counted():
    total = len(CONFIG_CASES) + len(RAW_CONFIG_CASES) + len(DATA_CASES) + len(CLI_CASES)
    assert total >= 160


def test_subprocess_prints_no_traceback(tmp_path):
    data = tmp_path / "data"
    _data_truncated_wav(data)
    config = _write_config(tmp_path / "c.yaml", {**BASE_CONFIG, "train": {"batch_size": "8"}})
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    for extra in (["--data", str(data)], []):
        argv = ["train", str(config), *extra, "--output", str(tmp_path / "run"), "--quiet"]
        result = subprocess.run(
            [sys.executable, "-m", "kzoo.cli", *argv], capture_output=True, text=True, env=env
        )
        assert result.returncode == 2, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
        lines = [line for line in result.stderr.splitlines() if line.startswith("kzoo:")]
        assert len(lines) == 1 and lines[0].startswith("kzoo: error: "), result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("engine", ["keras_tuner", "optuna"])
def test_a_search_whose_every_trial_fails_is_one_line(capsys, tmp_path, monkeypatch, engine):
    monkeypatch.chdir(tmp_path)
    config = {  # units the builder refuses: every trial fails to build
        **BASE_CONFIG,
        "args": {"units": [-1], "dropout": 0.0},
        "search": {"args.units": {"type": "choice", "values": [[-1], [-2]]}},
    }
    path = _write_config(tmp_path / "c.yaml", config)
    argv = ["tune", path, "--engine", engine, "--max-trials", "2", "--directory", "search"]
    argv += ["--max-consecutive-failed-trials", "5", "--quiet"]
    err = _expect_one_line_error(capsys, argv, tmp_path / "run")
    assert "Every trial of the search failed" in err and "results.csv" in err
