"""The feed URLs of a commune: ``/c/<slug>/feeds/<filename>``, streamed, cached by ETag / Last-Modified.

A marketplace fetches its feed every few hours; most fetches change nothing, so the validators come
from ``feed_stamp`` (a few aggregates) and a 304 answers before any product is read. A changed feed is
streamed: the response starts at once and memory stays flat however many products there are.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, request, stream_with_context
from werkzeug.http import http_date

from service.core.api import JSON_ERROR_BLUEPRINTS
from service.core.errors import NotFound
from service.core.i18n import current_language
from service.core.urls import commune_url
from service.db import get_session
from service.feeds.access import check_access, settings_for
from service.feeds.formats import FeedContext, by_filename, load_formats
from service.feeds.items import feed_stamp, iter_items
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
    stamp = feed_stamp(session, tenant)
    changed = [moment for moment in (stamp.last_modified, settings.updated_at) if moment]
    last_modified = max(changed) if changed else tenant.created_at
    version = f"{fmt.name}|{language}|{stamp.tag}|{settings.updated_at}|{settings.csv_preset}"
    etag = hashlib.sha256(version.encode()).hexdigest()[:32]
    headers = {"ETag": f'"{etag}"', "Last-Modified": http_date(last_modified),
               "Cache-Control": "private, max-age=0, must-revalidate" if settings.access == "token"
               else "public, max-age=300"}
    if _not_modified(etag, last_modified):
        return Response(status=304, headers=headers)
    context = FeedContext(tenant=tenant, settings=settings, language=language, link=commune_url(tenant.slug))
    body = fmt.render(iter_items(session, get_storage(), tenant, language=language), context)
    response = Response(stream_with_context(body), content_type=fmt.content_type, headers=headers)
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{tenant.slug}-{fmt.filename}"'
    return response


def _not_modified(etag: str, last_modified: Any) -> bool:
    if request.if_none_match:  # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return since is not None and last_modified.replace(microsecond=0) <= since
