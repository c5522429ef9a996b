"""Reference results for the model cards: train each default zoo config.

Each named model is trained from its default config exactly as
`kzoo train NAME --output DIR/NAME` trains it (same config, data, seed and
recipe, through `kzoo.training.train`), one after the other. One line is printed
per model as it finishes (test metrics, training seconds, epochs); the markdown
table of every model measured so far is rewritten to benchmarks/zoo_references.md
after each one, so rows of earlier runs of other models are kept.

    .venv/bin/python -m benchmarks.zoo_references mlp cnn --output /tmp/zoo_references

`--data SOURCE` trains on another source, as `kzoo train NAME --data SOURCE` does:
for a model whose default source is not available offline (text_classifier's
tfds:imdb_reviews; examples/movie_review_folders.py makes a class-folder copy).

Training seconds are wall-clock time of `fit` on whatever machine runs this: on a
shared, loaded machine they are upper bounds.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import traceback
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import kzoo  # noqa: E402
from kzoo import configs, training  # noqa: E402

TABLE = Path(__file__).with_name("zoo_references.md")
HEADER = (
    "| model | data | test result | test examples | epochs | training s | command |",
    "|---|---|---|---|---|---|---|",
)


def _result(test: dict) -> str:
    """`accuracy 0.962, loss 0.123`: the metrics first, the loss last."""
    names = sorted(test, key=lambda k: (k == "loss", k))
    return ", ".join(f"{k} {float(test[k]):.4f}" for k in names)


def measure(name: str, output: Path, source: str | None = None) -> dict:
    """Trains `name`'s default config into `output / name`; returns its table row."""
    config = configs.load(name)
    results = training.train(config, source=source, output=output / name, overwrite=True, verbose=0)
    return {
        "model": name,
        "data": Path(source).name if source else config["data"]["source"],
        "test result": _result(results.get("test", {})) or "(no test split)",
        "test examples": str(results["sizes"].get("test", "")),
        "epochs": str(results["epochs"]),
        "training s": f"{results['seconds']:.0f}",
        "command": f"`kzoo train {name}{' --data ' + source if source else ''}`",
    }


def _read_rows() -> dict[str, list[str]]:
    """The rows of the table already in zoo_references.md, by model name."""
    rows = {}
    if TABLE.exists():
        for line in TABLE.read_text().splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if line.startswith("| ") and len(cells) == 7 and cells[0] not in ("model", "---"):
                rows[cells[0]] = cells
    return rows


def write_table(rows: dict[str, list[str]]) -> str:
    lines = [
        "# Reference results of the default zoo configs",
        "",
        "Written by `python -m benchmarks.zoo_references`: each row is `kzoo train NAME`",
        "with the model's default config (zoo_configs/NAME.yaml), its test split held out",
        f"by the config's seed. Machine: {platform.machine()} CPU, {os.cpu_count()} cores,",
        "shared with other jobs while measured, so training seconds are upper bounds.",
        "",
        *HEADER,
        *(f"| {' | '.join(rows[name])} |" for name in sorted(rows)),
        "",
    ]
    text = "\n".join(lines)
    TABLE.write_text(text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.zoo_references", description=__doc__.splitlines()[0]
    )
    parser.add_argument("names", nargs="*", help="models to train (default: every registered)")
    parser.add_argument("--output", default="/tmp/kzoo_zoo_references", help="run directories")
    parser.add_argument("--data", metavar="SOURCE", help="train on this source instead")
    args = parser.parse_args(argv)
    if args.data and not args.names:
        parser.error("--data needs the models to train on it, e.g. text_classifier")
    names = args.names or kzoo.models.list()
    for name in names:
        kzoo.registry.builder(name)  # an unknown name fails before any training
    rows = _read_rows()
    failed = []
    for name in names:
        try:
            row = measure(name, Path(args.output), args.data)
        except Exception as error:  # one model's failure (e.g. data not offline) is reported
            traceback.print_exc()
            failed.append(name)
            print(f"{name}: FAILED: {' '.join(str(error).split())[:300]}", flush=True)
            continue
        print(
            f"{name}: test {row['test result']} ({row['test examples']} examples); "
            f"{row['training s']} s training, {row['epochs']} epochs",
            flush=True,
        )
        rows[name] = list(row.values())
        write_table(rows)
    print()
    print("\n".join([*HEADER, *(f"| {' | '.join(rows[n])} |" for n in names if n in rows)]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
