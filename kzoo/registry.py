"""The model registry: builders by name, and nothing else.

`register` is the decorator beside every builder (and the one users call for their own
models); `list` and `builder` look builders up. Building, compiling and model cards live
one level up in `kzoo.models.factory`, which reads zoo configs; this module imports no
other part of kzoo except its error helpers, so configs may depend on it and not the
other way round.

Installed packages add builders through the entry-point group `kzoo.models`: the entry
point's name is the model name and its value the module (or `module:builder`) that
registers it. They load on the first lookup that needs them.
"""

from __future__ import annotations

import builtins
import fnmatch
import importlib
import importlib.metadata
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

from kzoo.errors import ConfigError, did_you_mean

ENTRY_POINT_GROUP = "kzoo.models"

Builder = Callable[..., Any]
_BUILDERS: dict[str, Builder] = {}
_LOADED_PLUGINS: set[str] = set()  # entry points already imported: `name = value`
_SCANNED_PATH: tuple[str, ...] | None = None  # sys.path when the entry points were last read


def register(name: str) -> Callable[[Builder], Builder]:
    """Registers a model builder under `name`.

    The builder is a function of keyword arguments returning a `keras.Model`. Without a
    zoo config of the same name, `kzoo.models.get(name)` uses the defaults of its
    signature and the default recipe (`kzoo.configs.TRAIN_DEFAULTS`); to train on data,
    it takes `input_shape` and `num_classes` arguments.

    Example:

    >>> import keras, kzoo
    >>> @kzoo.models.register("my_tiny_mlp")
    ... def my_tiny_mlp(input_shape=(4,), num_classes=2):
    ...     inputs = keras.Input(input_shape)
    ...     return keras.Model(inputs, keras.layers.Dense(num_classes)(inputs))
    >>> kzoo.models.get("my_tiny_mlp", num_classes=3).output.shape
    (None, 3)
    >>> kzoo.registry.unregister("my_tiny_mlp")
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            "A model name must be a Python identifier such as 'cnn_mlp_rnn' so it can name "
            f"a config file and a CLI argument. Received: {name!r}."
        )

    def decorator(builder: Builder) -> Builder:
        if name in _BUILDERS:
            raise ValueError(
                f"A model named {name!r} is already registered (by "
                f"{_BUILDERS[name].__module__}.{_BUILDERS[name].__qualname__}). "
                "Choose another name, or call kzoo.registry.unregister(name) first."
            )
        if not callable(builder):
            raise ValueError(
                f"@register({name!r}) decorates a model builder, a function returning a "
                f"keras.Model. Received: {builder!r}."
            )
        _BUILDERS[name] = builder
        return builder

    return decorator


def unregister(name: str) -> None:
    """Removes `name` from the registry (for users replacing a builder, and tests)."""
    builder(name)
    del _BUILDERS[name]


def builder(name: str) -> Builder:
    """The builder function registered under `name` (loading installed plugins if needed)."""
    if name not in _BUILDERS:
        load_plugins()
    try:
        return _BUILDERS[name]
    except KeyError:
        raise ValueError(
            f"Unknown model {name!r}. {did_you_mean(name, _BUILDERS)} "
            "Run `kzoo list` (or kzoo.models.list()) to see every model."
        ) from None


def list(pattern: str = "*") -> builtins.list[str]:  # noqa: A001 - mirrors timm.list_models
    """Sorted names of the registered models matching the fnmatch `pattern`.

    >>> import kzoo
    >>> kzoo.models.list("cnn_mlp_*")
    ['cnn_mlp_rnn']
    """
    load_plugins()
    return sorted(n for n in _BUILDERS if fnmatch.fnmatchcase(n, pattern))


def builder_arguments(name: str) -> dict[str, inspect.Parameter]:
    """The keyword arguments the builder of `name` accepts."""
    return dict(inspect.signature(builder(name)).parameters)


def plugin_entry_points() -> builtins.list[importlib.metadata.EntryPoint]:
    """The installed `kzoo.models` entry points (read from package metadata; nothing imported)."""
    return sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)


def load_plugins() -> None:
    """Imports every installed `kzoo.models` plugin once, registering its builders.

    An entry point whose value is a builder function (`package.module:builder`) that its
    module does not register itself is registered under the entry point's name. The
    entry points are read again whenever `sys.path` changes.
    """
    global _SCANNED_PATH
    path = tuple(sys.path)
    if path == _SCANNED_PATH:
        return
    _SCANNED_PATH = path
    for entry_point in plugin_entry_points():
        key = f"{entry_point.name} = {entry_point.value}"
        if key in _LOADED_PLUGINS:
            continue
        _LOADED_PLUGINS.add(key)  # a failing plugin is reported once, not on every lookup
        where = key + (f" (package {entry_point.dist.name})" if entry_point.dist else "")
        try:
            loaded = entry_point.load()
        except Exception as error:  # any failure of third-party code: one clear line
            raise ConfigError(
                f"Cannot load the model plugin {where} from entry-point group "
                f"{ENTRY_POINT_GROUP!r}: {type(error).__name__}: {error}. Fix or uninstall "
                "that package."
            ) from error
        if entry_point.name not in _BUILDERS and inspect.isfunction(loaded):
            register(entry_point.name)(loaded)


def import_builders(module: str) -> None:
    """Imports `module` (the CLI's `--import MODULE`) so the builders it registers join the list.

    The current directory comes first on the import path, as with `python -m`, so a
    `my_models.py` beside the config is found.
    """
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module(module)
    except Exception as error:  # any failure of the user's code: one clear line
        detail = f"{type(error).__name__}: {error}".strip()
        raise ConfigError(
            f"--import {module}: the module failed to import ({detail}). Pass an importable "
            "module name (a file my_models.py in the current directory is `my_models`)."
        ) from error
