"""Printable QR codes (SVG, PNG) of a commune, its products and homestays, and posters to print.

Public, like the pages they point to: only published products and homestays have one (others are 404,
and the tenancy layer makes another commune's slugs 404 as well).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from markupsafe import Markup
from sqlalchemy import select

from service.catalog.services import get_public_product
from service.core.errors import NotFound
from service.core.urls import commune_url
from service.db import get_session
from service.feeds.qr import DEFAULT_SIZE, ERROR_LEVEL, PNG_SCALES, QUIET_ZONE, inline_svg, qr_png, qr_svg
from service.tenants.web import require_tenant
from service.tourism.models import Homestay, PublishStatus

bp = Blueprint("qr", __name__)

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
CACHE = "public, max-age=86400"
# What the code adds to the page's address so the commune's analytics count the scans. Only source and
# medium: every character makes the symbol denser (a longer URL moves it up a QR version, smaller modules
# on a small label, harder to scan), and a campaign name would say nothing the path does not. No ?lang:
# the phone's visitor gets the default language and can switch; the path is the canonical lower-case one.
SCAN_TAG = "?utm_source=qr&utm_medium=print"
SVG_SCALE = 8  # pixels per module at 100 %; the viewBox lets it scale to any print size


def scan_url(commune_slug: str, path: str) -> str:
    """The absolute address a printed code opens: ``https://…/c/cam-thanh/products/x?utm_source=qr&…``."""
    return commune_url(commune_slug.lower(), path.lower()) + SCAN_TAG


def _published_stay(slug: str) -> Homestay:
    homestay = get_session().scalars(select(Homestay).where(Homestay.slug == slug,
                                                            Homestay.status == PublishStatus.PUBLISHED)).first()
    if homestay is None:
        raise NotFound("No such homestay.", param="slug")
    return homestay


def _image(url: str, fmt: str, file_stem: str) -> Response:
    """The QR of ``url`` as SVG or PNG, cached a day, 304 when the browser holds the same one."""
    if fmt not in FORMATS:
        abort(404)
    size = request.args.get("size", DEFAULT_SIZE)
    if size not in PNG_SCALES:
        size = DEFAULT_SIZE
    # The image depends on nothing but these: the same inputs always draw the same pixels.
    digest = hashlib.sha256(f"{url}|{fmt}|{size}|{ERROR_LEVEL}|{QUIET_ZONE}".encode()).hexdigest()[:32]
    download = request.args.get("download") == "1"
    if request.if_none_match.contains(digest):
        response = Response(status=304)
    else:
        body = qr_svg(url, scale=SVG_SCALE) if fmt == "svg" else qr_png(url, scale=PNG_SCALES[size])
        response = Response(body, mimetype=FORMATS[fmt])
        if fmt == "svg":
            # An SVG opened on its own is a document: let it run nothing and load nothing.
            response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.set_etag(digest)
    response.headers["Cache-Control"] = CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.vary.add("Accept-Encoding")
    if download:
        suffix = "" if fmt == "svg" or size == DEFAULT_SIZE else f"-{size}"
        response.headers["Content-Disposition"] = f'attachment; filename="{file_stem}-qr{suffix}.{fmt}"'
    return response


@bp.get("/c/<commune>/qr.<fmt>")
def commune_qr(fmt: str) -> Any:
    tenant = require_tenant()
    return _image(scan_url(tenant.slug, "/"), fmt, tenant.slug)


@bp.get("/c/<commune>/products/<slug>/qr.<fmt>")
def product_qr(slug: str, fmt: str) -> Any:
    tenant = require_tenant()
    product = get_public_product(get_session(), slug)
    return _image(scan_url(tenant.slug, f"/products/{product.slug}"), fmt, f"{tenant.slug}-{product.slug}")


@bp.get("/c/<commune>/stays/<slug>/qr.<fmt>")
def stay_qr(slug: str, fmt: str) -> Any:
    tenant = require_tenant()
    homestay = _published_stay(slug)
    return _image(scan_url(tenant.slug, f"/stays/{homestay.slug}"), fmt, f"{tenant.slug}-{homestay.slug}")


def _poster(template: str, url: str, **context: Any) -> Any:
    # Our own generated SVG (segno, from a URL it escapes): safe to place inline.
    qr = Markup(inline_svg(url))  # noqa: S704
    response = Response(render_template(template, qr=qr, scan_url=url, printed_url=url.split("?", 1)[0],
                                        **context))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/c/<commune>/poster")
def commune_poster() -> Any:
    tenant = require_tenant()
    return _poster("qr/commune_poster.html", scan_url(tenant.slug, "/"), commune=tenant)


@bp.get("/c/<commune>/products/<slug>/poster")
def product_poster(slug: str) -> Any:
    tenant = require_tenant()
    product = get_public_product(get_session(), slug)
    return _poster("qr/product_poster.html", scan_url(tenant.slug, f"/products/{product.slug}"),
                   commune=tenant, product=product)


@bp.get("/c/<commune>/stays/<slug>/poster")
def stay_poster(slug: str) -> Any:
    tenant = require_tenant()
    homestay = _published_stay(slug)
    prices = [room.base_price for room in homestay.room_types if room.is_active]
    return _poster("qr/stay_poster.html", scan_url(tenant.slug, f"/stays/{homestay.slug}"),
                   commune=tenant, homestay=homestay, price_from=min(prices) if prices else None)


def blueprints() -> list[Blueprint]:
    return [bp]
