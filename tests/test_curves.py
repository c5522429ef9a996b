"""curves.png: panel order, whole-epoch ticks, the learning-rate panel."""

import matplotlib.pyplot as plt

from kzoo import run_dir


def test_curves_have_whole_epochs_and_a_learning_rate_panel():
    rows = [
        {"epoch": e, "loss": 1.0 / (e + 1), "accuracy": 0.5, "learning_rate": 0.1 / (e + 1),
         "val_loss": 1.2, "val_accuracy": 0.4}
        for e in range(3)
    ]  # fmt: skip
    fig = run_dir.curves_figure(rows, "t")
    try:
        titles = [axis.get_title() for axis in fig.axes]
        assert titles == ["loss", "accuracy", "learning rate"]  # the history's column order
        for axis in fig.axes:
            ticks = [t for t in axis.get_xticks() if 1 <= t <= 3]
            assert ticks and all(float(t).is_integer() for t in ticks)
        assert fig.axes[2].get_legend() is None  # one line: a rate has no validation twin
    finally:
        plt.close(fig)
