"""Keras Tuner searches over zoo configs: hypermodels from `search` blocks and a runner.

`hypermodel("cnn_mlp_rnn", num_classes=10)` is a `keras_tuner.HyperModel` whose
search space is the config's `search` block; `best_config` turns a trial's values
back into a config; `search.run` is `kzoo tune` (data loaded once, a tuner by name,
results.csv / trials.png / best.yaml, resume, k-fold, distributed mode).

This package imports keras_tuner; `import kzoo` loads it only on first use.
"""

from kzoo.tuning import search
from kzoo.tuning.hypermodel import ConfigHyperModel, best_config, hypermodel, parse_space

__all__ = ["ConfigHyperModel", "best_config", "hypermodel", "parse_space", "search"]
