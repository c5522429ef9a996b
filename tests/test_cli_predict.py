"""`kzoo predict` and `kzoo list --presets`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kzoo import cli, presets

GOLDEN = Path(__file__).resolve().parent / "golden" / "presets" / "vowels"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_predict_prints_path_label_probability_per_file(capsys):
    expected = json.loads((GOLDEN / "expected.json").read_text())
    code, out, err = run(capsys, "predict", "vowels", str(GOLDEN))
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == len(expected)
    for line in lines:
        path, label, probability = line.split("\t")
        assert label == expected[Path(path).name]["label"]
        assert float(probability) == pytest.approx(
            max(expected[Path(path).name]["probabilities"]), abs=1e-3
        )


def test_predict_top_k_json(capsys):
    files = sorted(GOLDEN.glob("*.wav"))[:2]
    code, out, err = run(capsys, "predict", "vowels", *map(str, files), "--top-k", "3", "--json")
    assert code == 0, err
    results = json.loads(out)
    assert [r["path"] for r in results] == [str(f) for f in files]
    assert all(len(r["top_k"]) == 3 for r in results)


def test_list_presets(capsys):
    code, out, _ = run(capsys, "list", "--presets")
    assert code == 0
    assert "vowels" in out and "Apache-2.0" in out
    assert "Models" not in out  # the presets only


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["predict", "vowel", "x.wav"], "Unknown preset 'vowel'. Did you mean 'vowels'?"),
        (["predict", "vowels", "absent.wav"], "Input file absent.wav does not exist"),
        (["predict", "vowels", str(GOLDEN), "--top-k", "0"], "--top-k` must be a positive"),
        (["predict", "vowels", str(GOLDEN / "expected.json")], "takes audio files (.wav)"),
    ],
)
def test_predict_errors_are_one_line_with_status_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("kzoo: error: ") and message in err


def test_predict_from_a_url_keeps_stdout_for_the_json(tmp_path):
    archive = presets.archive(presets.SHIPPED / "vowels", tmp_path / "vowels.tar.gz")
    file = sorted(GOLDEN.glob("*.wav"))[0]
    command = [sys.executable, "-m", "kzoo.cli", "predict", archive.as_uri(), str(file), "--json"]
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras")}  # the download cache
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    (result,) = json.loads(done.stdout)
    assert result["label"] == json.loads((GOLDEN / "expected.json").read_text())[file.name]["label"]
    assert "Downloading" in done.stderr
