"""Makes li_gru.npz: SpeechBrain LiGRU / SLiGRU outputs in inference mode, with their weights.

Run from the repository root with torch and speechbrain installed (the `bench` extra):

    python tests/layers/golden/make_li_gru.py

Each case builds `speechbrain.nnet.RNN.LiGRU` or `SLiGRU`, randomizes every weight
(normalization scale and offset included), runs a few training-mode forwards so the
batch norm has nontrivial running statistics, then records `eval()` outputs. The
keys are `{case}/x`, `{case}/y` and `{case}/{layer index}/{torch parameter name}`.
"""

import os
import sys
import types

import numpy as np
import torch

# SpeechBrain imports torchaudio at package import; the RNN module itself is pure torch.
sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
from speechbrain.nnet.RNN import LiGRU, SLiGRU  # noqa: E402

BATCH, TIME, FEATURES, UNITS = 3, 7, 5, 6

CASES = {
    # name: (class, keyword arguments)
    "ligru_batch_relu": (LiGRU, dict(normalization="batchnorm", nonlinearity="relu")),
    "ligru_layer_leaky_relu": (LiGRU, dict(normalization="layernorm", nonlinearity="leaky_relu")),
    "ligru_batch_tanh_bidirectional": (
        LiGRU,
        dict(normalization="batchnorm", nonlinearity="tanh", bidirectional=True),
    ),
    "ligru_batch_sin_stacked_bidirectional": (
        LiGRU,
        dict(normalization="batchnorm", nonlinearity="sin", bidirectional=True, num_layers=2),
    ),
    "sligru_batch_relu": (SLiGRU, dict(ff_normalization="batchnorm", nonlinearity="relu")),
    "sligru_layer_tanh_affine": (
        SLiGRU,
        dict(
            ff_normalization="layernorm",
            nonlinearity="tanh",
            recurrent_elementwise_affine=True,
        ),
    ),
}


def main():
    torch.manual_seed(0)
    arrays = {}
    for name, (cls, kwargs) in CASES.items():
        net = cls(hidden_size=UNITS, input_shape=(BATCH, TIME, FEATURES), **kwargs)
        with torch.no_grad():
            for pname, param in net.named_parameters():
                if pname.endswith("norm.weight"):
                    param.uniform_(0.5, 1.5)
                elif pname.endswith("norm.bias"):
                    param.uniform_(-0.5, 0.5)
                elif pname.endswith(".w.weight"):
                    param.normal_(0.0, 0.5)
        net.train()
        with torch.no_grad():
            for _ in range(3):  # moves the batch-norm running statistics away from 0 / 1
                net(torch.randn(BATCH, TIME, FEATURES) * 2.0 + 0.5)
        net.eval()
        x = torch.randn(BATCH, TIME, FEATURES)
        with torch.no_grad():
            y, _ = net(x)
        arrays[f"{name}/x"] = x.numpy()
        arrays[f"{name}/y"] = y.numpy()
        for key, value in net.rnn.state_dict().items():
            if "drop_mask" in key or "num_batches" in key or "h_init" in key:
                continue
            arrays[f"{name}/{key}"] = value.numpy()
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "li_gru.npz")
    np.savez_compressed(out, **{k: v.astype(np.float32) for k, v in arrays.items()})
    print(f"wrote {out}: {len(arrays)} arrays, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
