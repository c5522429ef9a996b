"""Makes sinc_conv.npz: SpeechBrain SincConv outputs for kzoo's SincConv1D parity test.

Run from the repository root with torch and speechbrain 1.1.2 installed:
    python tests/layers/golden/make_sinc_conv.py

Each case stores the input (batch, time[, channels]), the two weight vectors
(random, so the cut-offs are not the init's) and SpeechBrain's output.
"""

import sys
import types
from pathlib import Path

import numpy as np
import torch

sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))  # SpeechBrain imports it
from speechbrain.nnet.CNN import SincConv  # noqa: E402

# name: (filters, kernel_size, sample_rate, in_channels or 0 for 2-D input, time,
#        strides, padding, padding_mode)
CASES = {
    "same_zeros_2d": (8, 51, 16000, 0, 300, 1, "same", "zeros"),
    "same_reflect": (6, 25, 8000, 1, 200, 1, "same", "reflect"),
    "valid_stride2": (4, 31, 16000, 1, 150, 2, "valid", "zeros"),
    "causal_groups": (6, 15, 16000, 2, 120, 1, "causal", "zeros"),
    "same_stride3_groups": (9, 21, 22050, 3, 100, 3, "same", "zeros"),
    "short_input": (4, 101, 16000, 1, 40, 1, "same", "zeros"),
}


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    arrays = {}
    for name, (filters, k, sr, cin, time, stride, padding, mode) in CASES.items():
        shape = (2, time) if cin == 0 else (2, time, cin)
        x = rng.standard_normal(shape).astype("float32")
        layer = SincConv(
            out_channels=filters,
            kernel_size=k,
            in_channels=max(cin, 1),
            stride=stride,
            padding=padding,
            padding_mode="constant" if mode == "zeros" else mode,
            sample_rate=sr,
        )
        with torch.no_grad():
            # Random cut-offs, some below min_low_hz (|.| is taken) or past Nyquist (clipped).
            low = rng.uniform(-200, sr / 2, filters).astype("float32")
            band = rng.uniform(-300, sr / 4, filters).astype("float32")
            layer.low_hz_.copy_(torch.from_numpy(low)[:, None])
            layer.band_hz_.copy_(torch.from_numpy(band)[:, None])
            y = layer(torch.from_numpy(x)).numpy()
        if cin == 0 and filters == 1:
            y = y[..., None]
        arrays[f"{name}/x"] = x
        arrays[f"{name}/low_hz"] = low
        arrays[f"{name}/band_hz"] = band
        arrays[f"{name}/y"] = y.astype("float32")
        arrays[f"{name}/args"] = np.array([filters, k, sr, cin, time, stride])
        arrays[f"{name}/padding"] = np.array(padding)
        arrays[f"{name}/padding_mode"] = np.array(mode)
    out = Path(__file__).with_name("sinc_conv.npz")
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
