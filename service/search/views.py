"""Search pages: one commune (``/c/<commune>/search``) or every commune from the portal (``/search``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from service.db import get_session
from service.search import get_backend
from service.search.backend import PRICE_RANGES, SORTS, SearchQuery
from service.tenants.web import require_tenant

bp = Blueprint("search", __name__)

MAX_PAGE = 1_000
PER_PAGE = 24


def _number(raw: str | None, maximum: int) -> int | None:
    raw = (raw or "").strip()
    return min(int(raw), maximum) if raw.isdigit() else None


def _query() -> SearchQuery:
    args = request.args
    stars = tuple(sorted({int(s) for s in args.getlist("ocop_stars") if s in ("3", "4", "5")}))
    sort = args.get("sort") or "relevance"
    return SearchQuery(
        q=(args.get("q") or "").strip()[:200],
        category=args.get("category") or None,
        ocop_stars=stars,
        price_min=_number(args.get("price_min"), 10**12),
        price_max=_number(args.get("price_max"), 10**12),
        sort=sort if sort in SORTS else "relevance",  # type: ignore[arg-type]
        page=_number(args.get("page"), MAX_PAGE) or 1,
        per_page=PER_PAGE,
    )


def _render(portal: bool) -> Any:
    query = _query()
    result = get_backend().search(get_session(), query)
    pages = max(1, -(-result.total // result.per_page))
    ranges = {key: (low, high) for key, low, high in PRICE_RANGES}
    return render_template("search/results.html", query=query, result=result, pages=pages, portal=portal,
                           sorts=SORTS, ranges=ranges)


@bp.get("/c/<commune>/search")
def commune() -> Any:
    require_tenant()
    return _render(portal=False)


@bp.get("/search")
def portal() -> Any:
    return _render(portal=True)


def blueprints() -> list[Blueprint]:
    return [bp]
