"""JSON search API: one commune (``/api/v1/communes/<commune>/search``) or every commune (``/api/v1/search``).

The scope comes from the URL (service.tenants.web): a commune's URL searches that commune,
the portal-wide URL the whole platform.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from service.core.errors import NotFound
from service.db import current_tenant_id, get_session
from service.search import get_backend
from service.search.backend import SearchQuery
from service.search.schemas import (
    SearchArgsSchema,
    SearchResultSchema,
    SearchTokenSchema,
    SuggestArgsSchema,
    SuggestionsSchema,
)
from service.tenants.api import API_PREFIX, COMMUNE_PARAMETER, COMMUNE_PREFIX, api_blueprint, errors

commune_blp = api_blueprint("api_search", __name__, COMMUNE_PREFIX, "Search a commune's catalog")
portal_blp = api_blueprint("api_portal_search", __name__, API_PREFIX, "Search every commune")
COMMUNE = [COMMUNE_PARAMETER]


def _search(args: dict[str, Any]) -> Any:
    return get_backend().search(get_session(), SearchQuery(**args))


def _suggest(args: dict[str, Any]) -> Any:
    return {"data": get_backend().suggest(get_session(), args["q"], args["limit"])}


@commune_blp.route("/search", parameters=COMMUNE)
@commune_blp.arguments(SearchArgsSchema, location="query")
@commune_blp.response(200, SearchResultSchema)
@errors(commune_blp, 404)
def search_commune(args: dict[str, Any]) -> Any:
    """Search the commune

    Words match with or without Vietnamese marks, as prefixes, and with small typos.
    Facets count the matching documents by category, OCOP stars, price range and seller.
    """
    return _search(args)


@commune_blp.route("/search/suggest", parameters=COMMUNE)
@commune_blp.arguments(SuggestArgsSchema, location="query")
@commune_blp.response(200, SuggestionsSchema)
@errors(commune_blp, 404)
def suggest_commune(args: dict[str, Any]) -> Any:
    """Autocomplete titles for what was typed so far"""
    return _suggest(args)


@commune_blp.route("/search/token", parameters=COMMUNE)
@commune_blp.response(200, SearchTokenSchema)
@errors(commune_blp, 404)
def search_token() -> Any:
    """A tenant token for searching the commune straight from the browser

    Only with the Meilisearch backend: the token, signed with a search-only key, can search
    this commune's documents and nothing else (its search rules filter on the commune), and
    expires after an hour. Answers 404 `browser_search_unavailable` on the built-in SQL search.
    """
    from service.search.meili import MeiliBackend

    backend = get_backend()
    if not isinstance(backend, MeiliBackend):
        raise NotFound("Browser-side search needs the Meilisearch backend; use the search endpoint.",
                       code="browser_search_unavailable")
    return backend.tenant_token(current_tenant_id(get_session()))


@portal_blp.route("/search")
@portal_blp.arguments(SearchArgsSchema, location="query")
@portal_blp.response(200, SearchResultSchema)
def search_portal(args: dict[str, Any]) -> Any:
    """Search every commune

    Like the commune search; each hit names its commune, and a `commune` facet counts them.
    """
    return _search(args)


@portal_blp.route("/search/suggest")
@portal_blp.arguments(SuggestArgsSchema, location="query")
@portal_blp.response(200, SuggestionsSchema)
def suggest_portal(args: dict[str, Any]) -> Any:
    """Autocomplete titles across every commune"""
    return _suggest(args)


def blueprints() -> list[Blueprint]:
    return [commune_blp, portal_blp]
