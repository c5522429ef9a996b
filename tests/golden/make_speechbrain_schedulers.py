"""Reference learning-rate trajectories from SpeechBrain's schedulers.

Run from the repository root (needs torch and speechbrain, the `bench` extra):

    .venv/bin/python tests/golden/make_speechbrain_schedulers.py

It writes `speechbrain_schedulers.npz` beside this file; tests/test_schedules.py and
tests/test_callbacks.py load only the .npz, so the tests need neither torch nor
SpeechBrain.
"""

import sys
import types
from pathlib import Path

import numpy as np

# SpeechBrain imports torchaudio at package import; its schedulers are pure torch.
sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))

import torch  # noqa: E402
from speechbrain.nnet.schedulers import (  # noqa: E402
    NewBobScheduler,
    NoamScheduler,
    StepScheduler,
)

OUT = Path(__file__).with_name("speechbrain_schedulers.npz")

# A validation-loss sequence that crosses the 0.0025 relative-improvement threshold in both
# directions, gets worse, repeats a value and reaches zero (SpeechBrain's zero guard).
NEWBOB_METRICS = [
    2.0,
    1.5,
    1.499,
    1.4985,
    1.6,
    1.2,
    1.1999,
    1.0,
    0.999,
    0.5,
    0.0,
    0.1,
    0.09,
    0.08995,
]
NEWBOB_CASES = [  # (annealing_factor, improvement_threshold, patient)
    (0.5, 0.0025, 0),
    (0.5, 0.0025, 1),
    (0.8, 0.01, 2),
]


def newbob(initial, factor, threshold, patient):
    scheduler = NewBobScheduler(
        initial_value=initial,
        annealing_factor=factor,
        improvement_threshold=threshold,
        patient=patient,
    )
    # the rate set at the end of each epoch, for the next one
    return [scheduler(metric_value=m)[1] for m in NEWBOB_METRICS]


def step_decay(initial, factor, drop, epochs):
    scheduler = StepScheduler(initial_value=initial, decay_factor=factor, decay_drop=drop)
    # SpeechBrain counts epochs from 1 and uses `current` for the epoch just starting
    return [scheduler(current_epoch=epoch + 1)[0] for epoch in range(epochs)]


def noam(peak, warmup, steps):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=peak)
    scheduler = NoamScheduler(lr_initial=peak, n_warmup_steps=warmup)
    # the k-th call (k = 1, 2, ...) gives the rate of update number k
    return [scheduler(optimizer)[1] for _ in range(steps)]


def main():
    arrays = {
        "newbob_metrics": np.array(NEWBOB_METRICS),
        "newbob_cases": np.array(NEWBOB_CASES),
        "newbob_initial": np.array(0.8),
        "step_decay": np.array(step_decay(0.3, 0.7, 3, 10)),
        "step_decay_args": np.array([0.3, 0.7, 3]),
        "noam": np.array(noam(0.002, 5, 20)),
        "noam_args": np.array([0.002, 5]),
    }
    for i, (factor, threshold, patient) in enumerate(NEWBOB_CASES):
        arrays[f"newbob_{i}"] = np.array(newbob(0.8, factor, threshold, patient))
    np.savez(OUT, **arrays)
    print(f"wrote {OUT}")
    for key, value in arrays.items():
        print(key, np.round(value, 6).tolist())


if __name__ == "__main__":
    main()
