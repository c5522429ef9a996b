"""Prebuilt models, one file per family, each builder registered by name.

Every family is imported here explicitly, so registration never depends on an
accidental import.
"""

from kzoo.models import cnn_mlp_rnn, mlp  # noqa: F401  (registers the builders)
from kzoo.models import sequences  # noqa: F401
from kzoo.registry import describe, get, list, register

__all__ = ["describe", "get", "list", "register"]
