"""The project files users rely on: one version, bounded dependencies, the declared license."""

from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import kzoo

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_version_has_one_source():
    declared = _project()["version"]
    assert kzoo.__version__ == metadata.version("kzoo") == declared


def test_changelog_names_the_current_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{kzoo.__version__}]" in changelog


def _bounded(requirement: Requirement) -> tuple[bool, bool]:
    operators = {spec.operator for spec in requirement.specifier}
    pinned = bool(operators & {"==", "~="})
    return pinned or bool(operators & {">=", ">"}), pinned or bool(operators & {"<", "<="})


def test_every_direct_dependency_has_lower_and_upper_bounds():
    project = _project()
    listed = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        listed += extra
    unbounded = [text for text in listed if _bounded(Requirement(text)) != (True, True)]
    assert not unbounded, f"give these a lower and an upper bound: {unbounded}"


def test_license_file_matches_the_declared_license():
    assert _project()["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
