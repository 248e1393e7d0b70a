"""The load test runs end to end in a few seconds: gunicorn starts, every scenario is driven, orders are made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from bench import load


def _can_run(module: str) -> bool:
    return subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _can_run("gunicorn") or not _can_run("locust"), reason="gunicorn or locust not installed")
def test_load_test_drives_every_scenario_without_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from service.orders.models import Order

    url = f"sqlite:///{tmp_path / 'load.db'}"
    try:
        baseline, results = load.measure(url, users=2, seconds=2, workers=1, threads=2)
    except load.ServerFailed as error:
        pytest.skip(f"gunicorn cannot start here: {error}")
    load.report(url, baseline, results, users=2, seconds=2, workers=1, threads=2)

    assert baseline.requests > 0 and baseline.failures == 0 and baseline.rps > 0
    labels = [label for label, _ in results]
    assert labels == ["commune home", "product list", "product page", "search", "checkout: cart add",
                      "checkout: checkout (COD order)"]
    for label, figures in results:
        assert figures.requests > 0, label
        assert figures.failures == 0, label
        assert figures.p95_ms >= figures.p50_ms > 0, label
    checkouts = dict(results)["checkout: checkout (COD order)"].requests
    engine = create_engine(url)
    with engine.connect() as conn:
        orders = conn.scalar(select(func.count()).select_from(Order.__table__)
                             .where(Order.__table__.c.buyer_name == load.BUYER_NAME))
    engine.dispose()
    assert orders is not None
    # Each checkout made one complete order (one more at most per user: a request cut off by the stop).
    assert 0 < checkouts <= orders <= checkouts + 2
    table = capsys.readouterr().out
    assert "bare Flask endpoint (baseline)" in table and "p95 x" in table
