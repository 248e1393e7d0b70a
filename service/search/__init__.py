"""Search: a generic index of documents (products today; homestays, places, articles later)."""

from __future__ import annotations

from flask import current_app

from service.search.backend import SearchBackend

BACKENDS = ("sql", "meilisearch")


def get_backend() -> SearchBackend:
    """The backend chosen by ``SEARCH_BACKEND``: ``sql`` (the embedded default) or ``meilisearch``."""
    name = current_app.config.get("SEARCH_BACKEND", "sql")
    if name == "sql":
        from service.search.sql import SqlBackend

        return SqlBackend()
    if name == "meilisearch":
        from service.search.meili import MeiliBackend, MeiliConfig

        return MeiliBackend(MeiliConfig.from_app())
    raise RuntimeError(f"unknown SEARCH_BACKEND {name!r} (one of {', '.join(BACKENDS)})")
