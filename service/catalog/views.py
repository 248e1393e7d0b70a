"""Public storefront of a commune: the product list with filters, and one product's page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from service.catalog.services import (
    OCOP_STARS,
    SORTS,
    ProductFilters,
    get_public_product,
    list_categories,
    list_public_products,
    product_images,
)
from service.core.pagination import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from service.core.urls import public_url
from service.db import get_session
from service.feeds.seo import product_json_ld
from service.media.web import media_url
from service.tenants.views import paragraphs
from service.tenants.web import require_tenant

bp = Blueprint("catalog", __name__)


def _positive_int(raw: str | None, default: int, maximum: int) -> tuple[int, bool]:
    """(value, understood): a bad value falls back to the default, a big one is clamped."""
    if raw is None or raw == "":
        return default, True
    try:
        value = int(raw.strip())
    except ValueError:
        return default, False
    if value < 1:
        return default, False
    return min(value, maximum), value <= maximum


@bp.get("/c/<commune>/products")
def products() -> Any:
    require_tenant()
    session = get_session()
    categories = list_categories(session)
    args = request.args
    understood = True

    page, ok = _positive_int(args.get("page"), 1, MAX_PAGE)
    understood &= ok
    per_page, ok = _positive_int(args.get("per_page"), DEFAULT_PER_PAGE, MAX_PER_PAGE)
    understood &= ok

    category = args.get("category") or None
    if category is not None and category not in {c.slug for c in categories}:
        category, understood = None, False

    stars: list[int] = []
    for raw in args.getlist("ocop"):
        if raw == "":
            continue
        if raw.strip().isdigit() and int(raw) in OCOP_STARS:
            if int(raw) not in stars:
                stars.append(int(raw))
        else:
            understood = False

    sort = args.get("sort") or "newest"
    if sort not in SORTS:
        sort, understood = "newest", False

    filters = ProductFilters(category=category, ocop_stars=sorted(stars) or None, sort=sort)
    result = list_public_products(session, filters, page, per_page)
    return render_template(
        "catalog/products.html",
        result=result,
        categories=categories,
        category=category,
        stars=stars,
        sort=sort,
        sorts=list(SORTS),
        ocop_choices=OCOP_STARS,
        understood=understood,
        past_end=result.total > 0 and result.page > result.pages,
    )


@bp.get("/c/<commune>/products/<slug>")
def product(slug: str) -> Any:
    tenant = require_tenant()
    session = get_session()
    item = get_public_product(session, slug)
    images = [image for image in product_images(session, item) if image.asset.is_ready]
    keys = [image.asset.key for image in images] or ([item.cover_key] if item.cover_key else [])
    photos = [public_url(url) for url in (media_url(key, 1600) for key in keys) if url]
    return render_template("catalog/product.html", product=item, images=images, paragraphs=paragraphs,
                           share_key=keys[0] if keys else None, json_ld=product_json_ld(item, tenant, photos))


def blueprints() -> list[Blueprint]:
    return [bp]
