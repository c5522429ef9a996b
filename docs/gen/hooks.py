"""MkDocs hooks: the pages that must not drift from the code are generated at build time.

- `config-reference.md` from `kzoo.configs` (TRAIN_DEFAULTS, DATA_DEFAULTS), the names each
  registry accepts, and the error the validator gives for a wrong value of each key;
- `cli.md` from `kzoo.cli.build_parser()`;
- `models.md`'s list of builders from the registry, `recipes.md` from the zoo configs;
- `benchmarks.md` from `benchmarks/results.md` (and its plot), `changelog.md` from CHANGELOG.md.

A key added to the defaults without a description here fails the build (`--strict` or not).
"""

from __future__ import annotations

import argparse
import atexit
import functools
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TOP_LEVEL = {
    "model": "a registered model name (`kzoo list`); the only required key",
    "description": "one line shown by `kzoo list` and on the model card",
    "args": "the builder's keyword arguments, exactly (checked against its signature)",
    "train": "the recipe: optimizer, schedule, loss, metrics, batch size, epochs, callbacks",
    "data": "the default data source, features, splits and augmentation",
    "search": "the Keras Tuner search space over `args.*` and `train.*` keys ([tuning](tuning.md))",
    "reference": "`result` (measured result, data, time) and `command` (how to reproduce it)",
}

TRAIN = {
    "optimizer": "a name or `{name: ..., learning_rate: ..., ...}`; extra keys go to the Keras optimizer",
    "schedule": "null, a name or `{name: ..., ...}`: a learning-rate schedule ([schedules](schedules.md))",
    "loss": "a name or `{name: ..., ...}` ([losses](losses.md))",
    "metrics": "a list of metric names",
    "batch_size": "examples per training step",
    "epochs": "passes over the training split (`--epochs` overrides)",
    "callbacks": "a mapping of callback names to their arguments, e.g. `{early_stopping: {patience: 3}}`",
    "seed": "seeds Keras, the data split, shuffling and augmentation",
    "jit_compile": "`true`, `false` or `auto` (Keras decides: off for TensorFlow on CPU)",
    "tensorboard": "write TensorBoard logs to `RUN_DIR/tensorboard` (`tensorboard --logdir RUN_DIR`)",
    "mixed_precision": "`mixed_float16` or `mixed_bfloat16`: the layers' dtype policy; null for float32",
}

DATA = {
    "source": "`vowels`, `tfds:NAME[:split]`, or a directory of class sub-folders; null: `--data` must name one",
    "download_instructions": "where to get data kzoo cannot ship; the error for a missing source prints it",
    "task": "which label set: `vowel` or `speaker` for `vowels`; null for one-label sources",
    "targets": "`labels` (classification) or `inputs` (autoencoders: the target is the input)",
    "features": "a type name or `{type: raw | logmel | mfcc, ...}` (table below)",
    "validation_split": "fraction of the examples held out for validation, in [0, 1)",
    "test_split": "fraction held out for testing, in [0, 1) (unless `test_pattern` is set)",
    "test_pattern": "a regular expression on file names: matching files form the test split",
    "trim_silence": "dB: cut each recording's leading and trailing audio this far below its peak",
    "max_seconds": "longer audio is cropped, shorter padded, to this duration",
    "sample_rate": "the sample rate every recording must have (Hz); null accepts the first seen",
    "augment": "training-split augmentation ([data](data.md#augmentation))",
    "bucketing": "batch audio by length when the model's time axis is variable: `true`, "
    "`false`, or `{window: 64, boundaries: [...]}`",
    "cache": "where features that do not change between epochs are kept: `auto` (memory up "
    "to 256 MiB, then a temporary file), `memory`, or a directory",
}

# Values that are wrong for most keys; the first one the validator rejects shows its error.
WRONG = ("not-a-valid-value", -1, 1.5, [1], {"bogus": 1})


def _check(described: dict, actual: dict, what: str) -> None:
    missing, stale = set(actual) - set(described), set(described) - set(actual)
    if missing or stale:
        raise RuntimeError(
            f"docs/gen/hooks.py: describe every {what} key. Undescribed: {sorted(missing)}; "
            f"no longer in kzoo: {sorted(stale)}."
        )


