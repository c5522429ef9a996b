"""Makes normalization.npz: reference outputs for kzoo's instance norm and LRN tests.

Instance norm comes from `torch.nn.InstanceNorm1d/2d` (affine, random gamma/beta;
inputs and outputs stored channels-last); local response normalization from
`tf.nn.local_response_normalization`. Run from the repository root:
    python tests/layers/golden/make_normalization.py
"""

from pathlib import Path

import numpy as np
import tensorflow as tf
import torch

LRN_CASES = {  # name: (depth_radius, bias, alpha, beta, channels)
    "lrn_defaults": (5, 1.0, 1.0, 0.5, 16),
    "lrn_alexnet": (2, 2.0, 1e-4, 0.75, 7),
    "lrn_wide": (4, 0.5, 0.3, 1.2, 3),
}


def main():
    rng = np.random.default_rng(0)
    arrays = {}
    for dims, cls in ((1, torch.nn.InstanceNorm1d), (2, torch.nn.InstanceNorm2d)):
        channels = 5
        spatial = (17,) if dims == 1 else (6, 7)
        x = (3.0 + 2.0 * rng.standard_normal((3, channels, *spatial))).astype("float32")
        gamma = rng.uniform(0.5, 1.5, channels).astype("float32")
        beta = rng.standard_normal(channels).astype("float32")
        norm = cls(channels, eps=1e-5, affine=True)
        with torch.no_grad():
            norm.weight.copy_(torch.from_numpy(gamma))
            norm.bias.copy_(torch.from_numpy(beta))
            y = norm(torch.from_numpy(x)).numpy()
        last = (0, *range(2, 2 + dims), 1)  # channels-first -> channels-last
        arrays[f"instance{dims}d/x"] = x.transpose(last)
        arrays[f"instance{dims}d/gamma"] = gamma
        arrays[f"instance{dims}d/beta"] = beta
        arrays[f"instance{dims}d/y"] = y.transpose(last)
    for name, (radius, bias, alpha, beta, channels) in LRN_CASES.items():
        x = rng.standard_normal((2, 4, 3, channels)).astype("float32")
        y = tf.nn.local_response_normalization(
            x, depth_radius=radius, bias=bias, alpha=alpha, beta=beta
        ).numpy()
        arrays[f"{name}/x"] = x
        arrays[f"{name}/args"] = np.array([radius, bias, alpha, beta])
        arrays[f"{name}/y"] = y
    out = Path(__file__).with_name("normalization.npz")
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
