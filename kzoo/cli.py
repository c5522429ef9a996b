"""`kzoo`: the command-line front end. Parsing and printing only; the work is elsewhere.

Every user error prints one line, `kzoo: error: ...`, and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

EXIT_USAGE = 2
EXIT_DIVERGED = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump, status 2, like every kzoo error
        self.exit(EXIT_USAGE, f"kzoo: error: {message}. See `{self.prog} --help`.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kzoo",
        description="A Keras 3 model zoo: list, inspect, train, evaluate and tune models.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    p = commands.add_parser("list", help="list the registered models and zoo configs")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. '*gru*'")

    p = commands.add_parser("show", help="print a model card")
    p.add_argument("name")

    p = commands.add_parser("summary", help="print a torchinfo-style table of a model")
    p.add_argument("name", help="a model or config name, or a config file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides")

    def add_training_options(p):
        p.add_argument(
            "--data",
            metavar="SOURCE",
            help="vowels | tfds:NAME[:split] | a directory of class sub-folders",
        )
        p.add_argument("--data-dir", help="where TFDS finds prepared data sets (offline use)")
        p.add_argument("--epochs", type=int)
        p.add_argument(
            "--output", metavar="DIR", help="the run directory (default: runs/<config>-<time>)"
        )
        p.add_argument(
            "--overwrite", action="store_true", help="replace what the output directory holds"
        )
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument(
            "--distribute",
            default="none",
            help="none | mirrored | multi_worker | tpu (see kzoo.distribute)",
        )

    p = commands.add_parser("train", help="train a model from a zoo config or a YAML file")
    p.add_argument("config", help="a zoo config name or a YAML file")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a config key, e.g. --set args.rnn=lstm (repeatable)",
    )
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in --output")
    add_training_options(p)

    p = commands.add_parser("evaluate", help="evaluate a trained run on a data source")
    p.add_argument("run_dir")
    p.add_argument("--data", metavar="SOURCE")
    p.add_argument("--data-dir")
    p.add_argument("--split", default="test", choices=("test", "all"))

    p = commands.add_parser("demo", help="train the demo model on the embedded vowels data set")
    add_training_options(p)

    p = commands.add_parser(
        "tune", help="search a config's `search` space with Keras Tuner or Optuna"
    )
    p.add_argument("config", help="a zoo config name or a YAML file with a `search` block")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a config key before searching, e.g. --set train.epochs=3 (repeatable)",
    )
    p.add_argument("--engine", default="keras_tuner", help="keras_tuner (default) | optuna")
    p.add_argument("--max-trials", type=int, default=10)
    p.add_argument("--data", metavar="SOURCE")
    p.add_argument("--data-dir")
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
    p.add_argument("--epochs", type=int)
    p.add_argument("--folds", type=int, help="k-fold cross-validation per trial")
    p.add_argument("--max-retries-per-trial", type=int, default=0)
    p.add_argument("--max-consecutive-failed-trials", type=int, default=3)
    g = p.add_argument_group("Keras Tuner engine")
    g.add_argument("--tuner", help="random (default) | grid | bayesian | hyperband")
    g.add_argument("--distributed", choices=("chief", "worker"))
    g.add_argument("--oracle", metavar="HOST:PORT")
    g.add_argument("--tuner-id")
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

    p = commands.add_parser("export", help="export a trained run: SavedModel, ONNX or LiteRT")
    p.add_argument("run_dir", help="a directory written by `kzoo train`")
    p.add_argument("--format", default="saved_model", choices=("saved_model", "onnx", "litert"))
    p.add_argument(
        "--output",
        metavar="PATH",
        help="default: RUN_DIR/export/<saved_model|model.onnx|model.tflite>",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing artifact")

    p = commands.add_parser(
        "plot-schedule", help="plot a config's learning rate over its planned run"
    )
    p.add_argument("config")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides")
    p.add_argument(
        "--steps-per-epoch",
        type=int,
        default=None,
        help="default: computed from the config's data and batch size",
    )
    p.add_argument("--output", default="schedule.png")
    return parser


def _list(args) -> None:
    import kzoo

    names = kzoo.models.list(args.pattern)
    width = max((len(n) for n in names), default=0)
    print("Models (kzoo.models.get(NAME), kzoo show NAME):")
    for name in names:
        doc = (kzoo.registry.builder(name).__doc__ or "").strip().splitlines()
        print(f"  {name.ljust(width)}  {doc[0] if doc else ''}")
    import fnmatch

    extra = [
        n for n in kzoo.configs.names() if n not in names and fnmatch.fnmatchcase(n, args.pattern)
    ]
    if extra:
        print("Recipes (kzoo train NAME):")
        for name in extra:
            print(f"  {name}")


def _train(args, config_name: str, overrides: list[str]) -> None:
    from kzoo import configs, training

    results = training.train(
        configs.load(config_name, overrides),
        source=args.data,
        data_dir=args.data_dir,
        epochs=args.epochs,
        output=args.output,
        resume=args.__dict__.get("resume", False),
        overwrite=args.overwrite,
        verbose=0 if args.quiet else 1,
        distribute_mode=args.distribute,
    )
    test = results.get("test", {})
    print(f"Run directory: {results['run_dir']}")
    for key, value in test.items():
        print(f"test {key}: {value:.4f}")
    print(f"Training time: {results['seconds']:.0f} s for {results['epochs']} epochs")


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    try:
        return _run(args) or 0
    except ValueError as error:  # kzoo.ConfigError and every argument check
        message = " ".join(str(error).split())
        print(f"kzoo: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("kzoo: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as error:
        from kzoo.training import TrainingDiverged

        if isinstance(error, TrainingDiverged):
            print(f"kzoo: error: {error}", file=sys.stderr)
            return EXIT_DIVERGED
        raise


def _run(args) -> int | None:
    import kzoo

    if args.command == "list":
        _list(args)
    elif args.command == "show":
        print(kzoo.models.describe(args.name))
    elif args.command == "summary":
        config = kzoo.configs.load(args.name, args.overrides)
        model = kzoo.registry.build(config)
        print(f"{config['model']} ({config['source']})")
        print(kzoo.summary.summary(model))
    elif args.command == "train":
        if args.resume and not args.output:
            raise kzoo.ConfigError("--resume needs --output DIR, the run directory to continue.")
        _train(args, args.config, args.overrides)
    elif args.command == "demo":
        _train(args, "demo", [])
    elif args.command == "evaluate":
        metrics = kzoo.training.evaluate(args.run_dir, args.data, args.data_dir, args.split)
        for key, value in metrics.items():
            print(f"{key}: {value:.4f}")
        print(f"Written to {os.path.join(args.run_dir, 'metrics.json')}")
    elif args.command == "tune":
        _tune(args)
    elif args.command == "plot-schedule":
        _plot_schedule(args)
    elif args.command == "export":
        from kzoo import export

        path = export.export(args.run_dir, args.format, args.output, args.overwrite)
        print(f"Exported {args.format} to {path}")
    return None


def _tune(args) -> None:
    from kzoo.tuning import reports, search

    options = ("tuner", "distributed", "oracle", "tuner_id", "sampler", "pruner", "storage",
               "study", "timeout", "heartbeat")  # fmt: skip
    summary = search.run(
        args.config,
        engine=args.engine,
        max_trials=args.max_trials,
        source=args.data,
        data_dir=args.data_dir,
        objective=args.objective or "val_accuracy",
        directory=args.directory,
        overwrite=args.overwrite,
        epochs=args.epochs,
        folds=args.folds,
        max_retries_per_trial=args.max_retries_per_trial,
        max_consecutive_failed_trials=args.max_consecutive_failed_trials,
        overrides=args.overrides,
        **{name: getattr(args, name) for name in options},
    )
    best = summary.get("best")
    if best:
        print(f"Best trial {best['trial']}: {summary['objective']}={best['value']:.4g}")
        print(reports.top_table(summary))
        print(f"Best config: {best['config']} (kzoo train {best['config']})")
    print(f"Results in {summary.get('directory', args.directory)}")


def _plot_schedule(args) -> None:
    from kzoo import configs, data, plots, recipe

    config = configs.load(args.config, args.overrides)
    train = config["train"]
    steps = args.steps_per_epoch
    if steps is None:
        steps = max(
            1,
            -(
                -data.load(config["data"], train["batch_size"]).sizes["train"]
                // train["batch_size"]
            ),
        )
    if steps < 1:
        raise ValueError(f"--steps-per-epoch must be a positive integer. Received: {steps}.")
    rate = recipe.schedule(config, steps) or recipe.optimizer(config, steps).learning_rate
    path = plots.plot_schedule(rate, steps, train["epochs"], args.output)
    print(f"Wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
