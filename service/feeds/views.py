"""The feed URLs of a commune: ``/c/<slug>/feeds/<filename>``, streamed, cached by ETag / Last-Modified.

A marketplace fetches its feed every few hours; most fetches change nothing, so the validators come
from ``feed_stamp`` (a few aggregates) and a 304 answers before any product is read. A changed feed is
streamed: the response starts at once and memory stays flat however many products there are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.http import http_date

from service.core.api import JSON_ERROR_BLUEPRINTS
from service.core.errors import Invalid, NotFound
from service.core.i18n import current_language
from service.core.urls import commune_url
from service.db import get_session, streamed
from service.feeds.access import check_access, settings_for
from service.feeds.formats import FeedContext, by_filename, load_formats
from service.feeds.items import FeedItem, feed_stamp, iter_items
from service.feeds.models import FeedSettings
from service.feeds.rules import MARKETPLACES, Problem, feed_report
from service.media.storage import get_storage
from service.tenants.web import require_tenant

bp = Blueprint("feeds", __name__, url_prefix="/c/<commune>/feeds")
JSON_ERROR_BLUEPRINTS.add(bp.name)


def _token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.args.get("token")


@bp.get("/<filename>")
def feed(filename: str) -> Any:
    load_formats()
    fmt = by_filename(filename)
    if fmt is None:
        raise NotFound("No such feed.", param="filename")
    tenant = require_tenant()
    session = get_session()
    settings = settings_for(session)
    check_access(settings, _token())
    language = current_language()
    headers, fresh = _validators(fmt.name, language, settings)
    if fresh:
        return Response(status=304, headers=headers)
    context = FeedContext(tenant=tenant, settings=settings, language=language, link=commune_url(tenant.slug))
    body = fmt.render(iter_items(session, get_storage(), tenant, language=language), context)
    response = Response(streamed(body), content_type=fmt.content_type, headers=headers)
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{tenant.slug}-{fmt.filename}"'
    return response


@bp.get("/report.json")
def report() -> Any:
    """The products ``?marketplace=`` (google, postmart) would refuse or alter, and why; same access as
    the feeds. Streamed, cached like them."""
    marketplace = request.args.get("marketplace", "google")
    if marketplace not in MARKETPLACES:
        raise Invalid(f"Unknown marketplace: use one of {', '.join(MARKETPLACES)}.", param="marketplace")
    tenant = require_tenant()
    session = get_session()
    settings = settings_for(session)
    check_access(settings, _token())
    language = current_language()
    headers, fresh = _validators(f"report-{marketplace}", language, settings)
    if fresh:
        return Response(status=304, headers=headers)
    failing = feed_report(session, get_storage(), tenant, marketplace, language=language)
    return Response(streamed(_report_json(marketplace, failing)),
                    content_type="application/json; charset=utf-8", headers=headers)


def _report_json(marketplace: str, failing: Iterable[tuple[FeedItem, list[Problem]]]) -> Iterator[bytes]:
    yield b'{"marketplace":' + json.dumps(marketplace).encode() + b',"items":['
    first = True
    for item, found in failing:
        entry = {"id": item.id, "product_id": item.product_id, "title": item.title, "link": item.link,
                 "problems": [{"field": p.field, "code": p.code, "message": p.message, "blocking": p.blocking}
                              for p in found]}
        yield (b"\n" if first else b",\n") + json.dumps(entry, ensure_ascii=False).encode("utf-8")
        first = False
    yield b"\n]}\n"


def _validators(name: str, language: str, settings: FeedSettings) -> tuple[dict[str, str], bool]:
    """ETag / Last-Modified of a feed from ``feed_stamp`` (no product read), and whether the client's
    copy is still fresh."""
    tenant = require_tenant()
    stamp = feed_stamp(get_session(), tenant)
    changed = [moment for moment in (stamp.last_modified, settings.updated_at) if moment]
    last_modified = max(changed) if changed else tenant.created_at
    version = f"{name}|{language}|{stamp.tag}|{settings.updated_at}|{settings.csv_preset}|{settings.csv_columns}"
    etag = hashlib.sha256(version.encode()).hexdigest()[:32]
    headers = {"ETag": f'"{etag}"', "Last-Modified": http_date(last_modified),
               "Cache-Control": "private, max-age=0, must-revalidate" if settings.access == "token"
               else "public, max-age=300"}
    return headers, _not_modified(etag, last_modified)


def _not_modified(etag: str, last_modified: Any) -> bool:
    if request.if_none_match:  # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return since is not None and last_modified.replace(microsecond=0) <= since
