"""Presets: a trained model with what prediction needs, as a directory anyone can load.

```
PRESET/
  manifest.json        name, model, args, labels, front end, reference result and the
                       command that produced it, versions, license, sha256 of the weights,
                       format_version
  model.weights.h5     the weights of `kzoo.models.get(model, **args)`
  README.md            the card (optional): what it does, measured result, data, license
```
A preset may also be a `.zip` or `.tar.gz` of such a directory, or a URL of one
(`kzoo.load`). A run directory written by `kzoo train` is read as a preset too: its
`frontend.json` (written by `record_run`) holds the labels, front end and versions.
`opened(source)` reads any of them; `kzoo.load` and `kzoo.models.get(name, preset=...)`
build on it.

The presets shipped with kzoo live beside this file, one folder each; `list()` names
them and `card(name)` prints one.

>>> import kzoo
>>> "vowels" in kzoo.presets.list()
True
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kzoo import configs, run_dir
from kzoo.errors import ConfigError, did_you_mean

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
WEIGHTS = "model.weights.h5"
CARD = "README.md"
RUN_RECORD = "frontend.json"  # in a run directory: labels, front end, versions
ARCHIVES = (".zip", ".tar.gz", ".tgz")
URL_SCHEMES = ("http://", "https://", "file://")
# A run directory's models, preferred first: the best epoch's (train.callbacks:
# model_checkpoint) is the run's result when it is kept.
RUN_MODELS = ("best.keras", "model.keras")
SHIPPED = Path(__file__).resolve().parent


def versions() -> dict[str, str]:
    """The versions that wrote a run or preset: kzoo, Keras and its backend."""
    import keras

    from kzoo import __version__

    return {"kzoo": __version__, "keras": keras.__version__, "backend": keras.backend.backend()}


def record_run(output: str | Path, dataset) -> None:
    """Writes RUN/frontend.json: the class names in label order, the front end, the versions.

    `dataset` is the `kzoo.data.Dataset` the run trains on; prediction rebuilds the
    same front end from this file (`kzoo.data.Frontend.from_config`).
    """
    frontend = dataset.frontend.get_config() if dataset.frontend is not None else None
    record = {
        "format_version": FORMAT_VERSION,
        "labels": [str(name) for name in dataset.class_names],
        "frontend": frontend,
        "versions": versions(),
    }
    run_dir.write_json(Path(output) / RUN_RECORD, record)


def read_run_record(run: str | Path) -> dict[str, Any] | None:
    """RUN/frontend.json (`record_run`), or None for a run written before kzoo recorded it."""
    path = Path(run) / RUN_RECORD
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"Cannot read {path}: {error}. The run directory is damaged.") from None


def list() -> builtins.list[str]:  # noqa: A001 - mirrors kzoo.models.list
    """Sorted names of the presets shipped with kzoo (`kzoo.load(NAME)`)."""
    return sorted(p.name for p in SHIPPED.iterdir() if (p / MANIFEST).is_file())


def recipes() -> builtins.list[str]:
    """Presets shipped as a card and a command only (no weights), built locally."""
    return sorted(
        p.name for p in SHIPPED.iterdir() if (p / CARD).is_file() and not (p / MANIFEST).exists()
    )


def shipped(name: str) -> Path:
    """The directory of the shipped preset `name`; unknown names get close matches."""
    if name in recipes():
        raise ConfigError(
            f"Preset {name!r} ships without weights, as a recipe: build it locally with the "
            f"commands of its card (`kzoo.presets.card({name!r})`), then load the directory "
            "it writes."
        )
    if name not in list():
        raise ConfigError(
            f"Unknown preset {name!r}. {did_you_mean(name, list())} Run `kzoo list --presets` "
            "to see the shipped presets, or pass a run directory, a preset directory or "
            "archive, or a URL."
        )
    return SHIPPED / name


def card(name: str) -> str:
    """The card of a shipped preset or recipe: its README.md, or the manifest's summary."""
    directory = SHIPPED / name if name in recipes() else shipped(name)
    if (directory / CARD).is_file():
        return (directory / CARD).read_text()
    manifest = read_manifest(directory)
    return f"{name}: {manifest.get('description', '')}"


