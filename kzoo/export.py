"""Exporting a trained run for serving: TensorFlow SavedModel, ONNX or LiteRT (TFLite).

`kzoo export RUN_DIR --format saved_model|onnx|litert` loads the run's `model.keras`
and writes the artifact through Keras's own `Model.export(filepath, format=...)`.
What each format needs beyond kzoo's own dependencies, by Keras backend (Keras 3.15):

| format        | tensorflow               | jax                       | torch             |
| ------------- | ------------------------ | ------------------------- | ----------------- |
| `saved_model` | (tensorflow)             | (tensorflow, via jax2tf)  | not supported     |
| `onnx`        | `tf2onnx`, `onnx`        | `jax2onnx`                | `onnx`, `onnxscript` |
| `litert`      | (tensorflow's converter) | not supported             | `litert-torch`    |

With `--raw-input` the artifact also holds the run's front end: SavedModel for audio
and text, LiteRT for audio (`_write_litert`), ONNX never (`ONNX_RAW_REFUSALS`).

Those packages are left out of kzoo's dependencies (tf2onnx pins old protobuf and
numpy releases); a missing one is named in the error, with the pip command.
`run_exported` runs an artifact on numpy inputs so it can be checked against Keras.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from kzoo import run_dir
from kzoo.errors import ConfigError, check_choice

# kzoo's format name -> (Keras's format name, default file name in RUN_DIR/export/).
FORMATS = {
    "saved_model": ("tf_saved_model", "saved_model"),
    "onnx": ("onnx", "model.onnx"),
    "litert": ("litert", "model.tflite"),
}

# (format, backend) -> (module, pip package) pairs Keras imports for that export.
REQUIREMENTS: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("saved_model", "tensorflow"): [("tensorflow", "tensorflow")],
    ("saved_model", "jax"): [("tensorflow", "tensorflow")],
    ("onnx", "tensorflow"): [("tf2onnx", "tf2onnx"), ("onnx", "onnx")],
    ("onnx", "jax"): [("jax2onnx", "jax2onnx")],
    ("onnx", "torch"): [("onnx", "onnx"), ("onnxscript", "onnxscript")],
    ("litert", "tensorflow"): [("tensorflow", "tensorflow")],
    ("litert", "torch"): [("litert_torch", "litert-torch")],
}


def check_requirements(format: str, backend: str | None = None) -> None:
    """Raises a `ConfigError` naming what to install when `format` cannot be written here."""
    import keras

    check_choice("format", format, FORMATS)
    backend = backend or keras.backend.backend()
    needed = REQUIREMENTS.get((format, backend))
    if needed is None:
        supported = sorted(b for f, b in REQUIREMENTS if f == format)
        raise ConfigError(
            f"Export format {format!r} is not available on the {backend} backend of Keras. "
            f"It works on: {', '.join(supported)}. Set KERAS_BACKEND to one of them and rerun."
        )
    missing = [pip for module, pip in needed if importlib.util.find_spec(module) is None]
    if missing:
        raise ConfigError(
            f"Export format {format!r} on the {backend} backend needs the package(s) "
            f"{', '.join(missing)}, which are not installed. Install them with "
            f"`pip install {' '.join(missing)}` and rerun."
        )


def default_output(run: str | Path, format: str) -> Path:
    """Where `export` writes by default: RUN_DIR/export/saved_model, model.onnx or model.tflite."""
    check_choice("format", format, FORMATS)
    return Path(run) / "export" / FORMATS[format][1]


def export(
    run: str | Path,
    format: str = "saved_model",
    output: str | Path | None = None,
    overwrite: bool = False,
    raw_input: bool = False,
) -> Path:
    """Exports the model of a run directory; returns the artifact's path.

    Args:
        run: a directory written by `kzoo train` (it must hold `model.keras`), or the
            path of a `.keras` file.
        format: `saved_model` (a directory), `onnx` (a `.onnx` file) or `litert` (a
            `.tflite` file).
        output: where to write (default: `RUN_DIR/export/<saved_model|model.onnx|model.tflite>`).
        overwrite: replace an existing artifact at `output`.

        raw_input: the artifact takes raw inputs and applies the run's front end itself:
            `serve(waveforms (n, samples) float32 zero-padded, lengths (n,) int32)` for
            audio, `serve(texts (n,) string)` for text, returning the probabilities
            `kzoo.load(run).predict` gives. `saved_model` takes every kind; `litert`
            audio (see `_write_litert` for the ops it needs); `onnx` none
            (`ONNX_RAW_REFUSALS`). `run` may then be any source `kzoo.load` reads (a
            preset needs `output`).

    The artifact is written under a temporary name and renamed into place, so a failed
    export leaves nothing behind.
    """
    check_choice("format", format, FORMATS)
    if raw_input:
        return _export_raw(run, format, output, overwrite)
    run = Path(run)
    source = run if run.suffix == ".keras" and run.is_file() else run / "model.keras"
    if not source.is_file():
        raise ConfigError(
            f"{run} is not a finished run directory: it has no model.keras. Pass a directory "
            "written by `kzoo train` (or a .keras file)."
        )
    output = Path(output) if output else default_output(source.parent, format)
    if format == "litert" and output.suffix != ".tflite":
        raise ConfigError(
            f"A LiteRT artifact is a .tflite file. Received: --output {output}. "
            f"Try {output.with_suffix('.tflite')}."
        )
    if format == "onnx" and output.suffix != ".onnx":
        raise ConfigError(
            f"An ONNX artifact is a .onnx file. Received: --output {output}. "
            f"Try {output.with_suffix('.onnx')}."
        )
    _check_target(output, format, overwrite)
    check_requirements(format)

    model = run_dir.load_model(source, compile=False)  # serving needs no optimizer
    keras_format = FORMATS[format][0]
    output.parent.mkdir(parents=True, exist_ok=True)
    with run_dir.Lock(output.parent, "export folder"):
        _check_target(output, format, overwrite)  # again, now that no other export can write
        _write(model, keras_format, format, output)
    _apply_umask(output)
    return output


def _write(model, keras_format: str, format: str, output: Path) -> None:
    if format == "saved_model":
        _write_folder(
            output, lambda staging: model.export(staging, format=keras_format, verbose=False)
        )
    else:
        # Keras's ONNX path refuses a loaded model that was never called unless it is
        # given the signature; the model's own inputs are that signature.
        inputs = model.inputs
        signature = [inputs[0] if len(inputs) == 1 else list(inputs)]
        run_dir.write_atomic(
            output,
            lambda tmp: model.export(
                tmp, format=keras_format, verbose=False, input_signature=signature
            ),
        )


def _check_target(output: Path, format: str, overwrite: bool) -> None:
    """An export writes only its own artifact: never a run directory, nor what holds one.

    Inside a run directory it writes only under `export/`; `--overwrite` replaces only an
    artifact of the same format (a SavedModel folder, a `.onnx` or `.tflite` file).
    """
    if output.parent.exists() and not output.parent.is_dir():
        raise ConfigError(
            f"--output {output}: {output.parent} is a file, not a folder. Choose an --output "
            "inside a folder."
        )
    resolved = output.resolve()
    runs = [p for p in (resolved, *resolved.parents) if run_dir.is_run(p)]
    inside_export = runs and runs[0] != resolved and (runs[0] / "export") in resolved.parents
    if runs and not inside_export:
        raise ConfigError(
            f"--output {output} would write over the run directory {runs[0]}. An export goes "
            f"outside any run, or under its export/ folder (the default: {runs[0] / 'export'})."
        )
    if output.is_dir() and any(run_dir.is_run(p.parent) for p in output.rglob("state.json")):
        raise ConfigError(
            f"--output {output} holds a run directory, which an export never replaces. "
            "Choose another --output."
        )
    if not output.exists() and not output.is_symlink():
        return
    if not overwrite:
        raise ConfigError(
            f"{output} already exists. Pass --overwrite to replace it, or choose another --output."
        )
    artifact = (
        output.is_dir() and (output / "saved_model.pb").is_file()
        if format == "saved_model"
        else output.is_file() and output.suffix == Path(FORMATS[format][1]).suffix
    )
    if not artifact:
        raise ConfigError(
            f"--overwrite replaces only an earlier {format} export, and {output} is not one. "
            "Choose another --output, or remove it yourself."
        )


# Why an ONNX artifact cannot carry each kind of front end (`--raw-input`).
ONNX_RAW_REFUSALS = {
    "audio": "tf2onnx converts TensorFlow's RFFT only when its one consumer is a "
    "magnitude (ComplexAbs), and the front end's STFT (Keras's MelSpectrogram) reads its "
    "real and imaginary parts",
    "text": "the front end's text lookup (TextVectorization) has no ONNX equivalent",
}


def _export_raw(source, format: str, output, overwrite: bool) -> Path:
    """An artifact whose endpoint is the predictor's front end followed by its model: a
    SavedModel, or a LiteRT file converted from one."""
    import keras

    from kzoo import predictor

    if format == "onnx":
        raise ConfigError(
            "--raw-input cannot write ONNX: "
            + " and ".join(f"for {k}, {why}" for k, why in ONNX_RAW_REFUSALS.items())
            + ". Use --format saved_model or litert (audio) with --raw-input, or export "
            "the model alone to ONNX (without --raw-input)."
        )
    if output is None:
        if not Path(source).is_dir():
            raise ConfigError(f"Exporting {source} with --raw-input needs --output PATH.")
        name = "saved_model_raw" if format == "saved_model" else "model_raw.tflite"
        output = Path(source) / "export" / name
    output = Path(output)
    if format == "litert" and output.suffix != ".tflite":
        raise ConfigError(
            f"A LiteRT artifact is a .tflite file. Received: --output {output}. "
            f"Try {output.with_suffix('.tflite')}."
        )
    if output.exists() and not overwrite:
        raise ConfigError(
            f"{output} already exists. Pass --overwrite to replace it, or choose another --output."
        )
    check_requirements(format)
    clf = predictor.load(source)
    if format == "litert" and clf.kind == "text":
        raise ConfigError(
            "--raw-input cannot write LiteRT for text: the front end's text lookup "
            "(TextVectorization) has no LiteRT built-in op. Use --format saved_model."
        )
    serve, signature, track = clf.serving_endpoint()
    archive = keras.export.ExportArchive()
    for trackable in track:
        archive.track(trackable)
    archive.add_endpoint(name="serve", fn=serve, input_signature=signature)
    output.parent.mkdir(parents=True, exist_ok=True)
    if format == "litert":
        run_dir.write_atomic(output, lambda tmp: _write_litert(archive, Path(tmp)))
        _apply_umask(output)
        return output
    _write_folder(output, lambda staging: archive.write_out(staging, verbose=False))
    _apply_umask(output)
    return output


def _write_folder(output: Path, write) -> None:
    """`write(folder)` into a staging folder beside `output`, which then replaces `output`:
    a failed export leaves the earlier artifact, never half of a new one."""
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-", dir=output.parent))
    try:
        write(str(staging))
        if output.exists():
            shutil.rmtree(output) if output.is_dir() else output.unlink()
        os.replace(staging, output)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _write_litert(archive, path: Path) -> None:
    """Converts an export archive to a .tflite file with the settings of Keras's own
    LiteRT export: built-in ops wherever they exist, TensorFlow (Flex) ops elsewhere.

    The audio front end (STFT, log-mel, MFCC, normalization, cropping) is all built-in
    ops; silence trimming (float64 levels, one utterance at a time) and recurrent layers
    over inputs of any length are not, and need a LiteRT runtime with the Flex delegate.
    """
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="kzoo-litert-") as saved:
        archive.write_out(saved, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS,
            tf.lite.OpsSet.SELECT_TF_OPS,
        ]
        converter.experimental_enable_resource_variables = True
        path.write_bytes(converter.convert())


def _apply_umask(path: Path) -> None:
    """Temporary files are private (0600); the artifact gets the usual permissions."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def run_exported(path: str | Path, format: str, inputs: Any) -> np.ndarray:
    """Runs an exported artifact on numpy `inputs` and returns its output.

    `inputs` is one array, or a mapping of input names to arrays (a `--raw-input`
    artifact's `waveforms` and `lengths`, or `texts`). `saved_model` needs TensorFlow;
    `onnx` needs `onnxruntime`; `litert` uses `ai_edge_litert` when installed, else
    TensorFlow's `tf.lite.Interpreter`. A missing runtime raises a `ConfigError` naming
    the package.
    """
    check_choice("format", format, FORMATS)
    named = dict(inputs) if isinstance(inputs, Mapping) else None
    inputs = {k: np.asarray(v) for k, v in named.items()} if named else np.asarray(inputs)
    if format == "saved_model":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))
        serve = loaded.signatures["serving_default"]
        if named is None:
            (name,) = serve.structured_input_signature[1]
            inputs = {name: inputs}
        outputs = serve(**{k: tf.constant(v) for k, v in inputs.items()})
        return np.asarray(next(iter(outputs.values())))
    if format == "onnx":
        if importlib.util.find_spec("onnxruntime") is None:
            raise ConfigError(
                "Running an ONNX artifact needs onnxruntime: `pip install onnxruntime`."
            )
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feed = inputs if named else {session.get_inputs()[0].name: inputs}
        return np.asarray(session.run(None, feed)[0])
    return _run_litert(Path(path), inputs)


def _run_litert(path: Path, inputs) -> np.ndarray:
    if importlib.util.find_spec("ai_edge_litert") is not None:
        from ai_edge_litert.interpreter import Interpreter
    else:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    with warnings.catch_warnings():
        # tf.lite.Interpreter warns that it moves to ai_edge_litert; it still works.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        interpreter = Interpreter(model_path=str(path))
    if isinstance(inputs, dict):  # named inputs: the artifact's serving signature
        outputs = interpreter.get_signature_runner("serving_default")(**inputs)
        return np.asarray(next(iter(outputs.values())))
    detail = interpreter.get_input_details()[0]
    if tuple(detail["shape"]) != inputs.shape:
        interpreter.resize_tensor_input(detail["index"], inputs.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], inputs.astype(detail["dtype"]))
    interpreter.invoke()
    return np.asarray(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))


__all__ = [
    "FORMATS",
    "REQUIREMENTS",
    "check_requirements",
    "default_output",
    "export",
    "run_exported",
]
