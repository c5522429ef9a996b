"""Objects by name from config specs: `"adam"` or `{"name": "focal", "gamma": 2.0}`.

Losses, metrics, schedules, optimizers, callbacks, normalizations, activations and
attention layers are all chosen by name in zoo configs; this is the one place that
turns such a spec into an object, with a did-you-mean error for unknown names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kzoo.errors import did_you_mean


def split(spec: str | Mapping[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    """`"adam"` -> ("adam", {}); `{"name": "adam", "learning_rate": 0.1}` -> ("adam", {...})."""
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
        kwargs = dict(spec)
        return kwargs.pop("name"), kwargs
    raise ValueError(
        f"A {kind} must be given as a name or as a mapping with a `name` key, such as "
        f"{{name: ..., <argument>: <value>}}. Received: {spec!r}."
    )


def build(
    spec: str | Mapping[str, Any],
    table: Mapping[str, Callable[..., Any]],
    kind: str,
    **extra: Any,
) -> Any:
    """Calls the constructor that `table` holds for the spec's name, with its arguments."""
    name, kwargs = split(spec, kind)
    key = name.lower()
    if key not in table:
        raise ValueError(f"Unknown {kind} {name!r}. {did_you_mean(key, table)}")
    try:
        return table[key](**extra, **kwargs)
    except TypeError as error:
        raise ValueError(
            f"Bad arguments for {kind} {name!r}: {error}. Received: {kwargs}."
        ) from None


def snake_case(name: str) -> str:
    """`SparseTopKCategoricalAccuracy` -> `sparse_top_k_categorical_accuracy`, `KLDivergence` -> `kl_divergence`.

    >>> snake_case("SparseTopKCategoricalAccuracy"), snake_case("KLDivergence"), snake_case("CTC")
    ('sparse_top_k_categorical_accuracy', 'kl_divergence', 'ctc')
    """
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            previous, following = name[i - 1], name[i + 1 : i + 2]
            if not previous.isupper() or following.islower():
                out.append("_")
        out.append(ch.lower())
    return "".join(out)


def classes_by_name(module: Any, base: type) -> dict[str, type]:
    """The public subclasses of `base` in `module`, keyed by their snake_case names."""
    return {
        snake_case(name): value
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, base) and value is not base
    }
