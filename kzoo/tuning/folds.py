"""K-fold cross-validation for searches: stratified folds of training plus validation data.

With `folds=K` every trial trains K models on stratified folds of the training plus
validation examples and scores the mean of their objectives, which is steadier than one
validation split on small data. Both engines use these folds.
"""

from __future__ import annotations

import numpy as np

from kzoo.errors import ConfigError


def fold_indices(labels: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified K-fold (train, validation) index pairs, a deterministic function of `seed`.

    >>> pairs = fold_indices(np.array([0, 0, 0, 1, 1, 1]), folds=3, seed=0)
    >>> [len(val) for _, val in pairs], sorted(np.concatenate([v for _, v in pairs]).tolist())
    ([2, 2, 2], [0, 1, 2, 3, 4, 5])
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"--folds must be an integer of at least 2. Received: {folds!r}.")
    if folds > len(labels):
        raise ConfigError(
            f"--folds {folds} exceeds the {len(labels)} training and validation examples. "
            "Use fewer folds."
        )
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(labels), "int64")
    offset = 0
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        # Continue the round-robin across classes so small classes do not pile into fold 0.
        assignment[members] = (np.arange(len(members)) + offset) % folds
        offset += len(members)
    everything = np.arange(len(labels))
    return [(everything[assignment != k], everything[assignment == k]) for k in range(folds)]


def fold_data(x_train, y_train, x_val, y_val, folds: int, seed: int):
    """`(x, y, splits)`: training and validation examples together and their K folds."""
    x = np.concatenate([x_train, x_val])
    y = np.concatenate([y_train, y_val])
    return x, y, fold_indices(y, folds, seed)
