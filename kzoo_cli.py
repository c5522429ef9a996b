"""The `kzoo` console script: parse first, import Keras only for commands that need it.

`kzoo --help`, `kzoo --version` and `kzoo list` answer from the command line's
parser, the zoo config files and the installed packages' metadata, without importing
TensorFlow (importing any `kzoo.x` module runs `kzoo/__init__`, which imports Keras,
so this module lives beside the package rather than inside it, in the same wheel).
Every other command runs through `kzoo.cli.main`.

The parser is defined here and used by `kzoo.cli` too, so there is one parser.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import importlib.metadata
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_USAGE = 2
EXIT_DIVERGED = 3

# The Keras Tuner algorithms of `kzoo tune --tuner` (kzoo.tuning.search.TUNERS).
TUNERS = ("random", "grid", "bayesian", "hyperband")
ENGINES = ("keras_tuner", "optuna")
# The entry-point group of installed model plugins (kzoo.registry.ENTRY_POINT_GROUP).
ENTRY_POINT_GROUP = "kzoo.models"


def version() -> str:
    """The installed kzoo's version."""
    try:
        return importlib.metadata.version("kzoo")
    except importlib.metadata.PackageNotFoundError:  # a source checkout that is not installed
        return "0+unknown"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump, status 2, like every kzoo error
        self.exit(EXIT_USAGE, f"kzoo: error: {message}. See `{self.prog} --help`.\n")


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except the empty ones (None, False, [])."""

    def _get_help_string(self, action):
        if action.default in (None, False, [], argparse.SUPPRESS) or "%(default)" in (
            action.help or ""
        ):
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The `kzoo` command line: every command and option, with help and defaults."""
    parser = _Parser(
        prog="kzoo",
        description="A Keras 3 model zoo: list, inspect, train, evaluate and tune models.",
        formatter_class=_Help,
    )
    parser.add_argument("--version", action="version", version=f"kzoo {version()}")
    parser.add_argument(
        "--import",
        action="append",
        default=[],
        metavar="MODULE",
        dest="imports",
        help="import a module that registers your own models (@kzoo.models.register) "
        "before the command runs (repeatable; the current directory is searched first)",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help, formatter_class=_Help)

    def add_json(p, what: str):
        p.add_argument("--json", action="store_true", help=f"print {what} as JSON")

    def add_overrides(p):
        p.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            dest="overrides",
            help="override a config key, e.g. --set args.rnn=lstm (repeatable)",
        )

    def add_verbosity(p, default: str):
        group = p.add_mutually_exclusive_group()
        group.add_argument("--quiet", action="store_true", help="no progress output")
        group.add_argument(
            "--verbose",
            action="store_true",
            help=f"show Keras's progress bar even when the output is not a terminal "
            f"(whose default is {default})",
        )

    def add_data(p):
        p.add_argument(
            "--data",
            metavar="SOURCE",
            help="vowels | tfds:NAME[:split] | a directory of class sub-folders "
            "(default: the config's data.source)",
        )
        p.add_argument(
            "--data-dir", metavar="DIR", help="where TFDS finds prepared data sets (offline use)"
        )

    def add_training_options(p):
        add_data(p)
        p.add_argument("--epochs", type=int, help="replaces train.epochs")
        p.add_argument("--seed", type=int, help="replaces train.seed (data split, initial weights)")
        p.add_argument(
            "--output", metavar="DIR", help="the run directory (default: runs/<config>-<time>)"
        )
        p.add_argument(
            "--overwrite", action="store_true", help="replace what the output directory holds"
        )
        add_verbosity(p, "one line per epoch")
        p.add_argument(
            "--distribute",
            default="none",
            choices=("none", "mirrored", "multi_worker", "tpu"),
            help="where to train (see kzoo.distribute)",
        )

    p = command("list", "list the registered models and zoo configs")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. '*gru*'")
    add_json(p, "the models and recipes")
    p.add_argument(
        "--presets", action="store_true", help="list the shipped pretrained presets instead"
    )

    p = command("show", "print a model card")
    p.add_argument("name", help="a registered model")
    add_json(p, "the card")

    p = command("summary", "print a torchinfo-style table of a model")
    p.add_argument("name", help="a model or config name, or a config file")
    add_overrides(p)

    p = command("train", "train a model from a zoo config or a YAML file")
    p.add_argument("config", help="a zoo config name, a registered model or a YAML file")
    add_overrides(p)
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in --output")
    add_training_options(p)

    p = command("evaluate", "evaluate a trained run on a data source")
    p.add_argument("run_dir", help="a directory written by `kzoo train`")
    add_data(p)
    p.add_argument(
        "--split",
        default="test",
        choices=("test", "all"),
        help="test: the run's held-out examples; all: every example of --data",
    )
    p.add_argument(
        "--checkpoint",
        default="final",
        choices=("final", "best"),
        help="final: model.keras; best: best.keras (train.callbacks.model_checkpoint)",
    )
    add_verbosity(p, "the metrics only")
    add_json(p, "the metrics")

    p = command("demo", "train the demo model on the embedded vowels data set")
    add_training_options(p)

    p = command("tune", "search a config's `search` space with Keras Tuner or Optuna")
    p.add_argument("config", help="a zoo config name or a YAML file with a `search` block")
    add_overrides(p)
    p.add_argument("--engine", default="keras_tuner", choices=ENGINES, help="the search engine")
    p.add_argument("--max-trials", type=int, default=10, help="trials in all, across workers")
    add_data(p)
    p.add_argument(
        "--objective",
        action="append",
        metavar="METRIC[:min|max]",
        help="default val_accuracy; Optuna: repeat it for a Pareto front, also params, latency",
    )
    p.add_argument(
        "--directory",
        default="tuning",
        help="results.csv, trials.png, best.yaml and the engine's state",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="discard an earlier search instead of resuming it"
    )
    p.add_argument("--epochs", type=int, help="replaces train.epochs in every trial")
    p.add_argument("--folds", type=int, help="k-fold cross-validation per trial")
    p.add_argument(
        "--seed",
        type=int,
        help="replaces train.seed (data split, initial weights, the tuner's draws; with "
        "Optuna, the sampler's seed: give each worker sharing a study its own)",
    )
    p.add_argument(
        "--max-retries-per-trial", type=int, default=0, help="retries of a failing trial"
    )
    p.add_argument(
        "--max-consecutive-failed-trials",
        type=int,
        default=3,
        help="stop the search after this many failed trials in a row",
    )
    g = p.add_argument_group("Keras Tuner engine")
    g.add_argument("--tuner", choices=TUNERS, help="the search algorithm (default: random)")
    g.add_argument(
        "--distributed", choices=("chief", "worker"), help="this process's role in a search"
    )
    g.add_argument("--oracle", metavar="HOST:PORT", help="the chief's address (distributed)")
    g.add_argument("--tuner-id", help="this worker's name (distributed)")
    g = p.add_argument_group("Optuna engine (--engine optuna)")
    g.add_argument("--sampler", help="tpe (default) | random | grid | cmaes | nsga2")
    g.add_argument("--pruner", help="none (default) | median | hyperband | successive_halving")
    g.add_argument(
        "--storage",
        metavar="URL",
        help="SQLAlchemy URL or journal:PATH shared by the workers (default: DIRECTORY/study.db)",
    )
    g.add_argument("--study", metavar="NAME", help="the study's name (default: the config's)")
    g.add_argument("--timeout", type=float, metavar="SECONDS", help="stop starting trials after")
    g.add_argument(
        "--heartbeat", type=int, metavar="SECONDS", help="a running trial's heartbeat (default 60)"
    )
    add_verbosity(p, "one line per trial")

    p = command("export", "export a trained run: SavedModel, ONNX or LiteRT")
    p.add_argument("run_dir", help="a directory written by `kzoo train`")
    p.add_argument(
        "--format",
        default="saved_model",
        choices=("saved_model", "onnx", "litert"),
        help="the artifact",
    )
    p.add_argument(
        "--output",
        metavar="PATH",
        help="default: RUN_DIR/export/<saved_model|model.onnx|model.tflite>",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing artifact")
    p.add_argument(
        "--raw-input",
        action="store_true",
        help="the artifact takes raw waveforms and lengths (or texts) and applies the run's "
        "front end itself (saved_model; litert for audio; not onnx)",
    )

    p = command("predict", "classify files with a run, a preset or a URL")
    p.add_argument(
        "source",
        help="a run directory, a preset directory or archive, a shipped preset name "
        "(kzoo list --presets) or a URL",
    )
    p.add_argument("inputs", nargs="+", metavar="FILE|DIR", help="files, or directories of them")
    p.add_argument("--top-k", type=int, default=1, help="labels per file, most probable first")
    add_json(p, "a list of predictions instead of lines")
    p.add_argument("--batch-size", type=int, default=32, help="files per batch")

    p = command("plot-schedule", "plot a config's learning rate over its planned run")
    p.add_argument("config", help="a zoo config name or a YAML file")
    add_overrides(p)
    p.add_argument(
        "--steps-per-epoch",
        type=int,
        default=None,
        help="default: computed from the config's data and batch size",
    )
    p.add_argument("--output", default="schedule.png", help="the image to write")
    return parser


def fit_verbosity(args: argparse.Namespace, default: int = 1) -> int:
    """Keras's `verbose`: 0 with --quiet; the progress bar (1) on a terminal or with
    --verbose; otherwise `default` (2, one line per epoch, keeps logs free of carriage
    returns; 0 for commands whose default output is their result only)."""
    if getattr(args, "quiet", False):
        return 0
    if getattr(args, "verbose", False) or (default == 1 and sys.stdout.isatty()):
        return 1
    return default


# ---------------------------------------------------------------------------
# `kzoo list` without Keras: zoo configs and plugin entry points are plain data.


def zoo_config_dir() -> Path:
    """Where the zoo configs are (kzoo.configs.config_dir), found without importing kzoo."""
    spec = importlib.util.find_spec("kzoo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("kzoo: error: the kzoo package is not installed.")
    package = Path(next(iter(spec.submodule_search_locations)))
    packaged = package / "zoo_configs"
    return packaged if packaged.is_dir() else package.parent / "zoo_configs"


def _read_configs() -> dict[str, dict]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    configs = {}
    for path in sorted(zoo_config_dir().glob("*.yaml")):
        try:
            raw = yaml.load(path.read_text(), Loader=loader)
        except (OSError, yaml.YAMLError):
            raw = None  # `kzoo show` / `train` report a broken file in full
        configs[path.stem] = raw if isinstance(raw, dict) else {}
    return configs


def catalog(pattern: str = "*", registered: dict[str, str] | None = None) -> dict[str, list]:
    """The models and recipes `kzoo list` prints, from the zoo configs and entry points.

    Args:
        pattern: fnmatch pattern on the names.
        registered: models known to a registry already imported (name -> one-line
            summary), for the builders an `--import`ed module registered.

    Returns:
        `{"models": [{"name", "description"}], "recipes": [{"name", "model", "description"}]}`.
    """
    models: dict[str, str] = {}
    recipes = []
    for name, config in _read_configs().items():
        description = " ".join(str(config.get("description") or "").split())
        if config.get("model") == name:
            models[name] = description
        else:
            recipes.append({"name": name, "model": config.get("model"), "description": description})
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        package = entry_point.dist.name if entry_point.dist else entry_point.value
        models.setdefault(entry_point.name, f"(from the installed package {package})")
    for name, summary in (registered or {}).items():
        models.setdefault(name, summary)
    match = lambda name: fnmatch.fnmatchcase(name, pattern)  # noqa: E731
    return {
        "models": [{"name": n, "description": models[n]} for n in sorted(models) if match(n)],
        "recipes": [r for r in recipes if match(r["name"])],
    }


def print_catalog(entries: dict[str, list], as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(entries, indent=2))
        return
    rows = entries["models"] + entries["recipes"]
    width = max((len(r["name"]) for r in rows), default=0)
    print("Models (kzoo.models.get(NAME), kzoo show NAME):")
    for row in entries["models"]:
        print(f"  {row['name'].ljust(width)}  {_clip(row['description'])}".rstrip())
    if entries["recipes"]:
        print("Recipes (kzoo train NAME):")
        for row in entries["recipes"]:
            print(f"  {row['name'].ljust(width)}  {_clip(row['description'])}".rstrip())


def _clip(text: str, limit: int = 78) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


@contextlib.contextmanager
def _native_logs_hidden():
    """Hides what TensorFlow's C++ libraries print while they load, as TF_CPP_MIN_LOG_LEVEL asks.

    TensorFlow 2.21 logs through absl before absl is initialized, and those lines ignore
    TF_CPP_MIN_LOG_LEVEL, so a one-line user error would follow six lines of start-up
    notes. With the level at 3 (kzoo's default; set it lower to see them), file
    descriptor 2 points at /dev/null while `import kzoo` loads TensorFlow; Python's own
    errors are reported after it is restored.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def describe_import_error(error: ImportError) -> str:
    """A missing package as the house message, naming what to install."""
    missing = error.name or str(error)
    extra = {"jax": "jax", "jaxlib": "jax", "torch": "torch"}.get(missing.split(".")[0])
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if extra:
        return (
            f"KERAS_BACKEND={backend} needs the package {missing}, which is not installed. "
            f'Install it with `pip install "kzoo[{extra}]"`, or unset KERAS_BACKEND to use '
            "TensorFlow."
        )
    return (
        f"the package {missing} is needed here but is not installed. Install it with "
        f"`pip install {missing.split('.')[0]}` and rerun."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: `kzoo COMMAND ...`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before anything imports TensorFlow
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)  # --help, --version and usage errors end here
    if args.command == "list" and not args.imports and not args.presets:
        print_catalog(catalog(args.pattern), args.json)
        return 0
    try:
        with _native_logs_hidden():
            from kzoo import cli
    except ImportError as error:  # a missing Keras backend or a broken install: one line
        print(f"kzoo: error: {describe_import_error(error)}", file=sys.stderr)
        return EXIT_USAGE
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
