"""Which registered models export to which formats, each artifact checked against Keras.

    KERAS_BACKEND=tensorflow python -m benchmarks.export_formats [--models mlp,cnn] [--output table.md]

For every model of `kzoo.models.list()` (built with its zoo config's defaults) and
every format of `kzoo.export.FORMATS`, the model is saved as `.keras`, exported with
`kzoo.export.export`, run with `kzoo.export.run_exported` on a random batch (unknown
lengths set to 16) and compared with the Keras model's output. A cell reads
`ok (max |diff| ...)`, the error's first words, or what is missing to try it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kzoo  # noqa: E402
from kzoo import export  # noqa: E402


def _batch(model: keras.Model, batch: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = []
    for tensor in model.inputs:
        shape = (batch, *(16 if d is None else d for d in tensor.shape[1:]))
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(1, 10, size=shape).astype(str(tensor.dtype)))
        else:
            arrays.append(rng.standard_normal(shape).astype("float32"))
    return arrays


def _cell(model_path: Path, format: str, inputs: list[np.ndarray], expected, work: Path) -> str:
    try:
        export.check_requirements(format)
    except ValueError as error:
        needed = export.REQUIREMENTS.get((format, keras.backend.backend()), [])
        missing = [pip for module, pip in needed if importlib.util.find_spec(module) is None]
        return f"not tried: needs `pip install {' '.join(missing)}`" if missing else _short(error)
    suffix = {"saved_model": "", "onnx": ".onnx", "litert": ".tflite"}[format]
    try:
        path = export.export(model_path, format, work / f"{format}{suffix}", overwrite=True)
    except Exception as error:  # a table of what fails is the point
        return f"export fails: {type(error).__name__}: {_short(error)}"
    if len(inputs) != 1:
        return "exported; not run (several inputs)"
    try:
        outputs = export.run_exported(path, format, inputs[0])
    except Exception as error:
        if "Select TensorFlow op" in str(error):  # tf.lite.Interpreter has no Flex delegate
            return "exported; not run: uses Select TF ops (needs the Flex delegate)"
        return f"runs fail: {type(error).__name__}: {_short(error)}"
    diff = float(np.max(np.abs(outputs - expected)))
    return f"ok (max abs diff {diff:.1e})" if diff < 1e-3 else f"WRONG (max abs diff {diff:.1e})"


def _short(error: Exception, words: int = 14) -> str:
    text = " ".join(str(error).split())
    return " ".join(text.split()[:words]) + ("..." if len(text.split()) > words else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated names (default: every registered model)")
    parser.add_argument("--output", help="also write the markdown table here")
    args = parser.parse_args(argv)
    names = args.models.split(",") if args.models else kzoo.models.list()
    formats = list(export.FORMATS)
    lines = [
        f"Backend: {keras.backend.backend()}, Keras {keras.__version__}.",
        "",
        "| model | " + " | ".join(formats) + " |",
        "| --- | " + " | ".join("---" for _ in formats) + " |",
    ]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory() as root:
        for name in names:
            started = time.perf_counter()
            work = Path(root) / name
            work.mkdir()
            model = kzoo.models.get(name)
            inputs = _batch(model)
            expected = keras.tree.flatten(model(inputs[0] if len(inputs) == 1 else inputs))[0]
            expected = keras.ops.convert_to_numpy(expected)
            model.save(work / "model.keras")
            cells = [_cell(work / "model.keras", f, inputs, expected, work) for f in formats]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
            print(lines[-1], f"<!-- {time.perf_counter() - started:.0f} s -->", flush=True)
            keras.backend.clear_session()
    if args.output:
        Path(args.output).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
