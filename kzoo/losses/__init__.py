"""Losses by name: CTC with lengths, focal, metric learning, masked, GAN, autoencoder.

Each loss is a function holding the maths (per-example values) and a
`keras.losses.Loss` class adding reduction and config, as Keras pairs
`mean_squared_error` with `MeanSquaredError`.
"""

import keras

from kzoo import specs
from kzoo.losses.autoencoder import (  # noqa: F401  (public re-exports)
    SparsityRegularizer,
    VariationalSampling,
    kl_divergence,
)
from kzoo.losses.ctc import (  # noqa: F401  (public re-exports)
    CTCLoss,
    ctc_beam_search_decode,
    ctc_decode,
    ctc_greedy_decode,
    ctc_loss,
)
from kzoo.losses.focal import (  # noqa: F401  (public re-exports)
    SparseCategoricalFocalCrossentropy,
    sparse_categorical_focal_crossentropy,
)
from kzoo.losses.gan import (  # noqa: F401  (public re-exports)
    CycleConsistencyLoss,
    LeastSquaresGANLoss,
    cycle_consistency_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
)
from kzoo.losses.masked import (  # noqa: F401  (public re-exports)
    MaskedMeanAbsoluteError,
    MaskedMeanSquaredError,
    MaskedSparseCategoricalCrossentropy,
    sequence_crossentropy,
)
from kzoo.losses.metric_learning import (  # noqa: F401  (public re-exports)
    ContrastiveLoss,
    NTXentLoss,
    TripletLoss,
    contrastive_loss,
    nt_xent_loss,
    pairwise_distances,
    triplet_loss,
)
from kzoo.losses.regularization import (  # noqa: F401  (public re-exports)
    EntropyRegularizedCrossentropy,
    entropy_regularized_crossentropy,
    regularizer,
)

# kzoo's own losses by config name; each loss module adds its entries.
LOSSES: dict = {
    "ctc": CTCLoss,
    "ctc_loss": CTCLoss,
    "masked_sparse_categorical_crossentropy": MaskedSparseCategoricalCrossentropy,
    "masked_nll": MaskedSparseCategoricalCrossentropy,
    "masked_mse": MaskedMeanSquaredError,
    "masked_mean_squared_error": MaskedMeanSquaredError,
    "masked_mae": MaskedMeanAbsoluteError,
    "masked_l1": MaskedMeanAbsoluteError,
    "masked_mean_absolute_error": MaskedMeanAbsoluteError,
    "focal": SparseCategoricalFocalCrossentropy,
    "sparse_focal": SparseCategoricalFocalCrossentropy,
    "sparse_categorical_focal_crossentropy": SparseCategoricalFocalCrossentropy,
    "categorical_focal": keras.losses.CategoricalFocalCrossentropy,
    "categorical_focal_crossentropy": keras.losses.CategoricalFocalCrossentropy,
    "binary_focal": keras.losses.BinaryFocalCrossentropy,
    "binary_focal_crossentropy": keras.losses.BinaryFocalCrossentropy,
    "triplet": TripletLoss,
    "triplet_loss": TripletLoss,
    "contrastive": ContrastiveLoss,
    "contrastive_loss": ContrastiveLoss,
    "nt_xent": NTXentLoss,
    "ntxent": NTXentLoss,
    "lsgan": LeastSquaresGANLoss,
    "least_squares_gan": LeastSquaresGANLoss,
    "cycle_consistency": CycleConsistencyLoss,
    "entropy_regularized_crossentropy": EntropyRegularizedCrossentropy,
    "confidence_penalty": EntropyRegularizedCrossentropy,
}

# Short names, and SpeechBrain's: its `nll` is the negative log-likelihood of the true
# class (kzoo's classifiers output probabilities, so it is the sparse cross-entropy), its
# `l1` the mean absolute error.
_ALIASES = {
    "mse": keras.losses.MeanSquaredError,
    "mae": keras.losses.MeanAbsoluteError,
    "nll": keras.losses.SparseCategoricalCrossentropy,
    "l1": keras.losses.MeanAbsoluteError,
}


def get(spec):
    """A loss from a config spec: a kzoo or Keras loss name, or `{name: ..., <args>}`.

    >>> import kzoo
    >>> type(kzoo.losses.get("sparse_categorical_crossentropy")).__name__
    'SparseCategoricalCrossentropy'
    >>> kzoo.losses.get({"name": "binary_crossentropy", "from_logits": True}).from_logits
    True
    """
    table = {**specs.classes_by_name(keras.losses, keras.losses.Loss), **_ALIASES, **LOSSES}
    return specs.build(spec, table, "loss")
