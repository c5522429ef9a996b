"""SincNet: a raw-waveform classifier whose first layer learns band-pass filters."""

from __future__ import annotations

import keras

from kzoo import layers as kzoo_layers
from kzoo.errors import check_choice
from kzoo.models import heads, parts
from kzoo.registry import register


@keras.saving.register_keras_serializable(package="kzoo")
class Absolute(keras.layers.Layer):
    """Element-wise absolute value, |x| (SincNet's rectification of the band-pass outputs).

    Example:

    >>> import numpy as np
    >>> from kzoo.models.sincnet import Absolute
    >>> np.asarray(Absolute()(np.array([-2.0, 3.0], "float32"))).tolist()
    [2.0, 3.0]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return keras.ops.abs(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="kzoo")
class LogCompression(keras.layers.Layer):
    """`log(x + epsilon)`: log compression of non-negative band magnitudes.

    It narrows the dynamic range of a filterbank's outputs, so that weak bands (the
    formants above F1, the harmonics between them) are not lost beside the loudest
    one. Computed in float32.

    Args:
        epsilon: float > 0, added before the log so that silent bands stay finite.
            Defaults to 1e-3.
        **kwargs: base `Layer` arguments.

    Input shape:
        Any, non-negative values (e.g. `|SincConv1D|` after pooling).

    Output shape:
        Same as the input.

    Example:

    >>> import numpy as np
    >>> from kzoo.models.sincnet import LogCompression
    >>> np.round(np.asarray(LogCompression(epsilon=1.0)(np.array([0.0, 1.0], "float32"))), 4)
    array([0.    , 0.6931], dtype=float32)
    """

    def __init__(self, epsilon: float = 1e-3, **kwargs):
        super().__init__(**kwargs)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(
                "Argument `epsilon` of LogCompression must be a positive number (log(0) is "
                f"-inf). Received: epsilon={epsilon!r}. Try epsilon=1e-3."
            )
        self.epsilon = float(epsilon)
        self.supports_masking = True

    def call(self, inputs, mask=None):  # element-wise: the mask passes through unchanged
        x = keras.ops.cast(inputs, "float32")
        return keras.ops.cast(keras.ops.log(x + self.epsilon), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


COMPRESSIONS = ("none", "log")


def _check_frames(x, needed: int, where: str, shape) -> None:
    if x.shape[1] is not None and x.shape[1] < needed:
        raise ValueError(
            f"The waveform is too short for SincNet's blocks: {where!r} needs {needed} frames "
            f"and gets {x.shape[1]}. Received: input_shape={shape}. Use longer clips, fewer "
            "`conv_filters`, or a smaller `pool_size` / `sinc_kernel_size`."
        )


@register("sincnet")
def sincnet(
    input_shape=(2400, 1),
    num_classes: int = 12,
    sample_rate: int = 8000,
    sinc_filters: int = 80,
    sinc_kernel_size: int = 251,
    conv_filters=(60, 60),
    conv_kernel_size: int = 5,
    pool_size: int = 3,
    dense_units=(128, 128),
    activation: str = "leaky_relu",
    normalization: str | None = "batch",
    dropout: float = 0.0,
    global_pooling: str = "flatten",
    compression: str | None = "none",
    head: str = "classification",
) -> keras.Model:
    """SincNet: learned sinc band-pass filters on raw audio -> conv blocks -> MLP -> head.

    The recipe of Ravanelli & Bengio: layer-normalised waveform -> SincConv1D -> |.| ->
    max-pool (-> log, with `compression="log"`) -> layer norm -> leaky ReLU; then conv
    blocks (Conv1D -> max-pool -> layer norm -> leaky ReLU); the feature maps are
    flattened (or pooled: `global_pooling`) into an MLP (Dense -> batch norm, or
    `normalization` -> leaky ReLU) and the head. Convolutions are "valid" as in the
    paper. Layer norm here normalises each frame over its channels (as SpeechBrain's
    SincNet does).
    The paper's 16 kHz setting is 80 filters of 251 taps (~16 ms) and three 2048-unit
    dense layers; the defaults keep the filters and shrink the MLP for 8 kHz clips.

    Reference:
        M. Ravanelli and Y. Bengio, "Speaker Recognition from Raw Waveform with SincNet",
        IEEE SLT 2018, https://arxiv.org/abs/1808.00158.
        N. Zeghidour, N. Usunier, I. Kokkinos, T. Schatz, G. Synnaeve and E. Dupoux,
        "Learning filterbanks from raw speech for phone recognition", ICASSP 2018
        (log compression of learned filterbank outputs).

    Args:
        input_shape: (samples, 1), a mono waveform at `sample_rate`.
        num_classes: output classes (or values, for a regression head).
        sample_rate: sampling rate of the audio in Hz (sets the filters' band edges).
        sinc_filters: number of sinc band-pass filters.
        sinc_kernel_size: taps of each sinc filter (odd).
        conv_filters: output channels of each conv block after the sinc layer.
        conv_kernel_size: kernel size of those conv blocks.
        pool_size: max-pooling after the sinc layer and each conv block.
        dense_units: width of each MLP layer.
        activation: activation by name (leaky ReLU in the paper).
        normalization: of each MLP layer: "batch" (the paper), "layer", "group",
            "instance", "lrn", None, or "weight" (weight normalization of each Dense layer
            instead of a layer after it). The conv blocks keep the paper's layer norm.
        dropout: dropout after each block and MLP layer.
        global_pooling: how the feature maps reach the MLP: "flatten" (the paper: every
            frame at its position, so the clip length is fixed), or "average" / "max"
            over frames (the same wherever in the clip a pattern falls; for stationary
            sounds such as sustained vowels, and clips of any length).
        compression: "none" (the paper: the pooled band magnitudes as they are) or "log":
            `log(x + 1e-3)` of them before the layer norm (`LogCompression`), as
            filterbanks learned on raw speech often are (Zeghidour et al. 2018).
        head: "classification", "regression" or "embedding".
    """
    check_choice("global_pooling", global_pooling, parts.GLOBAL_POOLINGS)
    compression = check_choice(
        "compression", "none" if compression is None else compression, COMPRESSIONS
    )
    heads.check_num_classes(num_classes)
    shape = heads.check_input_shape(input_shape, 2, "sincnet", "(samples, 1)")
    if shape[1] != 1:
        raise ValueError(
            "Model 'sincnet' reads a mono waveform of shape (samples, 1). Received: "
            f"input_shape={shape}. Use data.features.type: raw, or a model for feature "
            "frames (cnn_mlp_rnn, cnn1d)."
        )
    inputs = keras.Input(shape, name="inputs")  # (batch, samples, 1)
    # Over samples and the single channel: the same as axis=1 here, and the form Keras's torch
    # backend supports (it normalizes trailing axes only).
    x = keras.layers.LayerNormalization(axis=(1, 2), center=False, scale=False, name="input_norm")(
        inputs
    )
    _check_frames(x, sinc_kernel_size, "sinc", shape)
    x = kzoo_layers.SincConv1D(
        sinc_filters, sinc_kernel_size, sample_rate=sample_rate, padding="valid", name="sinc"
    )(x)  # (batch, samples - kernel + 1, sinc_filters)
    x = Absolute(name="sinc_abs")(x)
    blocks = [("sinc", None)] + [(f"conv{i}", f) for i, f in enumerate(conv_filters)]
    for name, filters in blocks:
        if filters is not None:
            _check_frames(x, conv_kernel_size, name, shape)
            x = keras.layers.Conv1D(filters, conv_kernel_size, name=name)(x)
        _check_frames(x, pool_size, f"{name}_pool", shape)
        x = keras.layers.MaxPooling1D(pool_size, name=f"{name}_pool")(x)
        if filters is None and compression == "log":  # the sinc block: band magnitudes
            x = LogCompression(name="sinc_log")(x)
        x = keras.layers.LayerNormalization(name=f"{name}_norm")(x)
        x = parts.activation(activation, f"{name}_act")(x)
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    _check_frames(x, 1, "the MLP", shape)
    # x: (batch, frames, channels)
    x = parts.global_pool(x, global_pooling, rank=1)  # (batch, features)
    for i, units in enumerate(dense_units):
        dense = keras.layers.Dense(units, name=f"dense{i}")
        x = parts.normalized(dense, normalization, f"dense{i}_norm")(x)
        x = parts.activation(activation, f"dense{i}_act")(x)
        x = keras.layers.Dropout(dropout, name=f"dense{i}_dropout")(x)
    outputs = heads.apply(x, head, num_classes)
    return keras.Model(inputs, outputs, name="sincnet")
