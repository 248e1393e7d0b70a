"""The feed formats a commune can export, by file name: each lays out the same ``FeedItem`` stream.

A format registers itself with ``@feed_format(...)``; the feed URL (``/c/<slug>/feeds/<filename>``)
and ``xaso feeds export --format <name>`` both find it here, so a new marketplace layout is one module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from service.feeds.items import FeedItem
from service.feeds.models import FeedSettings
from service.tenants.models import Tenant


@dataclass(frozen=True)
class FeedContext:
    """What a format may need besides the items."""

    tenant: Tenant
    settings: FeedSettings
    language: str  # "vi" or "en"
    link: str  # the commune's public home page


Render = Callable[[Iterable[FeedItem], FeedContext], Iterator[bytes]]


@dataclass(frozen=True)
class FeedFormat:
    name: str  # for the CLI: google-merchant, csv, json
    filename: str  # in the URL: google-merchant.xml, products.csv, products.json
    content_type: str
    render: Render


FORMATS: dict[str, FeedFormat] = {}


def feed_format(name: str, filename: str, content_type: str) -> Callable[[Render], Render]:
    def register(render: Render) -> Render:
        FORMATS[name] = FeedFormat(name=name, filename=filename, content_type=content_type, render=render)
        return render

    return register


def by_filename(filename: str) -> FeedFormat | None:
    return next((fmt for fmt in FORMATS.values() if fmt.filename == filename), None)


def load_formats() -> dict[str, FeedFormat]:
    """Import every format module (they register on import)."""
    from service.feeds import csv_feed, google_merchant, json_feed  # noqa: F401

    return FORMATS
