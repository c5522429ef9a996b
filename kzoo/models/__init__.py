"""Prebuilt models, one file per family, each builder registered by name.

Every family is imported here explicitly, so registration never depends on an
accidental import.
"""

from kzoo.models import (  # noqa: F401  (registers the builders)
    applications,
    autoencoders,
    cnn_mlp_rnn,
    convolutional,
    mlp,
    residual,
    sequences,
    sincnet,
    text,
    transformer,
)
from kzoo.models.factory import build, card, describe, get
from kzoo.registry import list, register

__all__ = ["build", "card", "describe", "get", "list", "register"]
