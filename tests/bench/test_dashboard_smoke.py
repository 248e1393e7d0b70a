"""The dashboard benchmark runs end to end on a tiny commune in seconds, and measures the right figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import dashboard


def test_dashboard_bench_times_every_figure_of_one_commune(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = dashboard.measure(f"sqlite:///{tmp_path / 'dashboard.db'}", orders=300, rounds=1)
    dashboard.report(result)

    # The dashboard added up the measured commune's counted orders, none of the second commune's.
    assert result.orders_26_weeks == result.seeded.counted_orders > 0
    assert result.seeded.rows["orders"] == 300 and result.seeded.rows["unit_nights"] > 0
    labels = [label for label, _ in result.timings]
    assert labels[:2] == ["report_counts", "feed_health"]
    for weeks in (12, 26):
        assert f"orders_by_week, {weeks} wk" in labels and f"all figures, {weeks} wk" in labels
    assert result.baseline > 0 and all(seconds > 0 for _, seconds in result.timings)
    table = capsys.readouterr().out
    assert "bare count/sum of orders (baseline)" in table and "occupancy_by_week, 26 wk" in table
