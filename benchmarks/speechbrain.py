"""kzoo against SpeechBrain on PyTorch: Li-GRU training and SincConv.

Both sides run one training step of a one-layer network (forward, mean squared
error against zeros, backward, SGD with learning rate 0.01) on the same shapes
and the same random data: kzoo's layer in a compiled Keras model
(`train_on_batch`, the current Keras backend) and SpeechBrain 1.1.2's module in
a plain PyTorch loop. Torch gets as many intra-op threads as TensorFlow uses.

SpeechBrain's `LiGRU` is an ordinary `nn.Module`; its docstring recommends
`torch.jit.script` for speed and a SpeechBrain `Brain` scripts its modules with
`--jit`, so the Li-GRU is timed both ways. The case is skipped (with a line
saying why) when torch or speechbrain is not installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import types
import warnings

import keras
import numpy as np

import kzoo
from benchmarks.common import Comparison, comparison_table, random_batch, timed_pair

TITLE = "kzoo vs SpeechBrain on PyTorch"
TARGET = 0.5  # kzoo / SpeechBrain step time


def _import_speechbrain():
    """(torch, LiGRU, SincConv), or the reason they cannot be imported."""
    try:
        import torch
    except ImportError as error:
        return f"torch is not installed ({error})"
    # speechbrain's package import loads torchaudio; its nnet.RNN and nnet.CNN modules are
    # pure torch, so a stand-in module serves when torchaudio is absent.
    stub = importlib.util.find_spec("torchaudio") is None
    if stub:
        sys.modules["torchaudio"] = types.ModuleType("torchaudio")
    try:
        from speechbrain.nnet.CNN import SincConv
        from speechbrain.nnet.RNN import LiGRU
    except ImportError as error:
        return f"speechbrain is not installed or does not import ({error})"
    finally:
        if stub:
            sys.modules.pop("torchaudio", None)
    return torch, LiGRU, SincConv


def _tf_threads() -> int:
    """Intra-op threads TensorFlow uses (its setting, or one per core when it is 0)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.config.threading.get_intra_op_parallelism_threads() or cores
    return cores


def keras_step(layer, x: np.ndarray):
    """`train_on_batch` of Input -> layer, MSE against zeros, SGD(0.01); data converted once."""
    inputs = keras.Input(x.shape[1:])
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    y = keras.ops.zeros((len(x), *model.output.shape[1:]))
    x = keras.ops.convert_to_tensor(x)
    return lambda: model.train_on_batch(x, y)


def torch_step(torch, module, x: np.ndarray, first_output: bool = False):
    """One SGD(0.01) step of `module` on MSE against zeros, the same loss as `keras_step`."""
    x = torch.from_numpy(x)
    module.train()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.01)
    with torch.no_grad():
        out = module(x)
    target = torch.zeros_like(out[0] if first_output else out)

    def step():
        optimizer.zero_grad()
        out = module(x)
        if first_output:
            out = out[0]  # LiGRU returns (output, final state)
        torch.nn.functional.mse_loss(out, target).backward()
        optimizer.step()

    return step


def run(repeats: int, quick: bool) -> list[str]:
    imported = _import_speechbrain()
    if isinstance(imported, str):
        line = f"Skipped: {imported}."
        print(f"   {line}", flush=True)
        return [f"## {TITLE}", "", line, ""]
    torch, LiGRU, SincConv = imported
    threads = _tf_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    warmup = 1 if quick else 2
    rows = []

    # (a) Li-GRU: 16 sequences of 200 frames x 40 features -> 256 units, batch norm, ReLU.
    x = random_batch((16, 200, 40))
    ours = keras_step(
        kzoo.layers.LiGRU(256, activation="relu", normalization="batch", return_sequences=True),
        x,
    )

    def speechbrain_ligru():
        return LiGRU(
            hidden_size=256,
            input_shape=x.shape,
            nonlinearity="relu",
            normalization="batchnorm",
            num_layers=1,
            bias=True,
            dropout=0.0,
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch 2.13 calls torch.jit.script deprecated
        scripted = torch.jit.script(speechbrain_ligru())
    eager = speechbrain_ligru()
    cases = [("torch.jit.script", scripted, threads)]
    if not quick:  # the eager loop is slow
        cases.append(("eager", eager, threads))
    cases.append(("torch.jit.script, torch on 1 thread", scripted, 1))
    for how, module, n in cases:
        torch.set_num_threads(n)
        a, b = timed_pair(ours, torch_step(torch, module, x, first_output=True), repeats, warmup)
        torch.set_num_threads(threads)
        rows.append(
            Comparison(
                f"LiGRU(256) train step vs SpeechBrain LiGRU ({how}), batch 16 x 200 steps x 40",
                a,
                b,
                TARGET,
            )
        )
        print(rows[-1].row(), flush=True)

    # (b) SincConv: 80 filters of 251 taps over 16 one-second 16 kHz waveforms.
    waves = random_batch((16, 16000))
    a, b = timed_pair(
        keras_step(
            kzoo.layers.SincConv1D(
                80, 251, sample_rate=16000, padding="same", padding_mode="reflect"
            ),
            waves[..., None],
        ),
        torch_step(
            torch,
            SincConv(
                out_channels=80,
                kernel_size=251,
                input_shape=waves.shape,
                sample_rate=16000,
                padding="same",
                padding_mode="reflect",
            ),
            waves,
        ),
        repeats,
        warmup,
    )
    rows.append(
        Comparison(
            "SincConv1D(80, 251) train step vs SpeechBrain SincConv, 16 x 1 s at 16 kHz",
            a,
            b,
            TARGET,
        )
    )
    print(rows[-1].row(), flush=True)

    note = (
        f"Keras {keras.__version__} on the {keras.backend.backend()} backend against "
        f"SpeechBrain {_version('speechbrain')} on PyTorch {torch.__version__}, CPU. "
        f"Torch runs {threads} intra-op threads, one per core like TensorFlow's default "
        "(except in the one-thread row). A step is forward, mean squared error against zeros, backward "
        "and an SGD(0.01) update: `train_on_batch` of a one-layer Keras model on kzoo's "
        "side, a plain PyTorch loop on SpeechBrain's. Li-GRU: both sides batch-normalize "
        "the input projection (SpeechBrain: `BatchNorm1d(momentum=0.05)`, kzoo the same "
        "in Keras terms), use ReLU candidates and no dropout (SpeechBrain still multiplies "
        "by its all-ones mask). SpeechBrain ships `LiGRU` as a plain `nn.Module` and "
        "recommends `torch.jit.script` (a `Brain` run with `--jit` scripts it), so it is "
        "timed scripted and (full runs) eager. SincConv: same parametrization, window and "
        "reflect padding (SpeechBrain's default) on both sides."
    )
    note += (
        " The one-thread row checks that the Li-GRU ratio is not only thread contention: "
        "on a shared machine whose cores are busy with other jobs, torch's OpenMP threads "
        "lose more time than TensorFlow's thread pool does. Most of SpeechBrain's Li-GRU "
        "step on CPU is its backward pass: each of the 200 per-frame slices `w[:, k]` "
        "sends back a zero-filled gradient the size of the whole sequence, which autograd "
        "then sums (seen with torch's profiler while writing this case)."
    )
    return comparison_table(TITLE, "s per step", rows, note)


def _version(name: str) -> str:
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        return version(name)
    return "?"
