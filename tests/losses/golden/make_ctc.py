"""Makes ctc.npz: torch.nn.functional.ctc_loss on variable-length batches.

Run from the repository root: `.venv/bin/python tests/losses/golden/make_ctc.py`.
The test reads only the .npz, so it needs no torch.
"""

from pathlib import Path

import numpy as np
import torch


def case(rng, batch, frames, classes, blank, max_label):
    logits = rng.normal(scale=2.0, size=(batch, frames, classes)).astype("float32")
    input_lengths = rng.integers(max_label, frames + 1, size=batch)
    input_lengths[0] = frames
    label_lengths = rng.integers(0, max_label + 1, size=batch)
    label_lengths[0] = max_label
    labels = np.full((batch, max_label), -1, dtype="int64")
    choices = [c for c in range(classes) if c != blank]
    for b in range(batch):
        labels[b, : label_lengths[b]] = rng.choice(choices, label_lengths[b])
    labels[1, :2] = labels[1, 0]  # a repeat needs a blank between the two labels
    label_lengths[1] = max(label_lengths[1], 2)
    labels[1, : label_lengths[1]] = np.where(
        labels[1, : label_lengths[1]] < 0, choices[0], labels[1, : label_lengths[1]]
    )
    # The last example cannot be aligned: more labels (all repeats) than frames allow.
    labels[-1, :] = choices[-1]
    label_lengths[-1] = max_label
    input_lengths[-1] = max_label

    x = torch.tensor(logits, requires_grad=True)
    log_probs = torch.log_softmax(x, dim=-1).transpose(0, 1)
    targets = torch.tensor(np.where(labels < 0, 0, labels))
    kwargs = dict(
        input_lengths=torch.tensor(input_lengths),
        target_lengths=torch.tensor(label_lengths),
        blank=blank,
        reduction="none",
    )
    losses = torch.nn.functional.ctc_loss(log_probs, targets, **kwargs)
    finite = torch.nn.functional.ctc_loss(log_probs, targets, zero_infinity=True, **kwargs)
    finite.sum().backward()
    return dict(
        logits=logits,
        labels=labels.astype("int32"),
        input_lengths=input_lengths.astype("int32"),
        label_lengths=label_lengths.astype("int32"),
        blank=np.int32(blank),
        losses=losses.detach().numpy(),
        losses_zero_infinity=finite.detach().numpy(),
        grad_zero_infinity=x.grad.numpy(),
    )


def main():
    rng = np.random.default_rng(1234)
    out = {}
    for i, (batch, frames, classes, blank, max_label) in enumerate(
        [(5, 20, 7, 3, 6), (4, 15, 5, 4, 4), (3, 9, 4, 0, 3)]
    ):
        for key, value in case(rng, batch, frames, classes, blank, max_label).items():
            out[f"{i}_{key}"] = value
    np.savez_compressed(Path(__file__).with_name("ctc.npz"), **out)


if __name__ == "__main__":
    main()
