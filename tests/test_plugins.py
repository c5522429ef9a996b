"""Your own models: registered in Python, by `--import MODULE`, or by an installed package."""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import pytest

import kzoo
from kzoo import cli, configs, registry
from tests.helpers import vowel_folders

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_SOURCE = Path(__file__).resolve().parent / "plugin_package"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    """The example plugin package pip-installed (really built and installed) into a temp dir."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(target), str(PLUGIN_SOURCE)],
        check=True, capture_output=True,
    )  # fmt: skip
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    for name in set(registry.list("plugin_*")) & {"plugin_mlp", "plugin_linear"}:
        registry.unregister(name)
    sys.modules.pop("kzoo_plugin_example.models", None)
    sys.modules.pop("kzoo_plugin_example", None)


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def user_model():
    @kzoo.models.register("test_user_pooled")
    def test_user_pooled(input_shape=(None, 16), num_classes=2, units=(4,)):
        """A user model without a zoo config."""
        inputs = keras.Input(input_shape)
        x = keras.layers.GlobalAveragePooling1D()(inputs)
        for width in units:
            x = keras.layers.Dense(width, activation="relu")(x)
        return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))

    yield "test_user_pooled"
    registry.unregister("test_user_pooled")


def test_registered_model_gets_builder_defaults_and_default_recipe(user_model):
    model = kzoo.models.get(user_model, num_classes=5)
    assert model.output.shape == (None, 5) and model.compiled
    assert model.optimizer.name == configs.TRAIN_DEFAULTS["optimizer"]["name"]
    config = configs.load(user_model)
    assert config["args"] == {"input_shape": [None, 16], "num_classes": 2, "units": [4]}
    assert config["train"] == configs.TRAIN_DEFAULTS
    assert "the builder's signature" in kzoo.models.describe(user_model)
    with pytest.raises(kzoo.ConfigError, match=r"args.unit'.*'units'"):
        kzoo.models.get(user_model, unit=3)


def test_entry_point_plugin_registers_its_models(plugin_path):
    assert {"plugin_mlp", "plugin_linear"} <= set(kzoo.models.list("plugin_*"))
    # The decorated builder and the plain function named by its entry point.
    assert kzoo.models.get("plugin_mlp", num_classes=4).output.shape == (None, 4)
    assert registry.builder("plugin_linear").__module__ == "kzoo_plugin_example.models"


def test_cli_trains_a_plugin_model(plugin_path, tmp_path, capsys):
    folder = vowel_folders(tmp_path / "data")
    code, out, err = _run(
        capsys, "train", "plugin_linear", "--data", str(folder), "--epochs", "1",
        "--output", str(tmp_path / "run"), "--quiet",
        "--set", "data.features={type: logmel, num_mel_bins: 16}",
    )  # fmt: skip
    assert code == 0, err
    assert "Run directory" in out and (tmp_path / "run" / "model.keras").exists()
    assert "model: plugin_linear" in (tmp_path / "run" / "config.yaml").read_text()


def test_console_script_lists_plugin_models(plugin_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-m", "kzoo.cli", "list", "plugin_*"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "plugin_linear" in result.stdout and "plugin_mlp" in result.stdout


def test_cli_import_registers_a_module(tmp_path, capsys, monkeypatch):
    (tmp_path / "my_models.py").write_text(
        "import keras, kzoo\n"
        "@kzoo.models.register('test_imported_model')\n"
        "def test_imported_model(input_shape=(4,), num_classes=2):\n"
        "    '''Imported from the command line.'''\n"
        "    inputs = keras.Input(input_shape)\n"
        "    return keras.Model(inputs, keras.layers.Dense(num_classes)(inputs))\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        code, out, _ = _run(capsys, "--import", "my_models", "list", "test_imported*")
        assert code == 0 and "test_imported_model  Imported from the command line." in out
    finally:
        registry.unregister("test_imported_model")
        sys.modules.pop("my_models", None)


@pytest.mark.parametrize(
    "source, message",
    [
        ("raise RuntimeError('no GPU here')\n", r"--import broken_models: .*RuntimeError: no GPU"),
        ("import no_such_dependency_xyz\n", r"--import broken_models: .*ModuleNotFoundError"),
    ],
)
def test_cli_import_failure_is_one_line(tmp_path, capsys, monkeypatch, source, message):
    (tmp_path / "broken_models.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = _run(capsys, "--import", "broken_models", "list")
    sys.modules.pop("broken_models", None)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("kzoo: error: ")
    assert re.search(message, err)


def test_cli_import_of_a_missing_module(capsys):
    code, _, err = _run(capsys, "--import", "no_such_module_xyz", "list")
    assert code == 2 and "--import no_such_module_xyz" in err and "ModuleNotFoundError" in err


def test_builder_without_data_arguments_is_a_clear_error(tmp_path, capsys):
    @kzoo.models.register("test_fixed_model")
    def test_fixed_model(units=4):
        inputs = keras.Input((None, 16))
        x = keras.layers.GlobalAveragePooling1D()(inputs)
        return keras.Model(inputs, keras.layers.Dense(units)(x))

    folder = vowel_folders(tmp_path / "data")
    try:
        code, _, err = _run(
            capsys, "train", "test_fixed_model", "--data", str(folder), "--epochs", "1",
            "--output", str(tmp_path / "run"), "--quiet",
        )  # fmt: skip
    finally:
        registry.unregister("test_fixed_model")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "takes no `input_shape` or `num_classes` argument" in err
    assert not (tmp_path / "run").exists()


def test_registry_is_a_leaf():
    """registry imports only kzoo.errors; configs imports registry and not the factory."""

    def kzoo_imports(path: Path) -> set[str]:
        tree = ast.parse(path.read_text())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kzoo"):
                found |= {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("kzoo")}
        return found

    assert kzoo_imports(ROOT / "kzoo" / "registry.py") <= {
        "kzoo.errors.ConfigError",
        "kzoo.errors.did_you_mean",
    }
    assert not any("factory" in name for name in kzoo_imports(ROOT / "kzoo" / "configs.py"))


def test_import_kzoo_under_python_oo():
    """Docstrings are stripped under -OO; nothing may rewrite them at import time."""
    result = subprocess.run(
        [sys.executable, "-OO", "-c", "import kzoo; print(len(kzoo.models.list()))"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 10
