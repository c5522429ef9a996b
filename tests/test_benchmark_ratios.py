"""The benchmarks' kzoo/reference ratio: the median of per-pair ratios (benchmarks/common.py)."""

import pytest

from benchmarks.common import Comparison, timed_pair


def test_a_slow_stretch_shared_by_a_pair_cancels():
    # Runs 3-5 of both sides fell on a busy machine: every pair says kzoo takes 1.05x
    # its reference's time, while the ratio of the two medians would read 2.1 / 1.0.
    ours = [1.05, 1.05, 2.1, 2.1, 2.1]
    theirs = [1.0, 1.0, 1.0, 2.0, 2.0]
    row = Comparison("case", ours, theirs, target=1.1)
    assert row.ratio == pytest.approx(1.05)
    assert row.verdict() == "<= 1.1 ok"


def test_throughput_rows_use_the_same_pairs():
    # Examples per second. Run 3 of the reference was slowed: four pairs say 0.96x, and
    # the medians alone would read 192 / 100.
    ours = [96.0, 96.0, 192.0, 192.0, 192.0]
    theirs = [100.0, 100.0, 100.0, 200.0, 200.0]
    assert Comparison("case", ours, theirs, 0.95, True).verdict() == ">= 0.95 ok"
    slower = [80.0, 80.0, 160.0, 160.0, 160.0]
    assert Comparison("case", slower, theirs, 0.95, True).verdict() == ">= 0.95 MISSED"


def test_extra_seconds_are_the_median_pair_difference():
    # Pairs +0.2, +1.4 (a busy moment) and +0.1 s; the medians alone: 9.9 - 8.5 = +1.4 s.
    row = Comparison("import", [8.6, 9.9, 9.9], [8.4, 8.5, 9.8], max_extra=0.3)
    assert row.verdict() == "+0.20 extra, <= +0.3 ok"


@pytest.mark.parametrize("field", ["ratio", "verdict"])
def test_unpaired_runs_are_refused(field):
    row = Comparison("case", [1.0, 2.0], [1.0, 2.0, 3.0], target=1.1, max_extra=0.3)
    with pytest.raises(ValueError, match="one reference run per kzoo run. Received 2 and 3"):
        getattr(row, field) if field == "ratio" else row.verdict()


def test_timed_pair_alternates_which_side_runs_first():
    calls = []
    a, b = timed_pair(
        lambda: calls.append("ours"), lambda: calls.append("theirs"), 4, warmup=0, min_sample=0
    )
    timed_calls = calls[2:]  # after one untimed call of each (picking the inner count)
    assert timed_calls == ["ours", "theirs", "theirs", "ours", "ours", "theirs", "theirs", "ours"]
    assert len(a) == len(b) == 4


def test_import_clock_reads_keras_then_kzoo_seconds():
    from benchmarks.layers import parse_import_clock

    assert parse_import_clock("some log line\n4.25 0.125\n") == (4.25, 0.125)
    with pytest.raises(RuntimeError, match="expected two numbers"):
        parse_import_clock("Traceback (most recent call last):\n")
    with pytest.raises(RuntimeError, match="expected two numbers"):
        parse_import_clock("")


def test_import_times_pair_keras_alone_with_keras_plus_kzoo():
    from benchmarks.layers import import_times

    ours, theirs = import_times(repeats=1, warmup=0)
    assert len(ours) == len(theirs) == 1
    assert 0 < theirs[0] < ours[0]


def test_a_partial_run_replaces_only_its_own_sections_of_results_md():
    from benchmarks.__main__ import merged

    old = (
        "# Benchmarks\n\nintro\n\n## Layers\n\n| a |\n\n## Zoo\n\n| b |\n\nTotal wall time: 9 s.\n"
    )
    new = (
        "# Benchmarks\n\nintro\n\n## Zoo\n\n| c |\n\n## Recipes\n\n| d |\n\nTotal wall time: 2 s.\n"
    )
    text = merged(old, new, "Measured by `python -m benchmarks --only zoo,recipes --write`.")
    assert text.index("## Layers") < text.index("## Zoo") < text.index("## Recipes")
    assert "| a |" in text and "| c |" in text and "| d |" in text
    assert "| b |" not in text and "Total wall time" not in text
    assert text.count("Measured by `python -m benchmarks --only zoo,recipes --write`.") == 2
    # Measuring a section again replaces its provenance line, not adds another.
    again = merged(text, new, "Measured by `python -m benchmarks --only zoo --write`.")
    assert again.count("Measured by") == 2 and "--only zoo,recipes" not in again
