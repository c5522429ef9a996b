"""The presets shipped with kzoo: each loads in a fresh process and predicts its stored inputs."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import kzoo
from kzoo import predictor, presets
from kzoo.models import factory

GOLDEN = Path(__file__).resolve().parent / "golden" / "presets"
FSDD = Path(__file__).resolve().parents[2] / "shared" / "data" / "fsdd" / "recordings"
SHIPPED = presets.list()

# Run in a fresh interpreter, so nothing this test process built or registered helps.
PREDICT = """
import json, sys
from pathlib import Path
import kzoo
files = [Path(f) for f in sys.argv[2:]]
clf = kzoo.load(sys.argv[1])
print(json.dumps({f.name: p.tolist() for f, p in zip(files, clf.probabilities(files))}))
"""


def test_the_shipped_presets():
    assert SHIPPED == ["fsdd_digits", "vowels"]
    assert presets.recipes() == ["imdb_sentiment"]  # the reviews carry no license


def test_a_recipe_has_a_card_and_loading_it_says_how_to_build_it():
    card = presets.card("imdb_sentiment")
    assert "Maas" in card and "kzoo train text_classifier" in card
    with pytest.raises(ValueError, match="ships without weights, as a recipe"):
        kzoo.load("imdb_sentiment")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_predicts_its_stored_inputs_in_a_fresh_process(name):
    folder = GOLDEN / name
    assert (folder / "expected.json").is_file(), (
        f"Preset {name} has no stored inputs: run tests/golden/make_presets.py {name}."
    )
    expected = json.loads((folder / "expected.json").read_text())
    # FSDD's recordings are not the project's to ship: its inputs are read from the shared
    # copy of the data set, where this checkout has one.
    inputs = FSDD if name == "fsdd_digits" else folder
    files = [inputs / file for file in sorted(expected)]
    if not all(f.is_file() for f in files):
        pytest.skip(f"{inputs} does not hold the stored inputs of preset {name}")
    done = subprocess.run(
        [sys.executable, "-c", PREDICT, name, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(found) == sorted(expected)
    labels = json.loads((presets.SHIPPED / name / "manifest.json").read_text())["labels"]
    for file, want in expected.items():
        np.testing.assert_allclose(found[file], want["probabilities"], atol=1e-4, err_msg=file)
        assert labels[int(np.argmax(found[file]))] == want["label"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_has_a_card_license_and_reproducible_result(name):
    manifest = presets.read_manifest(presets.SHIPPED / name)  # checks the weights' sha256
    assert manifest["name"] == name
    assert manifest["license"] in ("Apache-2.0", "CC-BY-SA-4.0")
    assert manifest["reference"]["result"] and manifest["reference"]["command"]
    card = presets.card(name)
    assert "License" in card and manifest["license"] in card
    assert "Result" in card and "Command" in card and "Data" in card
    size = sum(p.stat().st_size for p in (presets.SHIPPED / name).iterdir())
    assert size < 5 * 2**20, f"preset {name} is {size / 2**20:.1f} MB; the wheel keeps them small"


def test_models_get_loads_a_shipped_preset_by_name():
    clf = kzoo.load("vowels")
    model = kzoo.models.get("cnn_mlp_rnn", preset="vowels", compile=False)
    x = np.random.default_rng(0).normal(size=(2, 31, 40)).astype("float32")
    np.testing.assert_allclose(
        model.predict(x, verbose=0), clf.model.predict(x, verbose=0), atol=1e-6
    )


def _kzoo_imports(module) -> set[str]:
    """Every kzoo module `module` imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kzoo"):
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("kzoo")}
    return found


def test_arrows_run_one_way_predictor_factory_presets():
    """DESIGN.md's layers: the predictor uses the factory and presets, the factory uses
    presets (`get(name, preset=...)`), and presets use neither."""
    assert "kzoo.presets" in _kzoo_imports(factory)
    assert {"kzoo.presets", "kzoo.models.factory"} <= _kzoo_imports(predictor)
    upward = {n for n in _kzoo_imports(presets) if "predictor" in n or "models" in n}
    assert not upward
    assert not {n for n in _kzoo_imports(factory) if "predictor" in n}


def test_card_of_an_unknown_preset():
    with pytest.raises(ValueError, match="Unknown preset 'vowls'. Did you mean 'vowels'"):
        presets.card("vowls")


def test_wheel_ships_every_preset(tmp_path):
    pytest.importorskip("hatchling")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    root = Path(__file__).resolve().parents[1]
    subprocess.run([*command, "-q", "-w", str(tmp_path), "."], check=True, cwd=root)
    (wheel,) = tmp_path.glob("kzoo-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SHIPPED:
        for file in ("manifest.json", "model.weights.h5", "README.md"):
            assert f"kzoo/presets/{name}/{file}" in names
    for name in presets.recipes():
        assert f"kzoo/presets/{name}/README.md" in names
