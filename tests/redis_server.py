"""The real Redis the job and metrics tests use (127.0.0.1:6379, one db number per test module)."""

from __future__ import annotations

import os

import pytest
from redis import Redis


def redis_or_skip(url: str) -> Redis:
    """A connection to ``url``; without a server the test is skipped — or fails when ``REQUIRE_REDIS=1``
    (CI sets it: there the Redis suite must run, not quietly skip)."""
    connection = Redis.from_url(url)
    try:
        connection.ping()
    except Exception as error:  # noqa: BLE001 (any connection problem means "no server")
        message = f"no Redis at {url}: {error}"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return connection
