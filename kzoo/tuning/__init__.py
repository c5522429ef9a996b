"""Searches over zoo configs with Keras Tuner or Optuna, driven by their `search` blocks.

`hypermodel("cnn_mlp_rnn", num_classes=10)` is a `keras_tuner.HyperModel` whose
search space is the config's `search` block; `best_config` turns a trial's values
back into a config; `study(...)` and `objective(...)` are the Optuna route (an Optuna
study and an objective function built from a zoo config); `search.run` is `kzoo tune`
(data loaded once, either engine, results.csv / trials.png / best.yaml, resume,
k-fold, distributed workers).

This package imports keras_tuner; `import kzoo` loads it only on first use, and Optuna
is imported only by `study`, `objective` and `--engine optuna`.
"""

from kzoo.tuning import search
from kzoo.tuning.hypermodel import ConfigHyperModel, best_config, hypermodel
from kzoo.tuning.space import parse_space


def study(*args, **kwargs):
    """An Optuna study over a zoo config's search space (`kzoo.tuning.optuna.study`)."""
    from kzoo.tuning import optuna

    return optuna.study(*args, **kwargs)


def objective(*args, **kwargs):
    """An Optuna objective function built from a zoo config (`kzoo.tuning.optuna.objective`)."""
    from kzoo.tuning import optuna

    return optuna.objective(*args, **kwargs)


__all__ = [
    "ConfigHyperModel",
    "best_config",
    "hypermodel",
    "objective",
    "parse_space",
    "search",
    "study",
]
