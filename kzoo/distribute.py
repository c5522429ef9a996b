"""`kzoo train --distribute`: where a model's variables live and how batches are split.

| --distribute  | TensorFlow backend                            | JAX backend                          |
|---------------|-----------------------------------------------|--------------------------------------|
| none          | the default device                            | the default device                   |
| mirrored      | `tf.distribute.MirroredStrategy` (all local GPUs, or all logical CPUs) | `keras.distribution.DataParallel` over local devices |
| multi_worker  | `tf.distribute.MultiWorkerMirroredStrategy` (cluster from `TF_CONFIG`) | not supported: use `jax.distributed.initialize` and `mirrored` |
| tpu           | `tf.distribute.TPUStrategy` (`TPUClusterResolver`, `--tpu` address from `TPU_NAME`) | JAX sees TPU cores as devices: use `mirrored` |

The model is built, compiled and trained inside the returned context. Known upstream
limitations of Keras 3 with `MultiWorkerMirroredStrategy` and `fit` (see the Keras
issue tracker) make `multi_worker` experimental; `mirrored` is what the test suite
exercises, on two logical CPU devices.
"""

from __future__ import annotations

import contextlib
import os

import keras

from kzoo.errors import ConfigError, did_you_mean

MODES = ("none", "mirrored", "multi_worker", "tpu")


def scope(mode: str = "none"):
    """A context manager under which to build, compile and fit for `mode`."""
    if mode not in MODES:
        raise ConfigError(f"Unknown --distribute {mode!r}. {did_you_mean(mode, MODES)}")
    if mode == "none":
        return contextlib.nullcontext()
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_strategy(mode).scope()
    if backend == "jax" and mode == "mirrored":
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        return contextlib.nullcontext()
    raise ConfigError(
        f"--distribute {mode} is not available on the {backend} backend. Use the TensorFlow "
        "backend (KERAS_BACKEND=tensorflow), or --distribute mirrored on JAX."
    )


def _tensorflow_strategy(mode: str):
    import tensorflow as tf

    if mode == "mirrored":
        return tf.distribute.MirroredStrategy()
    if mode == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ConfigError(
                "--distribute multi_worker needs the cluster in the TF_CONFIG environment "
                'variable, e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", '
                '"host2:12345"]}, "task": {"type": "worker", "index": 0}}\' on each worker.'
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
            tpu=os.environ.get("TPU_NAME", "")
        )
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError) as error:
        raise ConfigError(
            f"--distribute tpu found no TPU ({error}). Run on a TPU VM or set TPU_NAME."
        ) from None
    return tf.distribute.TPUStrategy(resolver)