def describe(pattern: str = "*") -> str:
    """What `kzoo list --presets` prints: each shipped preset, its model and license."""
    import fnmatch

    lines = ["Presets (kzoo.load(NAME), kzoo predict NAME FILES...):"]
    names = [n for n in list() if fnmatch.fnmatchcase(n, pattern)]
    width = max((len(n) for n in names), default=0)
    for name in names:
        manifest = json.loads((SHIPPED / name / MANIFEST).read_text())
        lines.append(
            f"  {name.ljust(width)}  {manifest['model']}, {len(manifest['labels'])} classes, "
            f"{manifest.get('license', 'no license given')}: {manifest.get('description', '')}"
        )
    built = [n for n in recipes() if fnmatch.fnmatchcase(n, pattern)]
    if built:
        lines.append("Recipes (no weights shipped; kzoo.presets.card(NAME) says how to build):")
        lines += [f"  {name}" for name in built]
    return "\n".join(lines)


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The checked manifest of a preset directory (the weights' checksum included)."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise ConfigError(
            f"{directory} is not a preset: it has no {MANIFEST}. Pass a preset directory (or "
            "archive) written by `Predictor.save`, a run directory or a shipped preset name."
        )
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"Cannot read {path}: {error}. The preset is damaged.") from None
    missing = [
        k for k in ("format_version", "model", "args", "labels", "weights") if k not in manifest
    ]
    if missing:
        raise ConfigError(f"{path} lacks the key(s) {', '.join(missing)}. The preset is damaged.")
    version = manifest["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ConfigError(
            f"{directory} is a preset of format version {version!r}; this kzoo reads versions "
            f"up to {FORMAT_VERSION}. Upgrade kzoo (`pip install -U kzoo`) to load it."
        )
    weights = manifest["weights"]
    file = directory / weights.get("file", WEIGHTS)
    if not file.is_file():
        raise ConfigError(
            f"Preset {directory} is missing its weights file {file.name}. Copy the whole "
            "preset directory (or archive) again."
        )
    found = sha256(file)
    if found != weights.get("sha256"):
        raise ConfigError(
            f"The weights of preset {directory} do not match its manifest (sha256 "
            f"{found[:12]}..., expected {str(weights.get('sha256'))[:12]}...): the file is "
            "corrupted or was changed. Download or copy the preset again."
        )
    return manifest


def write(directory: str | Path, manifest: dict[str, Any], model, card: str | None = None) -> Path:
    """Writes a preset directory: `model`'s weights, the manifest (with their sha256), a card."""
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ConfigError(
            f"Cannot save a preset to {directory}: it exists and is not an empty directory. "
            "Choose a new directory."
        )
    directory.mkdir(parents=True, exist_ok=True)
    run_dir.write_atomic(directory / WEIGHTS, model.save_weights)
    manifest = {
        **manifest,
        "format_version": FORMAT_VERSION,
        "weights": {"file": WEIGHTS, "sha256": sha256(directory / WEIGHTS)},
    }
    manifest.setdefault("versions", versions())
    run_dir.write_json(directory / MANIFEST, manifest)
    if card:
        run_dir.write_text(directory / CARD, card)
    return directory


def is_archive(path: str | Path) -> bool:
    return str(path).lower().endswith(ARCHIVES)


def extract(archive: str | Path, into: str | Path) -> Path:
    """Unpacks a preset archive into `into`; returns the directory holding its manifest."""
    archive, into = Path(archive), Path(into)
    if not archive.is_file():
        raise ConfigError(f"Preset archive {archive} does not exist.")
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                for member in z.namelist():
                    _check_member(archive, member)
                z.extractall(into)
        else:
            with tarfile.open(archive, "r:gz") as t:
                for member in t.getmembers():
                    _check_member(archive, member.name)
                    if not (member.isfile() or member.isdir()):
                        raise ConfigError(f"Preset archive {archive} holds a link ({member.name}).")
                t.extractall(into)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise ConfigError(f"Cannot unpack preset archive {archive}: {error}.") from None
    found = sorted(p.parent for p in into.rglob(MANIFEST))
    if not found:
        raise ConfigError(f"Preset archive {archive} holds no {MANIFEST}: it is not a preset.")
    return min(found, key=lambda p: len(p.parts))


def _check_member(archive: Path, name: str) -> None:
    if name.startswith("/") or ".." in Path(name).parts:
        raise ConfigError(f"Preset archive {archive} holds a path outside itself ({name}).")


