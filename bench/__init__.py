"""Benchmarks (``make bench``). Figures are ratios against a baseline measured in the same run."""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def on_each_database(run: Callable[[str], None], name: str) -> None:
    """``run(url)`` on a fresh SQLite file, then on ``BENCH_DATABASE_URL`` (an empty PostgreSQL) when set."""
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / f'{name}.db'}")
    if os.environ.get("BENCH_DATABASE_URL"):
        run(os.environ["BENCH_DATABASE_URL"])
