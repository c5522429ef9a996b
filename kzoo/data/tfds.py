"""TensorFlow Datasets sources: `tfds:NAME[:split]`, e.g. `tfds:spoken_digit:train`.

`data_dir` points at a prepared copy (`tfds build`, or a copy made elsewhere) so
nothing is downloaded; without it TFDS's default directory is used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kzoo.data.examples import Examples
from kzoo.errors import ConfigError


def load(name: str, split: str = "train", data_dir: str | Path | None = None) -> Examples:
    """Reads a supervised TFDS data set (audio, image or text) into memory."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:  # pragma: no cover - it is a dependency
        raise ConfigError(f"tfds sources need tensorflow-datasets: {error}.") from None
    try:
        builder = tfds.builder(name, data_dir=str(data_dir) if data_dir else None)
    except Exception as error:  # noqa: BLE001 - TFDS raises its own types for unknown names
        raise ConfigError(f"Unknown TFDS data set {name!r}: {str(error).splitlines()[0]}") from None
    if not builder.info.splits or split.split("[")[0] not in builder.info.splits:
        where = f" in {data_dir}" if data_dir else ""
        available = sorted(builder.info.splits) if builder.info.splits else []
        raise ConfigError(
            f"TFDS data set {name!r} has no prepared split {split!r}{where}. Available: "
            f"{available or 'none (prepare it with `tfds build`, then pass --data-dir)'}."
        )
    keys = builder.info.supervised_keys
    if not keys:
        raise ConfigError(f"TFDS data set {name!r} has no supervised (input, label) keys.")
    input_key, label_key = keys[0], keys[1]
    feature = builder.info.features[input_key]
    label_feature = builder.info.features[label_key]
    dataset = builder.as_dataset(split=split, as_supervised=True, shuffle_files=False)
    inputs, labels = [], []
    for x, y in tfds.as_numpy(dataset):
        inputs.append(x)
        labels.append(int(y))
    kind, rate = _kind(feature)
    if kind == "audio":
        inputs = [np.asarray(x, "float32").reshape(-1) / _pcm_scale(x) for x in inputs]
    elif kind == "text":
        inputs = [x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x) for x in inputs]
    else:
        inputs = np.stack(inputs).astype("float32") / 255.0
    names = list(getattr(label_feature, "names", None) or range(label_feature.num_classes))
    return Examples(kind, inputs, np.array(labels, "int32"), [str(n) for n in names], rate)


def _pcm_scale(samples: np.ndarray) -> float:
    """Full scale of integer PCM samples: 16-bit unless they need more. TFDS stores
    16-bit audio (spoken_digit) as int64, whose own range would shrink it to ~1e-15."""
    if not np.issubdtype(samples.dtype, np.integer):
        return 1.0
    peak = int(np.abs(samples).max(initial=0))
    for bits in (16, 24, 32):
        if peak <= 2 ** (bits - 1):
            return float(2 ** (bits - 1))
    return float(np.iinfo(samples.dtype).max) + 1.0


def _kind(feature) -> tuple[str, int | None]:
    kind = type(feature).__name__
    if kind == "Audio":
        return "audio", int(feature.sample_rate) if feature.sample_rate else None
    if kind == "Image":
        return "image", None
    if kind == "Text":
        return "text", None
    raise ConfigError(
        f"TFDS input feature of type {kind} is not supported; expected Audio, Image or Text."
    )
