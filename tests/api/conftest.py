"""Helpers for the JSON API tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from service.db import PLATFORM, database


@pytest.fixture
def count(app: Flask) -> Callable[[Any], int]:
    """Rows of a model across every commune, read in a fresh session (no stale snapshot)."""

    def _count(model: Any) -> int:
        with database(app).session(PLATFORM) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0

    return _count


def assert_error(response: Any, status: int, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.get_data(as_text=True)
    error = response.json["error"]
    assert set(error) == {"type", "code", "message", "param"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    if param is not None:
        assert error["param"] == param
    return error
