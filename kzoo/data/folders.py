"""Directories of class sub-folders (Keras's `*_dataset_from_directory` layout).

```
DIR/
  class_a/  a1.wav a2.wav ...      audio: 16-bit PCM .wav
  class_b/  b1.png ...             images: .png .jpg .jpeg .bmp .gif
  class_c/  c1.txt ...             text: .txt
```
The kind of data is read off the file extensions; one directory holds one kind.
"""

from __future__ import annotations

import re
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kzoo.data.examples import Examples
from kzoo.errors import ConfigError

AUDIO = (".wav",)
IMAGE = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
TEXT = (".txt",)


def load(
    directory: str | Path,
    sample_rate: int | None = None,
    test_pattern: str | None = None,
    image_size: tuple[int, int] = (64, 64),
) -> Examples:
    """Lists a class-folder directory; images and text are read into memory, audio is not.

    Audio files are only listed, and their headers checked (sample rate, sample width,
    a length), so a bad file is named before anything else happens; `inputs` is then a
    `WavFiles` sequence that reads a file when it is indexed, and the data pipeline
    decodes them in parallel, never all at once.

    Args:
        directory: the root; each sub-folder is a class, sorted by name.
        sample_rate: the rate every .wav must have (Hz); None accepts the first file's.
        test_pattern: a regular expression; files whose name matches it form the test
            split (e.g. `r"_[0-4]\\.wav$"` for FSDD's customary split).
    """
    root = Path(directory).expanduser()
    if not root.exists():
        raise ConfigError(
            f"Data directory {root} does not exist. Pass a directory with one sub-folder per "
            "class, `vowels`, or `tfds:NAME[:split]`."
        )
    if not root.is_dir():
        raise ConfigError(
            f"Data source {root} is a file; pass a directory with one sub-folder per class."
        )
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise ConfigError(
            f"Data directory {root} has no class sub-folders. Put each class's files in a "
            f"sub-folder named after the class ({root}/yes/*.wav, {root}/no/*.wav, ...)."
        )
    files, labels = [], []
    for index, name in enumerate(classes):
        for path in sorted((root / name).iterdir()):
            if path.is_file() and not path.name.startswith("."):
                files.append(path)
                labels.append(index)
    if not files:
        raise ConfigError(
            f"Data directory {root} has class sub-folders but no files in them: the data set is empty."
        )
    empty = [name for index, name in enumerate(classes) if index not in set(labels)]
    if empty:
        raise ConfigError(
            f"Class folder {root / empty[0]} holds no files, so its class could never be "
            "learned. Add its files, or remove the folder."
        )
    kind = _kind(root, files)
    pattern = _compile(test_pattern)
    test_mask = np.array([bool(pattern.search(p.name)) for p in files]) if pattern else None
    if kind == "audio":
        rate, inputs = _scan_audio(files, sample_rate)
    elif kind == "image":
        rate, inputs = None, _read_images(files, image_size)
    else:
        rate, inputs = None, [p.read_text(errors="replace") for p in files]
    return Examples(
        kind=kind,
        inputs=inputs,
        labels=np.array(labels, "int32"),
        class_names=classes,
        sample_rate=rate,
        test_mask=test_mask,
        names=[f"{p.parent.name}/{p.name}" for p in files],
    )


def _kind(root: Path, files: list[Path]) -> str:
    suffixes = {p.suffix.lower() for p in files}
    for kind, known in (("audio", AUDIO), ("image", IMAGE), ("text", TEXT)):
        if suffixes <= set(known):
            return kind
    bad = sorted(suffixes - set(AUDIO + IMAGE + TEXT)) or sorted(suffixes)
    example = next(p for p in files if p.suffix.lower() in bad)
    raise ConfigError(
        f"Data directory {root} mixes or holds unsupported files (e.g. {example}). Expected "
        f"only audio {AUDIO}, only images {IMAGE} or only text {TEXT}. Received extensions: "
        f"{sorted(suffixes)}."
    )


