"""`kzoo export`: each artifact runs and gives the Keras model's outputs."""

import importlib.util
import os
import stat

import keras
import numpy as np
import pytest

from kzoo import cli, configs, export, training
from tests.helpers import tiny_config, vowel_folders

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="export is checked on the TensorFlow backend (SavedModel and LiteRT go through TF)",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    folder = vowel_folders(root / "data")
    config = configs.load(tiny_config(root / "c.yaml"))
    training.train(config, source=str(folder), output=root / "run", verbose=0)
    return root / "run"


def _inputs(model, batch=3):
    shape = tuple(batch if d is None else d for d in (None, *model.input_shape[1:]))
    return np.random.default_rng(0).normal(size=shape).astype("float32")


def _cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("format", ["saved_model", "litert", "onnx"])
def test_export_matches_keras(capsys, tmp_path, run, format):
    model = keras.saving.load_model(run / "model.keras")
    x = _inputs(model)
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    suffix = {"saved_model": "", "onnx": ".onnx", "litert": ".tflite"}[format]
    path = tmp_path / f"artifact{suffix}"
    try:
        export.check_requirements(format)
    except ValueError as error:
        code, _, err = _cli(capsys, "export", str(run), "--format", format, "--output", str(path))
        assert code == 2 and "pip install" in err and err.count("\n") == 1, err
        assert not path.exists() and not list(tmp_path.iterdir())
        pytest.skip(f"{format} export unavailable here: {error}")
    code, out, err = _cli(capsys, "export", str(run), "--format", format, "--output", str(path))
    assert code == 0, err
    assert f"Exported {format} to {path}" in out
    assert not list(tmp_path.glob(".*"))  # no temporary left behind
    if format == "onnx" and importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime is not installed: the .onnx file was written but not run")
    outputs = export.run_exported(path, format, x)
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


def test_default_output_and_permissions(run):
    path = export.export(run, "litert")
    assert path == run / "export" / "model.tflite"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not mkstemp's private 0600
    with pytest.raises(ValueError, match="already exists.*--overwrite"):
        export.export(run, "litert")
    assert export.export(run, "litert", overwrite=True) == path
    path = export.export(run, "saved_model", overwrite=True)
    assert (path / "saved_model.pb").is_file()
    assert not list((run / "export").glob(".*"))


def test_export_errors(capsys, tmp_path, run):
    code, _, err = _cli(capsys, "export", str(tmp_path))
    assert code == 2 and "not a finished run directory" in err
    with pytest.raises(ValueError, match="is a .tflite file.*Try"):
        export.export(run, "litert", tmp_path / "model.bin")
    with pytest.raises(ValueError, match="is a .onnx file"):
        export.export(run, "onnx", tmp_path / "model.bin")
    with pytest.raises(ValueError, match="`format` must be one of.*Did you mean 'onnx'"):
        export.export(run, "onnnx")
    with pytest.raises(ValueError, match="not available on the jax backend.*tensorflow"):
        export.check_requirements("litert", backend="jax")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", str(run), "--format", "tflite"])
    assert exit_info.value.code == 2
    assert not list(tmp_path.iterdir())


def test_missing_package_is_named(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("tf2onnx", "onnx") else real(name, *a),
    )
    with pytest.raises(ValueError, match=r"needs the package\(s\) tf2onnx, onnx.*pip install"):
        export.check_requirements("onnx", backend="tensorflow")
