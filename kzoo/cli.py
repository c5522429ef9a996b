"""`kzoo`: the command-line front end. Parsing and printing only; the work is elsewhere.

Every user error prints one line, `kzoo: error: ...`, and exits with status 2.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

from kzoo_cli import (
    EXIT_DIVERGED,
    EXIT_USAGE,
    build_parser,
    describe_import_error,
    fit_verbosity,
)

__all__ = ["EXIT_DIVERGED", "EXIT_USAGE", "build_parser", "main"]


def _list(args) -> None:
    import kzoo
    import kzoo_cli

    if args.presets:
        print(kzoo.presets.describe(args.pattern))
        return
    # The zoo's own models come from their configs; what --import registered, from the registry.
    registered = {}
    for name in kzoo.models.list(args.pattern):
        doc = (kzoo.registry.builder(name).__doc__ or "").strip().splitlines()
        registered[name] = doc[0] if doc else ""
    kzoo_cli.print_catalog(kzoo_cli.catalog(args.pattern, registered), args.json)


def _train(args, config_name: str, overrides: list[str]) -> None:
    from kzoo import configs, training

    overrides = [*overrides, *([f"train.seed={args.seed}"] if args.seed is not None else [])]
    results = training.train(
        configs.load(config_name, overrides),
        source=args.data,
        data_dir=args.data_dir,
        epochs=args.epochs,
        output=args.output,
        resume=args.__dict__.get("resume", False),
        overwrite=args.overwrite,
        verbose=fit_verbosity(args, default=2),
        distribute_mode=args.distribute,
    )
    test = results.get("test", {})
    print(f"Run directory: {results['run_dir']}")
    for key, value in test.items():
        print(f"test {key}: {value:.4f}")
    print(f"Training time: {results['seconds']:.0f} s for {results['epochs']} epochs")


MAX_MESSAGE = 600  # characters: an error line is read, not scrolled


def _error(message: str) -> int:
    message = " ".join(str(message).split())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 5] + " [...]"
    print(f"kzoo: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def describe_os_error(error: OSError) -> str:
    """A file-system fault as the house message: what, which path, how to fix."""
    path = f" {error.filename}" if error.filename else ""
    reason = error.strerror or str(error) or type(error).__name__
    return (
        f"cannot use{path}: {reason}. Check that the path exists and is of the right kind "
        "(a file or a folder), that its file system is writable and has free space, and rerun."
    )


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    try:
        return _run(args) or 0
    except ValueError as error:  # kzoo.ConfigError and every argument check
        return _error(str(error))
    except OSError as error:  # a read-only or full disk, a file where a folder is expected
        return _error(describe_os_error(error))
    except ImportError as error:  # a Keras backend or an optional package that is missing
        return _error(describe_import_error(error))
    except KeyboardInterrupt:
        print("kzoo: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as error:
        from kzoo.training import TrainingDiverged

        if isinstance(error, TrainingDiverged):
            _error(str(error))
            return EXIT_DIVERGED
        raise


def _run(args) -> int | None:
    import kzoo

    for module in args.imports:
        kzoo.registry.import_builders(module)

    if args.command == "list":
        _list(args)
    elif args.command == "show":
        if args.json:
            print(json.dumps(kzoo.models.card(args.name), indent=2, default=str))
        else:
            print(kzoo.models.describe(args.name))
    elif args.command == "summary":
        config = kzoo.configs.load(args.name, args.overrides)
        model = kzoo.models.build(config)
        print(f"{config['model']} ({config['source']})")
        print(kzoo.summary.summary(model))
    elif args.command == "train":
        if args.resume and not args.output:
            raise kzoo.ConfigError("--resume needs --output DIR, the run directory to continue.")
        _train(args, args.config, args.overrides)
    elif args.command == "demo":
        _train(args, "demo", [])
    elif args.command == "evaluate":
        metrics = kzoo.training.evaluate(
            args.run_dir,
            args.data,
            args.data_dir,
            args.split,
            verbose=fit_verbosity(args, default=0),
            checkpoint=args.checkpoint,
        )
        if args.json:
            print(json.dumps(metrics, indent=2))
            return None
        for key, value in metrics.items():
            print(f"{key}: {value:.4f}")
        print(f"Written to {os.path.join(args.run_dir, 'metrics.json')}")
    elif args.command == "tune":
        _tune(args)
    elif args.command == "plot-schedule":
        _plot_schedule(args)
    elif args.command == "predict":
        from kzoo import predictor

        print(
            predictor.predict_command(
                args.source,
                args.inputs,
                top_k=args.top_k,
                as_json=args.json,
                batch_size=args.batch_size,
            )
        )
    elif args.command == "export":
        from kzoo import export

        path = export.export(
            args.run_dir, args.format, args.output, args.overwrite, raw_input=args.raw_input
        )
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
        seed=args.seed,
        verbose=fit_verbosity(args, default=0),
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
    from kzoo.errors import check_number

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
    check_number("--steps-per-epoch", steps, integer=True, minimum=1)
    rate = recipe.schedule(config, steps) or recipe.optimizer(config, steps).learning_rate
    path = plots.plot_schedule(rate, steps, train["epochs"], args.output)
    print(f"Wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
