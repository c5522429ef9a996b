"""Registered names are the file format: each must resolve to the one class that claims it."""

import importlib
import inspect
import pkgutil

import keras

import kzoo


def _kzoo_classes():
    for info in pkgutil.walk_packages(kzoo.__path__, "kzoo."):
        if info.name.startswith("kzoo.tuning"):
            continue  # keras_tuner is optional at import time
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ == info.name:
                yield obj


def test_every_registered_name_resolves_to_its_own_class():
    clashes = []
    for cls in _kzoo_classes():
        name = keras.saving.get_registered_name(cls)
        if name.startswith("kzoo>") and keras.saving.get_registered_object(name) is not cls:
            clashes.append(
                f"{name}: {cls.__module__} is shadowed by {keras.saving.get_registered_object(name).__module__}"
            )
    assert not clashes, clashes