def _compile(pattern: str | None):
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ConfigError(
            f"`data.test_pattern` {pattern!r} is not a valid regular expression: {error}."
        ) from None


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    """(sample rate, mono float32 waveform in [-1, 1]) of a PCM .wav file."""
    try:
        with wave.open(str(path), "rb") as f:
            rate, width, channels = f.getframerate(), f.getsampwidth(), f.getnchannels()
            frames = f.readframes(f.getnframes())
    except (wave.Error, EOFError, OSError) as error:
        raise ConfigError(
            f"Cannot read audio file {path}: {error}. Is it a valid PCM .wav file?"
        ) from None
    _check_header(path, rate, width)
    dtype, offset, scale = _DTYPES[width]
    usable = len(frames) // (width * channels) * width * channels
    samples = (np.frombuffer(frames[:usable], dtype).astype("float32") - offset) / scale
    if samples.size == 0:
        raise ConfigError(f"Audio file {path} holds no samples (empty or truncated).")
    return rate, samples.reshape(-1, channels).mean(axis=1)


# sample width in bytes -> (dtype, offset, scale) of PCM samples
_DTYPES = {1: ("uint8", 128.0, 128.0), 2: ("<i2", 0.0, 32768.0), 4: ("<i4", 0.0, 2.0**31)}


def _check_header(path: Path, rate: int, width: int) -> None:
    if width not in _DTYPES:
        raise ConfigError(
            f"Audio file {path} has {8 * width}-bit samples; expected 8, 16 or 32-bit PCM."
        )
    if not 1 <= rate <= 1_000_000:
        raise ConfigError(
            f"Audio file {path} claims a sample rate of {rate} Hz; expected a rate between "
            "1 Hz and 1 MHz (e.g. 8000 or 16000). Its header is damaged: re-encode the file."
        )


class WavFiles(Sequence):
    """The waveforms of a list of .wav files, read one at a time when indexed."""

    def __init__(self, paths: list[Path], num_samples: np.ndarray):
        self.paths = [Path(p) for p in paths]
        self.num_samples = np.asarray(num_samples, "int64")  # from the headers

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return read_wav(self.paths[index])[1]


def _header(path: Path) -> tuple[int, int, int]:
    """(sample rate, channels, samples) from a .wav header, checked as `read_wav` would."""
    try:
        with wave.open(str(path), "rb") as f:
            rate, width = f.getframerate(), f.getsampwidth()
            channels, count = f.getnchannels(), f.getnframes()
    except (wave.Error, EOFError, OSError) as error:
        raise ConfigError(
            f"Cannot read audio file {path}: {error}. Is it a valid PCM .wav file?"
        ) from None
    _check_header(path, rate, width)
    if count == 0:
        raise ConfigError(f"Audio file {path} holds no samples (empty or truncated).")
    return rate, channels, count


def _scan_audio(files: list[Path], sample_rate: int | None):
    counts = np.zeros(len(files), "int64")
    layout = None
    for i, path in enumerate(files):
        rate, channels, counts[i] = _header(path)
        layout = layout or (channels, path)
        if channels != layout[0]:
            raise ConfigError(
                f"Audio file {path} has {channels} channel(s) but {layout[1]} has {layout[0]}; "
                "a data set has one channel layout. Convert them alike (e.g. to mono: "
                "`sox in.wav -c 1 out.wav`)."
            )
        if sample_rate is None:
            sample_rate = rate
        if rate != sample_rate:
            raise ConfigError(
                f"Audio file {path} is sampled at {rate} Hz; expected {sample_rate} Hz like the "
                "rest of the data set. Resample it (e.g. `sox in.wav -r "
                f"{sample_rate} out.wav`) or set `data.sample_rate`."
            )
    return sample_rate, WavFiles(files, counts)


def _read_images(files: list[Path], image_size: tuple[int, int]) -> np.ndarray:
    import keras

    images = []
    for path in files:
        try:
            image = keras.utils.load_img(path, target_size=tuple(image_size))
        except Exception as error:  # PIL raises many types for a corrupt image
            raise ConfigError(f"Cannot read image {path}: {error}.") from None
        images.append(keras.utils.img_to_array(image) / 255.0)
    return np.stack(images).astype("float32")
