"""The benchmarks' kzoo/reference ratio: the median of per-pair ratios (benchmarks/common.py)."""

import pytest

from benchmarks.common import Comparison


def test_a_slow_stretch_shared_by_a_pair_cancels():
    # Run 3 of both sides fell on a busy machine. The ratio of medians would read
    # 2.2 / 2.0 = 1.1; each pair says kzoo is 1.05x its reference.
    ours = [1.05, 2.1, 2.31, 2.1, 1.05]
    theirs = [1.0, 2.0, 2.2, 2.0, 1.0]
    row = Comparison("case", ours, theirs, target=1.1)
    assert row.ratio == pytest.approx(1.05)
    assert row.verdict() == "<= 1.1 ok"


def test_throughput_rows_use_the_same_pairs():
    row = Comparison("case", [90.0, 190.0, 95.0], [100.0, 200.0, 100.0], 0.95, True)
    assert row.ratio == pytest.approx(0.95)
    assert row.verdict() == ">= 0.95 ok"
    assert (
        Comparison("case", [80.0, 90.0, 85.0], [100.0] * 3, 0.95, True).verdict().endswith("MISSED")
    )


def test_extra_seconds_are_the_median_pair_difference():
    row = Comparison("import", [8.6, 9.9, 8.7], [8.4, 9.8, 8.6], max_extra=0.3)
    assert row.verdict() == "+0.10 extra, <= +0.3 ok"


def test_unpaired_runs_are_refused():
    with pytest.raises(ValueError, match="one reference run per kzoo run. Received 2 and 3"):
        Comparison("case", [1.0, 2.0], [1.0, 2.0, 3.0], target=1.1).verdict()
