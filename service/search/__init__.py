"""Search: a generic index of documents (products today; homestays, places, articles later)."""

from __future__ import annotations

from flask import current_app

from service.search.backend import SearchBackend


def get_backend() -> SearchBackend:
    """The backend chosen by ``SEARCH_BACKEND`` (only ``sql``, the embedded default, so far)."""
    from service.search.sql import SqlBackend

    name = current_app.config.get("SEARCH_BACKEND", "sql")
    if name != "sql":
        raise RuntimeError(f"unknown SEARCH_BACKEND {name!r}")
    return SqlBackend()