def _cell(value) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1000).strip()
    text = text.removesuffix("\n...").removesuffix("...").strip()
    return f"`{text}`".replace("|", "\\|")


def _later_checks() -> dict:
    """The checks that run when training starts, for keys the config validator passes on."""
    from kzoo import callbacks, configs, losses, optimizers, schedules
    from kzoo.data import augment, examples, features

    return {
        "train.optimizer": lambda v: optimizers.get(v),
        "train.schedule": lambda v: schedules.get(v, steps_per_epoch=10, epochs=10),
        "train.loss": lambda v: losses.get(v),
        "train.callbacks": lambda v: callbacks.from_config(v),
        "data.features": lambda v: features.resolve(v),
        "data.augment": lambda v: augment.resolve(v, "raw"),
        "data.source": lambda v: examples({**configs.DATA_DEFAULTS, "source": v}),
        **{
            f"data.{key}": functools.partial(_load_tiny_folder, key)
            for key in (
                "test_pattern",
                "trim_silence",
                "max_seconds",
                "sample_rate",
                "bucketing",
                "cache",
            )
        },
    }


@functools.cache
def _tiny_folder() -> Path:
    """Two classes of four 0.1 s recordings: enough for the data pipeline's own checks."""
    import wave

    import numpy as np

    root = Path(tempfile.mkdtemp(prefix="kzoo-docs-"))
    atexit.register(shutil.rmtree, root, True)
    noise = np.random.default_rng(0).normal(scale=1000, size=800).astype("<i2").tobytes()
    for label in ("a", "b"):
        (root / label).mkdir()
        for index in range(4):
            with wave.open(str(root / label / f"{index}.wav"), "wb") as file:
                file.setnchannels(1)
                file.setsampwidth(2)
                file.setframerate(8000)
                file.writeframes(noise)
    return root


def _load_tiny_folder(key: str, value) -> None:
    from kzoo import configs, data

    block = {**configs.DATA_DEFAULTS, "source": str(_tiny_folder()), key: value}
    data.load(block, batch_size=4)


def _error_for(section: str, key: str) -> str:
    from kzoo import configs

    later = _later_checks().get(f"{section}.{key}")
    for wrong in WRONG:
        try:
            config = configs.load({"model": "mlp"}, {f"{section}.{key}": wrong})
            configs.validate(config)
            if later is not None:
                later(config[section][key])
        except ValueError as error:
            message = " ".join(str(error).split()).removeprefix("<mapping>: ")
            message = re.sub(r"/\S*kzoo-docs-\w+", "DIR", message)  # the probe's folder
            return f"`{wrong!r}`: {message}".replace("|", "\\|")
        except Exception:  # noqa: BLE001 - not the user-facing error this table shows
            continue
    return "not checked"


def config_reference() -> str:
    from kzoo import callbacks, configs, losses, metrics, optimizers, schedules
    from kzoo.data import augment, features

    _check(TOP_LEVEL, dict.fromkeys(configs.TOP_LEVEL_KEYS), "top-level")
    _check(TRAIN, configs.TRAIN_DEFAULTS, "train")
    _check(DATA, configs.DATA_DEFAULTS, "data")
    lines = [
        "# Config reference",
        "",
        "Generated from `kzoo.configs` (its `RULES`, which the validator enforces) at build",
        "time. Every key below may",
        "be set in a YAML file or overridden with `--set section.key=value`. A config file",
        "only names what differs from these defaults.",
        "",
        "## Top-level keys",
        "",
        "| key | meaning |",
        "|---|---|",
    ]
    lines += [f"| `{key}` | {TOP_LEVEL[key]} |" for key in configs.TOP_LEVEL_KEYS]
    for section, defaults, described in (
        ("train", configs.TRAIN_DEFAULTS, TRAIN),
        ("data", configs.DATA_DEFAULTS, DATA),
    ):
        lines += [
            "",
            f"## `{section}`",
            "",
            "| key | default | accepts | meaning | a wrong value and the error it gives |",
            "|---|---|---|---|---|",
        ]
        for key, default in defaults.items():
            error = _error_for(section, key)
            rule = configs.RULES.get(f"{section}.{key}")
            accepts = rule.describe().replace("|", "\\|") if rule else "see the meaning"
            lines.append(
                f"| `{section}.{key}` | {_cell(default)} | {accepts} | {described[key]} | {error} |"
            )
    names = {
        "`train.optimizer` names": sorted(optimizers.OPTIMIZERS),
        "`train.schedule` names": sorted(schedules.table()),
        "`train.loss` names (besides Keras's own)": sorted(losses.LOSSES),
        "`train.metrics` names (besides Keras's own)": sorted(metrics.METRICS),
        "`train.callbacks` names": sorted(callbacks.CALLBACKS),
        "`data.augment` names": sorted(augment.AUGMENTATIONS),
    }
    lines += ["", "## Accepted names", ""]
    for title, values in names.items():
        lines.append(f"- {title}: " + ", ".join(f"`{v}`" for v in values))
    lines += [
        "",
        "## `data.features`",
        "",
        "| type | keys and defaults |",
        "|---|---|",
    ]
    for kind in features.TYPES:
        lines.append(f"| `{kind}` | {_cell(features.DEFAULTS[kind])} |")
    lines += [
        "",
        "`normalize`: `utterance` (zero mean, unit variance per utterance), `cmvn` (per",
        "utterance and feature) or null. `top_db` floors log-mel and MFCC values that far",
        "below each utterance's peak.",
        "",
    ]
    return "\n".join(lines)


