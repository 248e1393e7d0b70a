"""Sitemaps (an index and per-commune sitemaps), robots.txt, and the absolute URLs pages give crawlers.

Pages name their canonical URL and their language alternates with ``canonical_url()`` and
``alternate_url(lang)`` (template globals registered with this blueprint): PUBLIC_BASE_URL + path, keeping
only the query arguments that make a different page — ``lang=en`` and ``page`` beyond the first; sort
orders, filters of the moment and tracking arguments (utm_*, fbclid, zarsrc…) are dropped.
See ``service.feeds.sitemaps`` for the sitemap scheme.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, request
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from service.catalog.models import Product, Seller
from service.core.i18n import current_language, localized
from service.core.urls import public_url
from service.db import Scope, get_session, scoped, streamed
from service.feeds import sitemaps
from service.tenants.models import Tenant
from service.tenants.web import require_tenant

bp = Blueprint("seo", __name__)

# Paths crawlers have no business in (carts, accounts, admin, machine endpoints, the payment sandbox).
DISALLOWED = ("/c/*/admin/", "/c/*/cart", "/c/*/checkout", "/c/*/orders/", "/c/*/bookings/", "/c/*/feeds/",
              "/api/", "/login", "/vnpay-sandbox")


# -- canonical URLs -----------------------------------------------------------------------------------


def _page_arg() -> str | None:
    raw = request.args.get("page", "").strip()
    return raw if raw.isdigit() and int(raw) > 1 else None


def alternate_url(lang: str | None = None) -> str:
    """This page in a language ("vi"/None: the default, no argument; "en": ``?lang=en``), absolute."""
    args: list[tuple[str, str]] = []
    page = _page_arg()
    if page:
        args.append(("page", str(int(page))))
    if lang == "en":
        args.append(("lang", "en"))
    return public_url(request.path) + ("?" + urlencode(args) if args else "")


def canonical_url() -> str:
    return alternate_url(current_language())


def _template_globals(state: Any) -> None:
    state.app.jinja_env.globals.update(canonical_url=canonical_url, alternate_url=alternate_url)


bp.record_once(_template_globals)


# -- robots.txt ---------------------------------------------------------------------------------------


@bp.get("/robots.txt")
def robots() -> Response:
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {path}" for path in DISALLOWED]
    lines += ["", f"Sitemap: {public_url('/sitemap.xml')}", ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


# -- sitemaps -----------------------------------------------------------------------------------------


def _xml(chunks: Iterator[bytes]) -> Response:
    response = Response(streamed(chunks), content_type=sitemaps.CONTENT_TYPE)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/sitemap.xml")
def sitemap_index() -> Response:
    session = get_session()
    listed: list[sitemaps.Entry] = []
    for tenant in sitemaps.active_tenants(session):
        with scoped(session, Scope(tenant.id)):
            listed += sitemaps.part_urls(sitemaps.commune_map(session, tenant))
    if len(listed) > sitemaps.MAX_URLS:  # pragma: no cover - 50,000 communes
        current_app.logger.warning("sitemap index: %d sitemaps, more than one index can list", len(listed))
    return _xml(sitemaps.render_index(listed[:sitemaps.MAX_URLS]))


@bp.get("/c/<commune>/sitemap.xml")
def commune_sitemap() -> Response:
    tenant = require_tenant()
    session = get_session()
    found = sitemaps.commune_map(session, tenant)
    parts = found.parts()
    if len(parts) > 1:
        return _xml(sitemaps.render_index(sitemaps.part_urls(found)))
    return _xml(sitemaps.render_urlset(sitemaps.entries(session, found, parts[0])))


@bp.get("/c/<commune>/sitemap-<int:number>.xml")
def commune_sitemap_part(number: int) -> Response:
    tenant = require_tenant()
    session = get_session()
    found = sitemaps.commune_map(session, tenant)
    parts = found.parts()
    if not 1 <= number <= len(parts):
        abort(404)
    return _xml(sitemaps.render_urlset(sitemaps.entries(session, found, parts[number - 1])))


# -- structured data ----------------------------------------------------------------------------------


def json_ld_markup(data: dict[str, Any]) -> Markup:
    """JSON for a ``<script type="application/ld+json">``, with no "<", ">", "&" or "'" left (written
    \\u003c and so on, the same string to a JSON reader): "</script>" would end the script early and
    "<!--<script>" would make the browser read past its end."""
    return htmlsafe_json_dumps(data, ensure_ascii=False)


def product_json_ld(product: Product, tenant: Tenant, image_urls: list[str]) -> Markup:
    """schema.org Product with one Offer; ``sku`` is the product's id in the marketplace feeds."""
    seller: Seller = product.seller
    url = public_url(f"/c/{tenant.slug}/products/{product.slug}")
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Product",
        "name": localized(product, "title"),
        "description": " ".join(localized(product, "description").split()),
        "sku": f"{tenant.slug}-{product.id}",
        "url": url,
        "brand": {"@type": "Brand", "name": product.brand or seller.name},
        "offers": {
            "@type": "Offer", "price": product.price, "priceCurrency": "VND",
            "availability": f"https://schema.org/{'InStock' if product.stock > 0 else 'OutOfStock'}",
            "itemCondition": "https://schema.org/NewCondition", "url": url,
            "seller": {"@type": "Organization", "name": seller.name},
        },
    }
    if image_urls:
        data["image"] = image_urls
    if product.gtin:
        data["gtin13" if len(product.gtin) == 13 else "gtin"] = product.gtin
    if product.category is not None:
        data["category"] = localized(product.category, "name")
    return json_ld_markup(data)
