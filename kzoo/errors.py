"""The error type of kzoo's user-facing input: configs, data sources and the CLI."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ConfigError(ValueError):
    """A zoo config, a data source or a command line asked for something kzoo cannot do.

    It is a `ValueError`, so callers that catch `ValueError` keep working; the CLI
    prints its message on one line and exits with status 2.
    """


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A hint naming the choices closest to `name`, or every choice when none is close."""
    choices = sorted(str(c) for c in choices)
    close = difflib.get_close_matches(str(name), choices, n=3, cutoff=0.5)
    if close:
        return "Did you mean " + " or ".join(repr(c) for c in close) + "?"
    if len(choices) <= 12:
        return "Expected one of: " + ", ".join(choices) + "."
    return f"There are {len(choices)} choices; none is close."


def check_choice(argument: str, value: str, choices: Iterable[str]) -> str:
    """Returns `value` when it is one of `choices`, else raises a ValueError with close matches."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(
            f"Argument `{argument}` must be one of {sorted(choices)}. "
            f"Received: {argument}={value!r}. {did_you_mean(value, choices)}"
        )
    return value
