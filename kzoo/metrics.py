"""Metrics by name, and kzoo's own: classification error, token error rate."""

import keras

from kzoo import specs

# kzoo's own metrics by config name.
METRICS: dict = {}


def get(spec):
    """A metric from a config spec.

    Plain strings Keras understands in `compile` (`"accuracy"`, `"mae"`) pass through, so
    Keras picks the right variant for the loss; mappings build a metric class with
    arguments.

    >>> import kzoo
    >>> kzoo.metrics.get("accuracy")
    'accuracy'
    >>> type(kzoo.metrics.get({"name": "sparse_top_k_categorical_accuracy", "k": 2})).__name__
    'SparseTopKCategoricalAccuracy'
    """
    name, kwargs = specs.split(spec, "metric")
    if name.lower() in METRICS:
        return specs.build(spec, METRICS, "metric")
    if not kwargs:
        return name
    table = specs.classes_by_name(keras.metrics, keras.metrics.Metric)
    return specs.build(spec, table, "metric")
