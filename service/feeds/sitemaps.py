"""Sitemaps (https://www.sitemaps.org/protocol.html): what search engines may crawl, per commune.

The scheme:

- ``/sitemap.xml`` is a sitemap index. It lists, for every active commune, ``/c/<slug>/sitemap.xml`` when
  the commune has at most ``MAX_URLS`` URLs, else the parts ``/c/<slug>/sitemap-1.xml`` …
  ``sitemap-<n>.xml`` directly (an index may not list another index), each with the commune's ``lastmod``.
- ``/c/<slug>/sitemap.xml`` is a ``urlset`` of every public URL of the commune when they fit in one file;
  when they do not, it is itself an index of the commune's parts (for anyone who starts there).
- ``/c/<slug>/sitemap-<n>.xml`` is part n (from 1) of the commune's URLs, ``MAX_URLS`` at most; part 1
  exists even when one file is enough (it is then the same list as ``sitemap.xml``).

URLs come in a fixed order of sections (the commune's own pages, products, homestays, places, events,
stories, announcements), each section by a stable order, so a part is an OFFSET/LIMIT of a few sections:
``plan_parts`` (pure) cuts the counted sections into parts. Rows are read ``BATCH`` at a time (one
query per batch) and written with ``XMLGenerator`` as they come: constant memory.

Each URL carries ``lastmod`` (W3C datetime, UTC) and ``xhtml:link`` alternates: ``vi`` and ``x-default``
are the URL itself (Vietnamese is the default language), ``en`` is the URL with ``?lang=en``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service.catalog.models import Product, ProductStatus
from service.core.urls import commune_url
from service.engagement import announcements as notices
from service.engagement.models import Announcement
from service.tenants.models import Tenant
from service.tourism.models import Article, Event, Homestay, Place, PublishStatus

MAX_URLS = 50_000  # the protocol's limit per sitemap file (and per index)
BATCH = 1000
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
CONTENT_TYPE = "application/xml; charset=utf-8"
_FLUSH_EVERY = 200  # entries per chunk sent to the client


@dataclass(frozen=True)
class Section:
    """One kind of public page: its rows as (slug, updated_at), and the path of one row's page."""

    name: str
    rows: Callable[[int], Select[Any]]  # tenant id -> a select of (slug, updated_at), stably ordered
    path: str  # "/products/{slug}"


@dataclass(frozen=True)
class Slice:
    """Rows ``offset`` … ``offset + count - 1`` of a section."""

    section: str
    offset: int
    count: int


def _published(model: Any, status: Any) -> Callable[[int], Select[Any]]:
    def rows(tenant_id: int) -> Select[Any]:
        return (select(model.slug, model.updated_at)
                .where(model.tenant_id == tenant_id, model.status == status).order_by(model.id))
    return rows


def _announcements(tenant_id: int) -> Any:
    # The public list's own rule (published, out, not expired), by id for stable paging.
    return (notices.public_query().with_only_columns(Announcement.slug, Announcement.updated_at)
            .where(Announcement.tenant_id == tenant_id).order_by(None).order_by(Announcement.id))


SECTIONS: tuple[Section, ...] = (
    Section("products", _published(Product, ProductStatus.PUBLISHED), "/products/{slug}"),
    Section("stays", _published(Homestay, PublishStatus.PUBLISHED), "/stays/{slug}"),
    Section("places", _published(Place, PublishStatus.PUBLISHED), "/places/{slug}"),
    Section("events", _published(Event, PublishStatus.PUBLISHED), "/events/{slug}"),
    Section("stories", _published(Article, PublishStatus.PUBLISHED), "/stories/{slug}"),
    Section("announcements", _announcements, "/announcements/{slug}"),
)
_BY_NAME = {section.name: section for section in SECTIONS}
# The commune's own pages (listing pages), before every section.
PAGES = ("/", "/products", "/stays", "/explore", "/announcements")
PAGES_SECTION = "pages"


# -- planning (pure) ------------------------------------------------------------------------------


def plan_parts(counts: Sequence[tuple[str, int]], limit: int = MAX_URLS) -> list[list[Slice]]:
    """Cut sections of these sizes, in this order, into parts of at most ``limit`` URLs.

    Always at least one part (an empty one when there is nothing)."""
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[list[Slice]] = [[]]
    room = limit
    for name, count in counts:
        offset = 0
        while offset < count:
            if room == 0:
                parts.append([])
                room = limit
            taken = min(room, count - offset)
            parts[-1].append(Slice(name, offset, taken))
            offset += taken
            room -= taken
    return parts


