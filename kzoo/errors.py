"""The error type of kzoo's user-facing input: configs, data sources and the CLI."""

from __future__ import annotations

import difflib
import math
import reprlib
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


# The largest count kzoo accepts anywhere (epochs, units, mel bins, steps): far above any
# real value, low enough that a typo such as 10**12 is an error rather than an
# allocation that exhausts memory.
LARGEST_COUNT = 10**7

_PREVIEW = reprlib.Repr()
_PREVIEW.maxstring = _PREVIEW.maxother = 60
_PREVIEW.maxlist = _PREVIEW.maxtuple = _PREVIEW.maxdict = _PREVIEW.maxset = 6
_PREVIEW.maxlevel = 3


def preview(value: object) -> str:
    """A bounded repr for error messages: never the whole of a large (or hostile) value.

    >>> preview(list(range(100)))
    '[0, 1, 2, 3, 4, 5, ...]'
    """
    return _PREVIEW.repr(value)


def is_number(value: object) -> bool:
    """A finite int or float (not a bool, not NaN or infinity)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_number(
    name: str,
    value: object,
    *,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
    hint: str = "",
) -> float | int:
    """Returns `value` when it is a finite number (an int, if `integer`) within the bounds.

    Every number kzoo reads from a config or a command line goes through here, so NaN,
    infinity, a bool, a string, 1.5 where a count is meant or an absurd magnitude all
    get the same one-line message. Counts are capped at `LARGEST_COUNT`.

    >>> check_number("units", 64, integer=True, minimum=1)
    64
    >>> check_number("num_mel_bins", 1.5, integer=True, minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: `num_mel_bins` must be an integer in [1, 10,000,000]. Received: num_mel_bins=1.5.
    """
    if integer and maximum is None:
        maximum = LARGEST_COUNT
    ok = (isinstance(value, int) and not isinstance(value, bool)) if integer else is_number(value)
    if ok:
        low = minimum is None or (value > minimum if exclusive_minimum else value >= minimum)
        high = maximum is None or (value < maximum if exclusive_maximum else value <= maximum)
        ok = low and high
    if not ok:
        kind = "an integer" if integer else "a finite number"
        if minimum is not None or maximum is not None:
            left = "(" if exclusive_minimum or minimum is None else "["
            right = ")" if exclusive_maximum or maximum is None else "]"
            low_text = "-inf" if minimum is None else _number_text(minimum)
            high_text = "inf" if maximum is None else _number_text(maximum)
            kind += f" in {left}{low_text}, {high_text}{right}"
        raise ValueError(
            f"`{name}` must be {kind}. Received: {name}={preview(value)}. {hint}".rstrip()
        )
    return value


def _number_text(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def check_like(name: str, value: object, default: object) -> None:
    """Checks a builder argument against the kind of its default value.

    A builder's defaults say what each argument is: a bool, a count (or a list of
    counts, as for per-layer kernel sizes), a number, a name (or a spec mapping, or
    None), a shape or list of sizes. Every number inside must be finite and at most `LARGEST_COUNT` in
    magnitude. An argument whose default is None may be anything within those bounds;
    the builder checks the rest.

    >>> check_like("units", [64, 32], (128,))
    >>> check_like("units", "wide", (128,))
    Traceback (most recent call last):
    ...
    ValueError: Argument `units` must be a list (like its default, (128,)). Received: units='wide'.
    """
    if value is None or default is None:
        _check_numbers_inside(name, value)
        return
    if isinstance(default, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        items = value if isinstance(value, (list, tuple)) else [value]
        ok = bool(items) and all(isinstance(v, int) and not isinstance(v, bool) for v in items)
        kind = "an integer (or a list of integers)"
    elif isinstance(default, float):
        ok, kind = is_number(value), "a number"
    elif isinstance(default, str):  # a name, or a spec such as {name: batch, momentum: 0.9}
        ok, kind = isinstance(value, (str, dict)), "a name, a {name: ..., ...} mapping or null"
    elif isinstance(default, (list, tuple)):  # a list; some builders take one int for all
        ok = isinstance(value, (list, tuple)) or (
            isinstance(value, int) and not isinstance(value, bool)
        )
        kind = "a list"
    else:
        ok, kind = True, ""
    if not ok:
        raise ValueError(
            f"Argument `{name}` must be {kind} (like its default, {preview(default)}). "
            f"Received: {name}={preview(value)}."
        )
    _check_numbers_inside(name, value)


def _check_numbers_inside(name: str, value: object) -> None:
    """Every number in `value` (nested lists and mappings too) finite and not absurd."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, (int, float)):
        check_number(
            f"{name}",
            value,
            minimum=-LARGEST_COUNT,
            maximum=LARGEST_COUNT,
            hint="Every size and rate kzoo builds with is far below that.",
        )
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_numbers_inside(name, item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_numbers_inside(name, item)
