"""SincNet's parametrized band-pass convolution (Ravanelli & Bengio, 2018)."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from kzoo.errors import check_choice

_PADDINGS = ("same", "valid", "causal")
_PADDING_MODES = ("zeros", "reflect")
_INITS = ("mel", "sincnet")


def _hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, "float64") / 700.0)


def _mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, "float64") / 2595.0) - 1.0)


def sinc_init(filters, sample_rate, min_low_hz, min_band_hz, init="mel"):
    """Initial `(low_hz, band_hz)` of a sinc filterbank: cut-offs equally spaced in mel.

    The `filters + 1` mel-spaced edges run from a start frequency to
    `sample_rate / 2 - (min_low_hz + min_band_hz)`; filter `i` spans edges `i` and `i + 1`.
    `"mel"` starts at `min_low_hz` (SpeechBrain's `SincConv`); `"sincnet"` starts at
    30 Hz (the original SincNet `SincConv_fast`).

    >>> low, band = sinc_init(4, 16000, 50, 50)
    >>> [round(float(f)) for f in low]
    [50, 680, 1840, 3973]
    """
    check_choice("init", init, _INITS)
    start = float(min_low_hz) if init == "mel" else 30.0
    stop = sample_rate / 2.0 - (min_low_hz + min_band_hz)
    hz = _mel_to_hz(np.linspace(_hz_to_mel(start), _hz_to_mel(stop), filters + 1))
    return hz[:-1].astype("float32"), np.diff(hz).astype("float32")


@keras.saving.register_keras_serializable(package="kzoo")
class SincConv1D(keras.layers.Layer):
    """1-D convolution with band-pass sinc filters whose two cut-offs are learned (SincNet).

    Each of the `filters` kernels is a windowed difference of two low-pass sinc
    filters, so it has only two parameters: its low cut-off and its bandwidth. With
    `f1 = min_low_hz + |low_hz|` and
    `f2 = clip(f1 + min_band_hz + |band_hz|, min_low_hz, sample_rate / 2)`, tap
    `n = -(K-1)/2, ..., (K-1)/2` of a kernel of odd length `K` is

    ```
    h[n] = w[n] * (sin(2 pi f2 n / fs) - sin(2 pi f1 n / fs)) / (pi n) / (2 (f2 - f1))
    h[0] = 1                     # the limit of the ratio above as n -> 0
    ```

    so the pass band has unit gain. The centre tap uses its analytic value (no
    0/0), and the kernel is symmetric, so only its left half is computed and mirrored.
    The window `w` is SpeechBrain's half Hamming window,
    `0.54 - 0.46 cos(2 pi m / K)` at `m = linspace(0, K/2 - 1, (K-1)/2)`, mirrored.

    The parametrization, window and "same" padding (`kernel_size // 2` samples on each
    side) are SpeechBrain's `speechbrain.nnet.CNN.SincConv`, so a SpeechBrain
    checkpoint ports by copying its two vectors `low_hz_` and `band_hz_` (flattened)
    into the weights `low_hz` and `band_hz`; outputs then agree to float32 rounding.

    The kernel is derived in float32 from float32 weights and cast once to the compute
    dtype, so mixed precision keeps the cut-offs accurate. The convolution is a direct
    one (`keras.ops.conv` for one input channel, `keras.ops.depthwise_conv` otherwise),
    which on CPU and GPU is faster than an FFT convolution at SincNet's kernel sizes.

    With several input channels the filters form `channels` groups of
    `filters // channels` (like `groups=channels` in PyTorch): output channel `o` filters
    input channel `o // (filters // channels)`.

    Reference:
        M. Ravanelli and Y. Bengio, "Speaker Recognition from Raw Waveform with
        SincNet", IEEE SLT 2018, https://arxiv.org/abs/1808.00158.

    Args:
        filters: int, the number of band-pass filters (output channels); a multiple of
            the number of input channels.
        kernel_size: int, odd length of each filter in samples.
        sample_rate: float, the sampling rate of the input in Hz. Defaults to 16000.
        min_low_hz: float, the lowest low cut-off in Hz. Defaults to 50.
        min_band_hz: float, the narrowest bandwidth in Hz. Defaults to 50.
        strides: int, the stride of the convolution. Defaults to 1.
        padding: `"same"` (`kernel_size // 2` samples each side; output length
            `ceil(time / strides)`), `"valid"` (no padding) or `"causal"`
            (`kernel_size - 1` samples on the left). Defaults to `"same"`.
        padding_mode: `"zeros"` or `"reflect"` (SpeechBrain's default; needs
            `time > kernel_size // 2`). Defaults to `"zeros"`.
        init: `"mel"` (SpeechBrain: cut-offs equally spaced in mel from `min_low_hz`) or
            `"sincnet"` (original SincNet: from 30 Hz). Defaults to `"mel"`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, `trainable`).

    Input shape:
        `(batch, time)` or `(batch, time, channels)`.

    Output shape:
        `(batch, new_time, filters)`.

    Example:

    >>> import numpy as np, kzoo
    >>> layer = kzoo.layers.SincConv1D(filters=8, kernel_size=51, sample_rate=8000)
    >>> tuple(layer(np.zeros((2, 1600, 1), "float32")).shape)
    (2, 1600, 8)
    >>> [w.name for w in layer.weights]
    ['low_hz', 'band_hz']
    """

    def __init__(
        self,
        filters,
        kernel_size,
        sample_rate=16000,
        min_low_hz=50,
        min_band_hz=50,
        strides=1,
        padding="same",
        padding_mode="zeros",
        init="mel",
        **kwargs,
    ):
        super().__init__(**kwargs)
        for arg, value in (
            ("filters", filters),
            ("kernel_size", kernel_size),
            ("strides", strides),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(
                    f"Argument `{arg}` must be a positive integer. Received: {arg}={value!r}."
                )
        if kernel_size % 2 == 0:
            raise ValueError(
                "Argument `kernel_size` must be odd so every sinc filter is symmetric "
                f"around its centre tap. Received: kernel_size={kernel_size}. "
                f"Try {kernel_size + 1}."
            )
        if not sample_rate > 0:
            raise ValueError(
                f"Argument `sample_rate` must be positive (Hz). Received: sample_rate={sample_rate!r}."
            )
        if min_low_hz < 0 or min_band_hz < 0:
            raise ValueError(
                "Arguments `min_low_hz` and `min_band_hz` must be non-negative (Hz). "
                f"Received: min_low_hz={min_low_hz!r}, min_band_hz={min_band_hz!r}."
            )
        if min_low_hz + min_band_hz >= sample_rate / 2:
            raise ValueError(
                "Arguments `min_low_hz + min_band_hz` must be below the Nyquist frequency "
                f"`sample_rate / 2` = {sample_rate / 2}. Received: min_low_hz={min_low_hz}, "
                f"min_band_hz={min_band_hz}. Lower them or raise `sample_rate`."
            )
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.sample_rate = sample_rate
        self.min_low_hz = min_low_hz
        self.min_band_hz = min_band_hz
        self.strides = int(strides)
        self.padding = check_choice("padding", padding, _PADDINGS)
        self.padding_mode = check_choice("padding_mode", padding_mode, _PADDING_MODES)
        self.init = check_choice("init", init, _INITS)

    def _time_and_channels(self, input_shape):
        if len(input_shape) not in (2, 3):
            raise ValueError(
                "SincConv1D expects inputs of shape (batch, time) or (batch, time, channels). "
                f"Received: input_shape={tuple(input_shape)}."
            )
        channels = 1 if len(input_shape) == 2 else input_shape[-1]
        return input_shape[1], channels

    def build(self, input_shape):
        time, channels = self._time_and_channels(input_shape)
        if channels is None:
            raise ValueError(
                "The channel axis of the inputs to SincConv1D must be known. "
                f"Received: input_shape={tuple(input_shape)}."
            )
        if self.filters % channels:
            raise ValueError(
                "Argument `filters` must be a multiple of the number of input channels, "
                "since each input channel gets its own group of filters. Received: "
                f"filters={self.filters}, channels={channels}. Try "
                f"filters={channels * max(1, round(self.filters / channels))}."
            )
        if time is not None:
            if self.padding == "valid" and time < self.kernel_size:
                raise ValueError(
                    'With padding="valid" the inputs must be at least `kernel_size` samples '
                    f"long. Received: time={time}, kernel_size={self.kernel_size}. Use "
                    'padding="same" or "causal" to zero-pad short inputs.'
                )
            if self.padding_mode == "reflect" and self.padding != "valid":
                needed = self.kernel_size - 1 if self.padding == "causal" else self.kernel_size // 2
                if time <= needed:
                    raise ValueError(
                        'padding_mode="reflect" needs inputs longer than the padding. '
                        f"Received: time={time}, padding={needed}. Use "
                        'padding_mode="zeros" for inputs this short.'
                    )
        self.input_channels = channels
        low, band = sinc_init(
            self.filters, self.sample_rate, self.min_low_hz, self.min_band_hz, self.init
        )
        # autocast=False: the kernel is derived in float32 even under mixed precision.
        self.low_hz = self.add_weight(
            name="low_hz",
            shape=(self.filters,),
            initializer=lambda shape, dtype=None: ops.convert_to_tensor(low, dtype="float32"),
            dtype="float32",
            autocast=False,
        )
        self.band_hz = self.add_weight(
            name="band_hz",
            shape=(self.filters,),
            initializer=lambda shape, dtype=None: ops.convert_to_tensor(band, dtype="float32"),
            dtype="float32",
            autocast=False,
        )
        half = self.kernel_size // 2
        # Constants in float32, in the order SpeechBrain rounds them.
        self._n = (np.arange(-half, 0, dtype="float32") * np.float32(2 * math.pi)) / np.float32(
            self.sample_rate
        )
        m = np.linspace(0.0, self.kernel_size / 2 - 1, half, dtype="float64")
        self._window = (0.54 - 0.46 * np.cos(2 * math.pi * m / self.kernel_size)).astype("float32")

    def cutoffs(self):
        """The low and high cut-off frequencies in Hz, each of shape `(filters,)`."""
        low = self.min_low_hz + ops.abs(ops.cast(self.low_hz, "float32"))
        high = ops.clip(
            low + self.min_band_hz + ops.abs(ops.cast(self.band_hz, "float32")),
            float(self.min_low_hz),
            self.sample_rate / 2.0,
        )
        return low, high

    def sinc_kernel(self):
        """The float32 filters, shape `(filters, kernel_size)`."""
        low, high = self.cutoffs()
        band = high - low
        n = ops.convert_to_tensor(self._n)
        left = (ops.sin(high[:, None] * n) - ops.sin(low[:, None] * n)) / (n / 2.0)
        left = left * ops.convert_to_tensor(self._window)
        centre = 2.0 * band[:, None]
        kernel = ops.concatenate([left, centre, ops.flip(left, axis=1)], axis=1)
        return kernel / (2.0 * band[:, None])

    def call(self, inputs):
        x = inputs
        if len(x.shape) == 2:
            x = ops.expand_dims(x, -1)  # (batch, time, 1)
        k = self.kernel_size
        if self.padding == "same":
            pad = [[0, 0], [k // 2, k // 2], [0, 0]]
        elif self.padding == "causal":
            pad = [[0, 0], [k - 1, 0], [0, 0]]
        else:
            pad = None
        if pad is not None:
            mode = "constant" if self.padding_mode == "zeros" else "reflect"
            x = ops.pad(x, pad, mode=mode)
        kernel = ops.cast(self.sinc_kernel(), self.compute_dtype)  # (filters, k)
        channels = self.input_channels
        if channels == 1:
            kernel = ops.expand_dims(ops.transpose(kernel), 1)  # (k, 1, filters)
            return ops.conv(x, kernel, strides=self.strides, padding="valid")
        kernel = ops.reshape(kernel, (channels, self.filters // channels, k))
        kernel = ops.transpose(kernel, (2, 0, 1))  # (k, channels, filters // channels)
        return ops.depthwise_conv(x, kernel, strides=self.strides, padding="valid")

    def compute_output_shape(self, input_shape):
        time, _ = self._time_and_channels(input_shape)
        if time is not None:
            if self.padding == "valid":
                time = (time - self.kernel_size) // self.strides + 1
            else:
                time = (time - 1) // self.strides + 1
        return (input_shape[0], time, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            sample_rate=self.sample_rate,
            min_low_hz=self.min_low_hz,
            min_band_hz=self.min_band_hz,
            strides=self.strides,
            padding=self.padding,
            padding_mode=self.padding_mode,
            init=self.init,
        )
        return config
