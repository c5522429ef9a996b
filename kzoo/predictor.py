"""`kzoo.load(source)`: a trained classifier that takes files, directories or raw arrays.

A `Predictor` holds the Keras model, the class names in label order and the run's
own feature front end (`kzoo.data.Frontend`, the one training used), so raw audio
or text goes in and labels come out, through one batched `tf.data` pipeline:

    clf = kzoo.load("vowels")                  # a shipped preset (kzoo.presets.list())
    clf = kzoo.load("runs/my_run")             # a run directory (its best model when kept)
    clf = kzoo.load("my_preset.zip")           # a preset directory or .zip / .tar.gz
    clf = kzoo.load("https://host/p.tar.gz", sha256="...")   # keras.utils.get_file
    clf.predict(["a.wav", "b.wav"], top_k=3)   # [{'label', 'probability', 'top_k'}, ...]
    clf.save("my_preset")                      # a preset directory anyone can load

`kzoo predict SOURCE FILES...|DIR` prints one line per file (`predict_command`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kzoo import presets
from kzoo.errors import ConfigError

EXTENSIONS = {"audio": (".wav",), "text": (".txt",), "image": (".png", ".jpg", ".jpeg", ".bmp")}


def load(
    source: str | Path, *, sha256: str | None = None, cache_dir: str | None = None
) -> Predictor:
    """A `Predictor` from a run directory, a preset directory or archive, a name or a URL.

    Args:
        source: a run directory written by `kzoo train`; a preset directory, `.zip` or
            `.tar.gz` (`Predictor.save`); a shipped preset's name (`kzoo.presets.list()`);
            or an `http(s)://` / `file://` URL of a preset archive.
        sha256: for a URL, the archive's expected sha256 (checked by
            `keras.utils.get_file`). The weights' own sha256 in the manifest is always
            checked.
        cache_dir: where downloads are kept (default: Keras's, ~/.keras).
    """
    import keras

    from kzoo.data.frontend import Frontend
    from kzoo.models import factory

    with presets.opened(source, sha256, cache_dir) as (directory, manifest):
        weights = directory / manifest["weights"]["file"]
        if weights.suffix == ".keras":
            model = keras.saving.load_model(weights, compile=False)
        else:
            # The zoo model with the recorded args (no recipe: prediction needs none).
            model = factory.build(
                {"model": manifest["model"], "args": manifest["args"], "train": {}}
            )
            model.load_weights(weights)
    frontend = Frontend.from_config(manifest["frontend"]) if manifest.get("frontend") else None
    return Predictor(model, manifest["labels"], frontend, manifest)


class Predictor:
    """A classifier with its labels and feature front end (`kzoo.load` makes one).

    Attributes:
        model: the plain `keras.Model`.
        labels: the class names, index i being output i.
        frontend: the `kzoo.data.Frontend` the model was trained with.
        manifest: what the preset or run records (model, args, reference, versions ...).
    """

    def __init__(self, model, labels: Sequence[str], frontend, manifest: dict[str, Any]):
        import keras

        self.model = model
        self.labels = [str(label) for label in labels]
        self.frontend = frontend
        self.manifest = manifest
        classes = model.output_shape[-1]
        if classes != len(self.labels):
            raise ConfigError(
                f"The model gives {classes} values per example but {len(self.labels)} class "
                "names are recorded: kzoo.load serves classifiers, whose output is one "
                "probability (or logit) per class name."
            )
        last = getattr(model.layers[-1], "activation", None)
        self._softmax = last is not keras.activations.softmax  # logits -> probabilities

    def __repr__(self) -> str:
        kind = self.frontend.kind if self.frontend else "arrays"
        return f"<Predictor {self.manifest.get('name')!r}: {kind}, labels={self.labels}>"

    # --- inputs -------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self.frontend.kind if self.frontend else "tabular"

    def files(self, inputs: str | Path | Sequence[str | Path]) -> list[Path]:
        """The files `inputs` names: each file, and every file of the front end's kind
        under each directory (sorted)."""
        items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
        suffixes = EXTENSIONS.get(self.kind, ())
        found: list[Path] = []
        for item in items:
            path = Path(item).expanduser()
            if path.is_dir():
                inside = sorted(
                    p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
                )
                if not inside:
                    raise ConfigError(
                        f"Directory {path} holds no {self.kind} files ({', '.join(suffixes)})."
                    )
                found += inside
            elif path.is_file():
                found.append(path)
            else:
                raise ConfigError(f"Input file {path} does not exist.")
        return found

    def _is_files(self, inputs) -> bool:
        if isinstance(inputs, (str, Path)):
            return self.kind != "text" or _exists(inputs)
        if isinstance(inputs, np.ndarray) or not isinstance(inputs, Sequence) or not inputs:
            return False
        if all(isinstance(i, Path) for i in inputs):
            return True
        if all(isinstance(i, str) for i in inputs):
            return self.kind != "text" or all(_exists(i) for i in inputs)
        return False

    # --- prediction ---------------------------------------------------------------------

    def predict(
        self,
        inputs,
        *,
        top_k: int = 1,
        batch_size: int = 32,
        sample_rate: int | None = None,
    ) -> list[dict[str, Any]]:
        """Classifies files, the files of directories, or raw examples.

        Args:
            inputs: a file or directory path, or a list of them; or raw examples: audio
                waveforms (a list of 1-D arrays, or a 2-D array (n, samples) at the
                front end's sample rate), texts (a list of strings), images (n, h, w, c)
                or rows (n, features).
            top_k: how many of the most probable labels each result lists.
            batch_size: examples per batch.
            sample_rate: the rate of raw waveforms, checked against the front end's.

        Returns:
            One dict per example, in order: `label` and `probability` (the most probable
            class), `top_k` (a list of {label, probability}) and, for files, `path`.
        """
        top_k = _positive("top_k", top_k)
        batch_size = _positive("batch_size", batch_size)
        paths = self.files(inputs) if self._is_files(inputs) else None
        probabilities = self.probabilities(
            paths if paths is not None else inputs, batch_size=batch_size, sample_rate=sample_rate
        )
        k = min(top_k, len(self.labels))
        results = []
        for i, row in enumerate(probabilities):
            order = np.argsort(-row, kind="stable")[:k]
            ranked = [{"label": self.labels[j], "probability": float(row[j])} for j in order]
            result = {**ranked[0], "top_k": ranked}
            if paths is not None:
                result = {"path": str(paths[i]), **result}
            results.append(result)
        return results

    def probabilities(self, inputs, *, batch_size: int = 32, sample_rate: int | None = None):
        """(n, classes) float probabilities of a list of files (Paths) or of raw examples."""
        import tensorflow as tf

        failures: list[str] = []
        dataset = self._dataset(inputs, batch_size, sample_rate, failures)
        try:
            outputs = self.model.predict(dataset, verbose=0)
        except tf.errors.OpError as error:
            message = failures[0] if failures else str(error.message).strip().splitlines()[0]
            raise ConfigError(message) from None
        outputs = np.asarray(outputs, "float32")
        if self._softmax:
            outputs = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
            outputs /= outputs.sum(axis=-1, keepdims=True)
        return outputs

    def _dataset(self, inputs, batch_size, sample_rate, failures):
        """One batched `tf.data` pipeline: read -> front end -> the model's input shape."""
        import tensorflow as tf

        files = isinstance(inputs, list) and bool(inputs) and isinstance(inputs[0], Path)
        if self.kind == "audio":
            waves = (
                self._audio_files(inputs, failures) if files else self._waves(inputs, sample_rate)
            )
            frontend = self.frontend
            clipped = waves.map(
                lambda w: (lambda c: (c, tf.shape(c)[0]))(frontend.clip(w)),
                num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=True,
            )
            return (
                clipped.padded_batch(batch_size)
                .map(self._audio_features, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                .prefetch(tf.data.AUTOTUNE)
            )
        if self.kind == "text":
            texts = (
                [p.read_text(errors="replace") for p in inputs] if files else self._texts(inputs)
            )
            # Eagerly, 1,024 at a time, as the training pipeline does (a TextVectorization
            # lookup table cannot be made inside a tf.data graph).
            tokens = np.concatenate(
                [self.frontend(texts[i : i + 1024])[0].numpy() for i in range(0, len(texts), 1024)]
            )
            return tf.data.Dataset.from_tensor_slices(tokens).batch(batch_size)
        arrays = self._images(inputs) if files else self._arrays(inputs)
        return tf.data.Dataset.from_tensor_slices(arrays).batch(batch_size)

    def _audio_features(self, waves, lengths):
        """Features of a padded batch, cut or zero-padded to the model's time steps (as in
        training, where features past a clip's end are zero)."""
        import tensorflow as tf

        x, _ = self.frontend(waves, lengths)
        steps = self.model.input_shape[1]
        if steps is not None:
            x = x[:, :steps]
            x = tf.pad(x, [[0, 0], [0, steps - tf.shape(x)[1]], [0, 0]])
            # A reshape, not tf.ensure_shape: the same static shape, and a LiteRT built-in.
            x = tf.reshape(x, [-1, steps, self.frontend.dims])
        return x

    def _audio_files(self, paths: list[Path], failures: list[str]):
        import tensorflow as tf

        from kzoo.data import folders

        rate = self.frontend.sample_rate

        def read(path: bytes) -> np.ndarray:
            name = path.decode()
            try:
                if Path(name).suffix.lower() not in EXTENSIONS["audio"]:
                    raise ConfigError(
                        f"Cannot read {name}: this model takes audio files (.wav), "
                        f"not {Path(name).suffix or 'files without an extension'}."
                    )
                found, wave = folders.read_wav(Path(name))
                if found != rate:
                    raise ConfigError(
                        f"Audio file {name} is sampled at {found} Hz; this model takes {rate} Hz. "
                        f"Resample it (e.g. `sox {name} -r {rate} out.wav`)."
                    )
            except ConfigError as error:
                failures.append(str(error))
                raise
            return wave.astype("float32")

        names = tf.data.Dataset.from_tensor_slices([str(p) for p in paths])
        return names.map(
            lambda p: tf.ensure_shape(tf.numpy_function(read, [p], tf.float32), [None]),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )

    def _waves(self, inputs, sample_rate: int | None):
        import tensorflow as tf

        rate = self.frontend.sample_rate
        if sample_rate is not None and sample_rate != rate:
            raise ConfigError(
                f"The waveforms are sampled at {sample_rate} Hz; this model takes {rate} Hz. "
                "Resample them first."
            )
        if isinstance(inputs, np.ndarray) or np.isscalar(inputs):
            array = np.asarray(inputs)
            if array.ndim != 2:
                raise ConfigError(
                    "Raw audio must be a 2-D array (examples, samples) or a list of 1-D "
                    f"waveforms. Received an array of shape {array.shape}"
                    + (": wrap one waveform as [wave]." if array.ndim == 1 else ".")
                )
            waves = list(array)
        else:
            waves = [np.asarray(w) for w in inputs]
        if not waves:
            raise ConfigError("Nothing to predict: no waveforms were given.")
        for i, wave in enumerate(waves):
            if wave.ndim != 1 or wave.size == 0 or not np.issubdtype(wave.dtype, np.number):
                raise ConfigError(
                    f"Waveform {i} has shape {wave.shape} and dtype {wave.dtype}; each "
                    "waveform must be a non-empty 1-D array of numbers (samples)."
                )
        ragged = tf.RaggedTensor.from_row_lengths(
            np.concatenate(waves).astype("float32"), np.array([len(w) for w in waves], "int64")
        )
        return tf.data.Dataset.from_tensor_slices(ragged)

    def _texts(self, inputs) -> list[str]:
        texts = [inputs] if isinstance(inputs, str) else list(np.asarray(inputs, object).ravel())
        if not texts or not all(isinstance(t, str) for t in texts):
            raise ConfigError("Raw text must be a string or a list of strings.")
        return texts

    def _images(self, paths: list[Path]) -> np.ndarray:
        import keras

        height, width = self.model.input_shape[1:3]
        images = []
        for path in paths:
            try:
                image = keras.utils.load_img(path, target_size=(height, width))
            except Exception as error:  # PIL raises many types for a file it cannot read
                raise ConfigError(f"Cannot read image {path}: {error}.") from None
            images.append(keras.utils.img_to_array(image) / 255.0)
        return np.stack(images).astype("float32")

    def _arrays(self, inputs) -> np.ndarray:
        array = np.asarray(inputs, "float32")
        expected = self.model.input_shape
        if array.ndim != len(expected) or any(
            e is not None and e != a for e, a in zip(expected[1:], array.shape[1:])
        ):
            raise ConfigError(
                f"This model takes arrays of shape {tuple(expected)} (None: any). Received "
                f"an array of shape {array.shape}."
            )
        return array

    # --- serving ------------------------------------------------------------------------

    def serving_endpoint(self):
        """`(function, input_signature, layers to track)` of a raw-input serving endpoint.

        audio: `(waveforms float32 (n, samples) zero-padded, lengths int32 (n,))`;
        text: `(texts string (n,),)`; other kinds: the model's own input. The function
        returns `probabilities` (n, classes), computed as `probabilities` computes them:
        the same front end, clipping and padding to the model's time steps.
        """
        import tensorflow as tf

        def finish(x):
            y = tf.cast(self.model(x, training=False), tf.float32)
            return tf.nn.softmax(y, axis=-1) if self._softmax else y

        track = [self.model]
        if self.kind == "audio":
            frontend = self.frontend

            def serve(waveforms, lengths):
                return finish(self._audio_features(*frontend.clip_batch(waveforms, lengths)))

            signature = [
                tf.TensorSpec([None, None], tf.float32, name="waveforms"),
                tf.TensorSpec([None], tf.int32, name="lengths"),
            ]
        elif self.kind == "text":
            vectorizer = self.frontend.vectorizer  # the layer itself, tracked by the export

            def serve(texts):
                return finish(tf.cast(vectorizer(texts), tf.int32))

            signature = [tf.TensorSpec([None], tf.string, name="texts")]
            track.append(vectorizer)
        else:

            def serve(inputs):
                return finish(inputs)

            shape = list(self.model.input_shape)
            signature = [tf.TensorSpec(shape, tf.float32, name="inputs")]
        return serve, signature, track

    # --- saving -------------------------------------------------------------------------

    def save(
        self,
        directory: str | Path,
        *,
        name: str | None = None,
        description: str | None = None,
        license: str | None = None,
        reference: dict[str, Any] | None = None,
        card: str | None = None,
    ) -> Path:
        """Writes a preset directory (`kzoo.presets`) that `kzoo.load` and
        `kzoo.models.get(model, preset=...)` read."""
        keep = ("name", "description", "license", "reference", "data")
        manifest = {k: self.manifest[k] for k in keep if self.manifest.get(k) is not None}
        given = dict(name=name, description=description, license=license, reference=reference)
        manifest.update({k: v for k, v in given.items() if v is not None})
        manifest.setdefault("name", Path(directory).name)
        manifest.update(
            model=self.manifest["model"],
            args=self.manifest["args"],
            labels=self.labels,
            frontend=self.frontend.get_config() if self.frontend else None,
        )
        return presets.write(directory, manifest, self.model, card)


def _exists(path: str | Path) -> bool:
    """Whether `path` names a file or directory; a long review is not a path (no OSError)."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        return False


def _positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"`{name}` must be a positive integer. Received: {value!r}.")
    return int(value)


def predict_command(
    source: str,
    inputs: Sequence[str],
    *,
    top_k: int = 1,
    as_json: bool = False,
    batch_size: int = 32,
) -> str:
    """What `kzoo predict` prints: PATH<TAB>LABEL<TAB>PROBABILITY per file (more label and
    probability pairs with `top_k`), or a JSON list."""
    top_k = _positive("--top-k", top_k)
    batch_size = _positive("--batch-size", batch_size)
    predictor = load(source)
    paths = predictor.files(inputs)
    results = predictor.predict(paths, top_k=top_k, batch_size=batch_size)
    if as_json:
        return json.dumps(results, indent=2)
    lines = []
    for result in results:
        pairs = [f"{r['label']}\t{r['probability']:.4f}" for r in result["top_k"]]
        lines.append("\t".join([result["path"], *pairs]))
    return "\n".join(lines)


__all__ = ["Predictor", "load", "predict_command"]