def archive(directory: str | Path, output: str | Path) -> Path:
    """Packs a preset directory as `output` (.zip or .tar.gz), the folder named after it."""
    directory, output = Path(directory), Path(output)
    read_manifest(directory)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / output.name.split(".")[0]
        fmt = "zip" if output.name.lower().endswith(".zip") else "gztar"
        made = shutil.make_archive(str(base), fmt, directory.parent, directory.name)
        shutil.move(made, output)
    return output


@contextlib.contextmanager
def opened(
    source: str | Path, sha256: str | None = None, cache_dir: str | None = None
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """`(directory, manifest)` of any preset source, checked; archives unpacked meanwhile.

    A run directory's manifest is made from its config.yaml and frontend.json, its
    weights file being the run's model (`RUN_MODELS`).
    """
    text = str(source)
    with tempfile.TemporaryDirectory(prefix="kzoo-preset-") as tmp:
        if text.startswith(URL_SCHEMES):
            path = Path(_download(text, sha256, cache_dir))
        else:
            path = Path(text).expanduser()
            if not path.exists():
                if os.sep in text or "/" in text or is_archive(text):
                    raise ConfigError(
                        f"Preset or run directory {text} does not exist. Pass a run directory, "
                        "a preset directory or archive, a URL, or a shipped preset name "
                        "(`kzoo list --presets`)."
                    )
                path = shipped(text)
        if path.is_file():
            if not is_archive(path):
                raise ConfigError(
                    f"{path} is a file but not a preset archive: expected a directory, or a "
                    f"file ending in {', '.join(ARCHIVES)}."
                )
            path = extract(path, tmp)
        if (path / MANIFEST).exists() or not (path / "config.yaml").exists():
            yield path, read_manifest(path)
        else:
            yield path, _run_manifest(path)


def _download(url: str, sha256: str | None, cache_dir: str | None) -> str:
    import keras

    name = url.rstrip("/").rsplit("/", 1)[-1]
    if not is_archive(name):
        raise ConfigError(f"A preset URL must name a .zip or .tar.gz archive. Received: {url!r}.")
    try:
        # Keras reports the download on stdout; stdout is for predictions (`--json`).
        with contextlib.redirect_stdout(sys.stderr):
            return keras.utils.get_file(
                fname=name,
                origin=url,
                file_hash=sha256,
                hash_algorithm="sha256",
                cache_dir=cache_dir,
                cache_subdir="kzoo_presets",
            )
    except ValueError as error:  # Keras: the downloaded file's hash does not match
        raise ConfigError(
            f"The preset downloaded from {url} does not match the sha256 given ({error}). "
            "The file is corrupted or was changed."
        ) from None
    except Exception as error:  # urllib's errors on a missing file or an unreachable host
        raise ConfigError(f"Cannot download the preset {url}: {error}.") from None


def _run_manifest(run: Path) -> dict[str, Any]:
    """A run directory read as a preset: model and args from config.yaml, the rest recorded."""
    model_file = next((run / name for name in RUN_MODELS if (run / name).is_file()), None)
    if model_file is None:
        raise ConfigError(
            f"{run} is not a finished run directory: it has no model.keras (training has not "
            "finished, or was killed before its end). Finish it with `kzoo train --resume "
            f"--output {run}`, or pass another run."
        )
    record = read_run_record(run)
    if record is None:
        raise ConfigError(
            f"{run} does not record its labels and front end ({RUN_RECORD}): it was "
            "written by an older kzoo. Train it again to predict with it."
        )
    config = configs.load(run / "config.yaml")
    return {
        "name": run.name,
        "description": config.get("description") or "",
        "model": config["model"],
        "args": config["args"],
        "labels": record["labels"],
        "frontend": record["frontend"],
        "versions": record.get("versions", {}),
        "reference": _run_reference(run, config),
        "weights": {"file": model_file.name},
        "format_version": record.get("format_version", FORMAT_VERSION),
    }


def _run_reference(run: Path, config: dict[str, Any]) -> dict[str, Any]:
    metrics_path = run / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    return {"test": metrics.get("test"), "data": config["data"].get("source")}


__all__ = [
    "FORMAT_VERSION",
    "archive",
    "card",
    "describe",
    "extract",
    "list",
    "opened",
    "read_manifest",
    "read_run_record",
    "recipes",
    "record_run",
    "write",
]
