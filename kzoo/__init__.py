"""kzoo: a Keras 3 model zoo.

Layers, losses, metrics, schedules and callbacks that Keras core lacks, prebuilt
models fetched by name (`kzoo.models.get("cnn_mlp_rnn")`) and configured by YAML,
a training CLI (`kzoo train`) and Keras Tuner searches (`kzoo.tuning`).
"""

import importlib
from importlib import metadata

from kzoo import (
    callbacks,
    configs,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    registry,
    schedules,
    weight_settings,
)
from kzoo.errors import ConfigError

# The version has one source, pyproject.toml; the installed metadata carries it here.
try:
    __version__ = metadata.version("kzoo")
except metadata.PackageNotFoundError:  # a source tree on sys.path, never installed
    __version__ = "0+unknown"

# Parts that import tensorflow-datasets, keras-tuner or tf.data load on first use, so
# `import kzoo` stays cheap and works on every Keras backend.
_LAZY = (
    "data",
    "training",
    "tuning",
    "summary",
    "recipe",
    "testing",
    "plots",
    "run_dir",
    "predictor",
    "presets",
)


def load(source, **kwargs):
    """A trained classifier (`kzoo.predictor.Predictor`) from a run directory, a preset
    directory or archive, a shipped preset name or a URL; see `kzoo.predictor.load`."""
    from kzoo import predictor

    return predictor.load(source, **kwargs)


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f"kzoo.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'kzoo' has no attribute {name!r}")


__all__ = [
    "ConfigError",
    "callbacks",
    "configs",
    "load",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "registry",
    "schedules",
    "weight_settings",
    *_LAZY,
]