def _markdown_text(text: str) -> str:
    """Help text as literal Markdown: no tags, emphasis or table breaks."""
    for char, escaped in (("<", "&lt;"), (">", "&gt;"), ("*", "\\*"), ("|", "\\|")):
        text = text.replace(char, escaped)
    return text


def _subcommands(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            name = ", ".join(action.option_strings)
            if action.nargs != 0:
                name += f" {action.metavar or action.dest.upper()}"
        else:
            name = action.metavar or action.dest
        details = action.help or ""
        if action.choices and not isinstance(action.choices, dict):
            details += (" " if details else "") + "one of " + ", ".join(map(str, action.choices))
        default = action.default
        shown = "" if default in (None, False, [], argparse.SUPPRESS) else f"`{default}`"
        details = _markdown_text(details)
        rows.append(f"| `{name}` | {shown} | {details} |")
    if not rows:
        return []
    return ["| argument | default | meaning |", "|---|---|---|", *rows]


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def cli_reference() -> str:
    from kzoo import cli

    parser = cli.build_parser()
    lines = [
        "# Command line",
        "",
        "Generated from `kzoo.cli.build_parser()` at build time. Every user error prints one",
        "line, `kzoo: error: ...`, and exits with status 2 ([reliability](reliability.md)).",
        "",
        "```",
        parser.format_usage().strip(),
        "```",
        "",
        parser.description or "",
        "",
    ]
    top = _options_table(parser)
    if top:
        lines += [*top, ""]
    for name, help_text, sub in _subcommands(parser):
        lines += [
            f"## `kzoo {name}`",
            "",
            _markdown_text(_sentence(help_text or sub.description or "")),
            "",
            "```",
            sub.format_usage().strip(),
            "```",
            "",
            *_options_table(sub),
            "",
        ]
    return "\n".join(lines)


def benchmarks_page() -> str:
    results = (ROOT / "benchmarks" / "results.md").read_text()
    body = results.split("\n", 1)[1] if results.startswith("# ") else results
    return "\n".join(
        [
            "# Benchmarks",
            "",
            "`make bench` (`python -m benchmarks`) times kzoo against its references on the",
            "TensorFlow backend. Each case runs in a fresh interpreter; kzoo and the reference",
            "run alternately after warm-up, and a ratio is the median of the per-pair ratios,",
            "so a slow stretch of a shared machine slows both sides of a pair. `--only",
            "losses,zoo` runs some cases, `--quick` a smaller pass. Below is the last full",
            "run, `benchmarks/results.md`, on a 2-core CPU shared with other jobs: on such a",
            "host one fit can take 30 % more or less time from one call to the next, so a row",
            "whose expected ratio lies near its target can miss it in another run.",
            "",
            "Numerical parity with the reference implementations (golden arrays in the",
            "tests): SincConv1D vs SpeechBrain within 5.2e-7 relative; LiGRU / SLiGRU vs",
            "SpeechBrain within 4.7e-7 absolute; CTC vs `torch.nn.functional.ctc_loss` within",
            "1.1e-7 relative; instance norm vs torch and LRN vs",
            "`tf.nn.local_response_normalization` within 1.7e-7; NewBob, step and Noam",
            "schedules equal to SpeechBrain's schedulers.",
            "",
            "On a CPU, XLA pays only for some models (see the XLA table below), and Keras's",
            "`jit_compile: auto`, the configs' default, leaves it off on TensorFlow CPUs;",
            "`mixed_bfloat16` measured no faster than float32, so the configs keep float32.",
            "",
            body.strip().replace("\n# ", "\n## "),
            "",
        ]
    )


MODELS_INTRO = """# Models

Every model is a plain function returning a functional `keras.Model` with named layers,
registered by name. `kzoo.models.get(name, **overrides)` builds it from the defaults of
its zoo config (`zoo_configs/NAME.yaml`), overridden by keyword arguments, and compiles
it with the config's recipe; `compile=False` skips that. `kzoo show NAME` prints the
model card: input and output, parameters, the default recipe and the measured result.

```python
import kzoo

kzoo.models.list("*lstm*")                       # ['bilstm', 'lstm', 'stacked_lstm']
model = kzoo.models.get("transformer", num_classes=5, compile=False)

@kzoo.models.register("tiny_mlp")               # your own builder: flat keyword arguments
def tiny_mlp(input_shape=(31, 40), num_classes=12):
    ...
```

Unknown names raise `ValueError` with the close matches and the command that lists
everything; registering a name twice raises.

## Transfer learning

The `keras.applications` backbones (`resnet50`, `vgg16`, `inception_v3`,
`mobilenet_v2`) take `weights=None` (random initialisation) or the path of a weights file
you have: kzoo never downloads, so `weights="imagenet"` raises one error saying how to
pass a local file. They also take `include_top`, `freeze` (only the head trains) and
`resize` (spectrograms to the size the architecture needs):

```python
model = kzoo.models.get("mobilenet_v2", weights="/data/mobilenet_v2.h5", freeze=True, num_classes=5)
```

Trained from scratch on small data sets, their batch norms need
`batch_norm_momentum: 0.9` (the zoo configs set it): at Keras's default momentum the
moving statistics trail the weights, and test accuracy stays at chance while training
accuracy climbs.

## Distributed training

`kzoo train CONFIG --distribute mirrored` builds, compiles and fits under
`tf.distribute.MirroredStrategy` (every local GPU, or every logical CPU) on the
TensorFlow backend, and under `keras.distribution.DataParallel` on JAX.
`--distribute multi_worker` uses `MultiWorkerMirroredStrategy` with the cluster in
`TF_CONFIG` (run the same command on every worker); Keras 3's `fit` has open upstream
issues with that strategy, so treat it as experimental. `--distribute tpu` connects to
`TPU_NAME` and uses `TPUStrategy`.

## Export

```bash
kzoo export runs/lstm --format saved_model     # or onnx (pip install ".[export]"), litert
```

Export goes through Keras's `Model.export`, and each artifact is checked against the
Keras model's outputs:

| models | saved_model | onnx | litert |
|---|---|---|---|
| mlp, cnn, cnn1d, sincnet, resnet, densenet, mobilenet, transformer, autoencoders, vae | ok | ok | ok |
| rnn, gru, lstm, bilstm, stacked_lstm, ligru, cnn_mlp_rnn, text_classifier | ok | ok | written with Select TF ops (run it with a Flex-delegate interpreter) |

Largest difference from Keras, measured on every model: 0 for SavedModel (1.9e-7 for
sincnet), at most 8.3e-7 for ONNX and 1.2e-6 for LiteRT.

## Every model

Generated from the registry: each builder's arguments are the keys of its config's
`args` block.
"""


def models_page() -> str:
    import importlib

    from kzoo import registry

    families: dict[str, list[tuple[str, str]]] = {}
    for name in registry.list():
        builder = registry.builder(name)
        families.setdefault(builder.__module__, []).append((name, builder.__qualname__))
    lines = [MODELS_INTRO]
    for module, builders in sorted(families.items()):
        doc = (importlib.import_module(module).__doc__ or module).strip().splitlines()[0]
        names = ", ".join(f"`{name}`" for name, _ in builders)
        lines += [f"### {doc.rstrip('.')}", "", f"Registered names: {names}.", ""]
        for _, qualname in builders:
            lines += [f"::: {module}.{qualname}", "    options:", "      heading_level: 4", ""]
    return "\n".join(lines)


RECIPES_INTRO = """# Recipes and results

Generated from the zoo configs' `reference` blocks: each result was measured with the
TensorFlow backend on a 2-core CPU, and its command reproduces it. Training times on a
CPU shared with other jobs are upper bounds. `kzoo show NAME` prints the same on the
model card. FSDD and IMDB are public data sets that kzoo does not ship:
[Data](data.md#public-data-sets-used-by-the-recipes) says how to get and arrange them.
"""

EXAMPLES = """## Example scripts

Scripts in `examples/` use kzoo's public API only (TensorFlow backend, seed 0, the same
machine as above):

| script | task | result | time |
|---|---|---|---|
| `python examples/fsdd_digit_strings.py --fsdd free-spoken-digit-dataset/recordings` | connected digits: 2-5 FSDD recordings joined into strings, `cnn_mlp_rnn` with `head="ctc"` and `CTCLoss`, greedy decoding; training strings from recordings 5-49, test strings from 0-4 | digit error rate 0.001 (`TokenErrorRate`); 0.995 of the 200 test strings entirely right | 105 s, 10 epochs |
| `python examples/fsdd_speaker_embeddings.py --fsdd free-spoken-digit-dataset/recordings` | `cnn1d` with `head="embedding"` trained with `TripletLoss` (semi-hard); FSDD speakers, same split | verification EER 0.000 over 19,900 test pairs; nearest-centroid accuracy 1.000 (4 known speakers) | 47 s, 15 epochs |
| `python examples/vae_samples.py` | `vae` on vowels log-mel frames; writes a PNG of inputs, reconstructions and samples from the prior | test reconstruction MSE 0.057 (0.384 for the mean spectrogram) | 38 s, 30 epochs |
| `python examples/fsdd_leave_one_speaker_out.py /tmp/fsdd_digits` | `digits_fsdd` with each speaker held out in turn | above, under "Spoken digits" | |
"""


def recipes_page() -> str:
    from kzoo import configs, registry

    models = set(registry.list())
    recipes = [n for n in configs.names() if n not in models]
    lines = [RECIPES_INTRO, (HERE / "digit_recipes.md").read_text(), "## Recipes", ""]
    for name in recipes:
        config = configs.load(name)
        reference = config["reference"]
        lines += [
            f"### `{name}`",
            "",
            f"{config['description']} Model: `{config['model']}`.",
            "",
            f"**Result:** {reference.get('result', 'not measured')}.",
            "",
            "```bash",
            reference.get("command", f"kzoo train {name}"),
            "```",
            "",
        ]
    lines += [
        "## Every model's default config",
        "",
        "Each registered model has a config named after it that trains on `vowels`",
        "(`kzoo train NAME`).",
        "",
        "| config | result |",
        "|---|---|",
    ]
    for name in sorted(models & set(configs.names())):
        result = configs.load(name)["reference"].get("result", "not measured")
        lines.append(f"| `{name}` | {result} |")
    lines += ["", EXAMPLES]
    return "\n".join(lines)


def on_startup(command, dirty):
    # This checkout's kzoo, whatever is installed. Here, not at import: MkDocs restores
    # sys.path after loading a hook module.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def on_files(files, config):
    pages = {
        "config-reference.md": config_reference(),
        "cli.md": cli_reference(),
        "models.md": models_page(),
        "recipes.md": recipes_page(),
        "benchmarks.md": benchmarks_page(),
        "changelog.md": (ROOT / "CHANGELOG.md").read_text(),
    }
    for uri, content in pages.items():
        files.append(File.generated(config, uri, content=content))
    plot = ROOT / "benchmarks" / "scaling.png"
    files.append(File.generated(config, "scaling.png", content=plot.read_bytes()))
    return files