def w3c_datetime(moment: datetime) -> str:
    """``2026-11-28T03:14:03+00:00`` (stored times are naive UTC)."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.replace(microsecond=0).isoformat()


# -- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommuneMap:
    tenant: Tenant
    counts: list[tuple[str, int]]
    lastmod: datetime

    def parts(self, limit: int = MAX_URLS) -> list[list[Slice]]:
        return plan_parts(self.counts, limit)


def commune_map(session: Session, tenant: Tenant) -> CommuneMap:
    """How many URLs of each section the commune has and when any of them last changed (the session
    must be scoped to the commune)."""
    counts: list[tuple[str, int]] = [(PAGES_SECTION, len(PAGES))]
    newest = [tenant.updated_at]
    for section in SECTIONS:
        rows = section.rows(tenant.id).subquery()
        count, latest = session.execute(select(func.count(), func.max(rows.c.updated_at))).one()
        counts.append((section.name, int(count or 0)))
        if latest is not None:
            newest.append(latest)
    return CommuneMap(tenant=tenant, counts=counts, lastmod=max(newest))


@dataclass(frozen=True)
class Entry:
    loc: str
    lastmod: datetime


def entries(session: Session, commune: CommuneMap, part: list[Slice]) -> Iterator[Entry]:
    """The URLs of one part, read ``BATCH`` rows at a time."""
    slug = commune.tenant.slug
    for piece in part:
        if piece.section == PAGES_SECTION:
            for path in PAGES[piece.offset:piece.offset + piece.count]:
                yield Entry(commune_url(slug, path), commune.lastmod)
            continue
        section = _BY_NAME[piece.section]
        end = piece.offset + piece.count
        # BATCH rows per query, each fetched whole: no cursor (nor transaction) stays open between the
        # chunks of a response that a slow client reads for minutes.
        for start in range(piece.offset, end, BATCH):
            stmt = section.rows(commune.tenant.id).offset(start).limit(min(BATCH, end - start))
            for row_slug, updated_at in session.execute(stmt).all():
                yield Entry(commune_url(slug, section.path.format(slug=row_slug)), updated_at or commune.lastmod)


def active_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).where(Tenant.is_active.is_(True)).order_by(Tenant.slug)))


# -- writing --------------------------------------------------------------------------------------


class _Writer:
    """XMLGenerator into a buffer that is handed out in chunks (the response streams them)."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.xml = XMLGenerator(self.buffer, encoding="utf-8", short_empty_elements=True)

    def take(self) -> bytes:
        data = self.buffer.getvalue().encode("utf-8")
        self.buffer.seek(0)
        self.buffer.truncate()
        return data

    def start(self, name: str, attributes: dict[str, str] | None = None) -> None:
        self.xml.startElement(name, AttributesImpl(attributes or {}))

    def element(self, name: str, text: str) -> None:
        self.start(name)
        self.xml.characters(text)
        self.xml.endElement(name)


def render_urlset(items: Iterable[Entry]) -> Iterator[bytes]:
    writer = _Writer()
    xml = writer.xml
    xml.startDocument()
    writer.start("urlset", {"xmlns": SITEMAP_NS, "xmlns:xhtml": XHTML_NS})
    for number, entry in enumerate(items, 1):
        writer.start("url")
        writer.element("loc", entry.loc)
        writer.element("lastmod", w3c_datetime(entry.lastmod))
        english = entry.loc + ("&" if "?" in entry.loc else "?") + "lang=en"
        for hreflang, href in (("vi", entry.loc), ("en", english), ("x-default", entry.loc)):
            writer.start("xhtml:link", {"rel": "alternate", "hreflang": hreflang, "href": href})
            xml.endElement("xhtml:link")
        xml.endElement("url")
        if number % _FLUSH_EVERY == 0:
            yield writer.take()
    xml.endElement("urlset")
    xml.endDocument()
    yield writer.take() + b"\n"


def render_index(sitemaps: Iterable[Entry]) -> Iterator[bytes]:
    writer = _Writer()
    xml = writer.xml
    xml.startDocument()
    writer.start("sitemapindex", {"xmlns": SITEMAP_NS})
    for number, entry in enumerate(sitemaps, 1):
        writer.start("sitemap")
        writer.element("loc", entry.loc)
        writer.element("lastmod", w3c_datetime(entry.lastmod))
        xml.endElement("sitemap")
        if number % _FLUSH_EVERY == 0:
            yield writer.take()
    xml.endElement("sitemapindex")
    xml.endDocument()
    yield writer.take() + b"\n"


def part_urls(commune: CommuneMap, limit: int = MAX_URLS) -> list[Entry]:
    """The sitemap files of a commune as the top index lists them."""
    slug = commune.tenant.slug
    count = len(commune.parts(limit))
    if count == 1:
        return [Entry(commune_url(slug, "/sitemap.xml"), commune.lastmod)]
    return [Entry(commune_url(slug, f"/sitemap-{number}.xml"), commune.lastmod) for number in range(1, count + 1)]
