"""The Meilisearch backend (``SEARCH_BACKEND=meilisearch``), through the official client.

The SQL index rows stay the durable copy, written in the object's transaction; Meilisearch is
a projection of them. Each change adds an outbox message naming the document (not its
content): the relay reads the row as it is *then* and pushes it, or deletes the document
when the row is gone, so retries after an outage send the latest state, in any order.

Isolation: every query carries ``tenant_id = <commune>`` unless the session is the platform's,
and a session without a scope searches nothing. Browsers get tenant tokens whose search rules
hold the same filter, signed with a search-only key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import meilisearch
from flask import current_app
from meilisearch.errors import MeilisearchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import AppError
from service.db import PLATFORM, Scope, TenantScopeError, scope_of, scoped
from service.jobs import outbox
from service.search.backend import PRICE_RANGES, FacetValue, SearchHit, SearchQuery, SearchResult
from service.search.documents import SearchDocument, terms
from service.search.models import SearchEntry
from service.search.sql import SqlBackend

TOPIC = "search.sync"
SEARCH_KEY_NAME = "xaso-browser-search"
PUSH_BATCH = 1000
TASK_TIMEOUT_MS = 30_000

# Folded (see documents.normalise), both ways where it makes sense: "mam" finds "nuoc mam".
SYNONYMS: dict[str, list[str]] = {
    "mam": ["nuoc mam"],
    "nuoc mam": ["mam"],
    "fish sauce": ["nuoc mam"],
    "ca phe": ["cafe", "coffee"],
    "cafe": ["ca phe"],
    "coffee": ["ca phe"],
    "tra": ["tea"],
    "tea": ["tra"],
    "mat ong": ["honey"],
    "honey": ["mat ong"],
    "homestay": ["nha nghi", "nha dan"],
    "nha nghi": ["homestay"],
    "nha dan": ["homestay"],
}

# Facet name of the API -> the attribute Meilisearch counts. Labelled facets count "slug|name"
# so that one facet query gives both the value to filter on and the label to show.
FACET_ATTRIBUTES: dict[str, str] = {
    "category": "category_facet",
    "ocop_stars": "ocop_stars",
    "price_range": "price_range",
    "seller": "seller_facet",
    "commune": "commune_facet",
}
LABEL_SEPARATOR = "|"


class SearchUnavailable(AppError):
    status = 503
    type = "api_error"
    code = "search_unavailable"


def index_settings() -> dict[str, Any]:
    """What ``xaso search settings apply`` sends to the index."""
    return {
        "searchableAttributes": ["title_folded", "squashed", "body_folded"],
        "filterableAttributes": ["tenant_id", "kind", "category_slug", "ocop_stars", "price", "seller_slug",
                                 "commune_slug", *sorted({"price_range", "category_facet", "seller_facet",
                                                          "commune_facet"})],
        "sortableAttributes": ["price", "published_ts", "object_id"],
        "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness"],
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 8}},
        "synonyms": SYNONYMS,
        "pagination": {"maxTotalHits": 10_000},
        "faceting": {"maxValuesPerFacet": 200},
    }


# -- documents ----------------------------------------------------------------------------

def document_id(tenant_id: int, kind: str, object_id: int) -> str:
    return f"{kind}-{tenant_id}-{object_id}"


def price_range(price: int | None) -> str | None:
    if price is None:
        return None
    for key, low, high in PRICE_RANGES:
        if price >= low and (high is None or price < high):
            return key
    return None  # pragma: no cover - the last range is open-ended


def _label(slug: str | None, name: str | None) -> str | None:
    return f"{slug}{LABEL_SEPARATOR}{name or slug}" if slug else None


def document(entry: SearchEntry) -> dict[str, Any]:
    """The Meilisearch document of an index row: the same folded text the SQL backend searches."""
    published = entry.published_at
    return {
        "id": document_id(entry.tenant_id, entry.kind, entry.object_id),
        "tenant_id": entry.tenant_id, "kind": entry.kind, "object_id": entry.object_id,
        "title": entry.title, "title_folded": entry.title_folded, "body_folded": entry.body_folded,
        "squashed": entry.squashed,
        "category_slug": entry.category_slug, "category_name": entry.category_name,
        "ocop_stars": entry.ocop_stars, "price": entry.price, "price_range": price_range(entry.price),
        "seller_slug": entry.seller_slug, "seller_name": entry.seller_name,
        "commune_slug": entry.commune_slug, "commune_name": entry.commune_name,
        "category_facet": _label(entry.category_slug, entry.category_name),
        "seller_facet": _label(entry.seller_slug, entry.seller_name),
        "commune_facet": _label(entry.commune_slug, entry.commune_name),
        "published_at": published.isoformat() if published else None,
        "published_ts": int(published.timestamp()) if published else 0,
        "url": entry.url, "image_key": entry.image_key,
    }


# -- queries ------------------------------------------------------------------------------

def quote(value: str) -> str:
    """A string literal of Meilisearch's filter language."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tenant_filter(scope: Scope | None) -> list[str]:
    """The mandatory isolation filter: none for the platform, one commune otherwise, fail closed without scope."""
    if scope is None:
        raise TenantScopeError("search outside any tenant scope")
    return [] if scope.is_platform else [f"tenant_id = {int(scope.tenant_id or 0)}"]


def filter_expression(scope: Scope | None, query: SearchQuery) -> list[str]:
    """The query's filters in Meilisearch's syntax (an AND of the list's items); the tenant first."""
    filters = tenant_filter(scope)
    if query.kind:
        filters.append(f"kind = {quote(query.kind)}")
    if query.category:
        filters.append(f"category_slug = {quote(query.category)}")
    if query.ocop_stars:
        filters.append(f"ocop_stars IN [{', '.join(str(int(stars)) for stars in query.ocop_stars)}]")
    if query.price_min is not None:
        filters.append(f"price >= {int(query.price_min)}")
    if query.price_max is not None:
        filters.append(f"price <= {int(query.price_max)}")
    return filters


def sort_expression(query: SearchQuery) -> list[str]:
    newest = ["published_ts:desc", "object_id:desc"]
    sort = query.sort
    if sort == "relevance" and not terms(query.q):
        sort = "newest"  # nothing to be relevant to: the newest first, like the SQL backend
    if sort == "price_asc":
        return ["price:asc", *newest]
    if sort == "price_desc":
        return ["price:desc", *newest]
    if sort == "newest":
        return newest
    return []


def search_params(scope: Scope | None, query: SearchQuery) -> dict[str, Any]:
    per_page = max(1, min(query.per_page, 100))
    params: dict[str, Any] = {
        "filter": filter_expression(scope, query),
        "facets": list(FACET_ATTRIBUTES.values()),
        "page": max(query.page, 1),
        "hitsPerPage": per_page,
        "showRankingScore": True,
        "attributesToRetrieve": ["*"],
    }
    sort = sort_expression(query)
    if sort:
        params["sort"] = sort
    return params


def folded_query(text: str) -> str:
    return " ".join(terms(text))


def result_from(response: dict[str, Any], query: SearchQuery) -> SearchResult:
    hits = [_hit(hit) for hit in response.get("hits", [])]
    total = int(response.get("totalHits", response.get("estimatedTotalHits", len(hits))))
    facets: dict[str, list[FacetValue]] = {}
    distribution: dict[str, dict[str, int]] = response.get("facetDistribution") or {}
    if total:
        for name, attribute in FACET_ATTRIBUTES.items():
            values = [_facet_value(name, raw, count) for raw, count in distribution.get(attribute, {}).items()]
            if name == "price_range":
                order = [key for key, _low, _high in PRICE_RANGES]
                values.sort(key=lambda value: order.index(value.value) if value.value in order else len(order))
            else:
                values.sort(key=lambda value: (-value.count, value.value))
            facets[name] = values
    return SearchResult(hits=hits, total=total, page=max(query.page, 1), per_page=max(1, min(query.per_page, 100)),
                        facets=facets)


def _facet_value(name: str, raw: str, count: int) -> FacetValue:
    if FACET_ATTRIBUTES[name].endswith("_facet") and LABEL_SEPARATOR in raw:
        value, label = raw.split(LABEL_SEPARATOR, 1)
        return FacetValue(value, label, int(count))
    return FacetValue(raw, raw, int(count))


def _hit(hit: dict[str, Any]) -> SearchHit:
    published = hit.get("published_at")
    return SearchHit(
        kind=hit["kind"], object_id=int(hit["object_id"]), title=hit["title"], url=hit["url"],
        price=hit.get("price"), ocop_stars=hit.get("ocop_stars"), category_slug=hit.get("category_slug"),
        category_name=hit.get("category_name"), seller_slug=hit.get("seller_slug"),
        seller_name=hit.get("seller_name"), commune_slug=hit["commune_slug"], commune_name=hit["commune_name"],
        published_at=datetime.fromisoformat(published) if published else None, image_key=hit.get("image_key"),
        score=float(hit.get("_rankingScore", 0.0)),
    )


# -- the backend --------------------------------------------------------------------------

@dataclass(frozen=True)
class MeiliConfig:
    url: str
    key: str | None
    index: str
    timeout: int = 5
    public_url: str | None = None
    search_key: str | None = None
    search_key_uid: str | None = None

    @classmethod
    def from_app(cls) -> MeiliConfig:
        config = current_app.config
        if not config.get("MEILI_URL"):
            raise RuntimeError("SEARCH_BACKEND=meilisearch needs MEILI_URL")
        return cls(url=config["MEILI_URL"], key=config.get("MEILI_KEY") or None, index=config["MEILI_INDEX"],
                   timeout=int(config.get("MEILI_TIMEOUT", 5)), public_url=config.get("MEILI_PUBLIC_URL") or None,
                   search_key=config.get("MEILI_SEARCH_KEY") or None,
                   search_key_uid=config.get("MEILI_SEARCH_KEY_UID") or None)

    def client(self) -> meilisearch.Client:
        return meilisearch.Client(self.url, self.key, timeout=self.timeout)


class MeiliBackend:
    name = "meilisearch"

    def __init__(self, config: MeiliConfig) -> None:
        self.config = config
        self.client = config.client()
        self.index_ = self.client.index(config.index)

    # Writing: the SQL rows in this transaction, Meilisearch later through the outbox.
    def index(self, session: Session, docs: Sequence[SearchDocument]) -> None:
        SqlBackend().index(session, docs)
        enqueue_sync(session, [(doc.tenant_id, doc.kind, doc.object_id) for doc in docs])

    def remove(self, session: Session, kind: str, ids: Sequence[int]) -> None:
        rows = session.execute(select(SearchEntry.tenant_id, SearchEntry.object_id).where(
            SearchEntry.kind == kind, SearchEntry.object_id.in_(list(ids)))).all()
        SqlBackend().remove(session, kind, ids)
        enqueue_sync(session, [(tenant_id, kind, object_id) for tenant_id, object_id in rows])

    def search(self, session: Session, query: SearchQuery) -> SearchResult:
        params = search_params(scope_of(session), query)
        try:
            response = self.index_.search(folded_query(query.q), params)
        except (MeilisearchError, OSError) as error:
            raise SearchUnavailable("Search is unavailable for a moment; please try again.") from error
        return result_from(response, query)

    def suggest(self, session: Session, prefix: str, limit: int = 8) -> list[str]:
        params = {"filter": tenant_filter(scope_of(session)), "limit": limit * 2, "attributesToRetrieve": ["title"]}
        try:
            response = self.index_.search(folded_query(prefix), params)
        except (MeilisearchError, OSError) as error:
            raise SearchUnavailable("Search is unavailable for a moment; please try again.") from error
        return list(dict.fromkeys(hit["title"] for hit in response.get("hits", [])))[:limit]

    # Operator commands ---------------------------------------------------------------------

    def apply_settings(self) -> None:
        """Create the index if needed and apply its settings."""
        indexes = {index.uid for index in self.client.get_indexes({"limit": 1000})["results"]}
        if self.config.index not in indexes:
            self._wait(self.client.create_index(self.config.index, {"primaryKey": "id"}).task_uid)
        self._wait(self.index_.update_settings(index_settings()).task_uid)

    def search_key(self) -> tuple[str, str]:
        """(uid, key) of the search-only key that signs tenant tokens: configured, else found or made by name."""
        if self.config.search_key and self.config.search_key_uid:
            return self.config.search_key_uid, self.config.search_key
        name = f"{SEARCH_KEY_NAME} {self.config.index}"
        for key in self.client.get_keys({"limit": 1000}).results:
            if key.name == name:
                return key.uid, key.key
        key = self.client.create_key({"name": name, "description": "XaSo tenant tokens",
                                      "actions": ["search"], "indexes": [self.config.index], "expiresAt": None})
        return key.uid, key.key

    def push(self, session: Session, refs: Iterable[tuple[int, str, int]]) -> None:
        """Send the current state of these documents: upsert those indexed, delete the others."""
        wanted = set(refs)
        entries: list[SearchEntry] = []
        with scoped(session, PLATFORM):
            for kind in {kind for _tenant, kind, _id in wanted}:
                ids = [object_id for _tenant, each_kind, object_id in wanted if each_kind == kind]
                entries += session.scalars(select(SearchEntry).where(
                    SearchEntry.kind == kind, SearchEntry.object_id.in_(ids)))
        found = {(entry.tenant_id, entry.kind, entry.object_id): entry for entry in entries}
        present = wanted & found.keys()
        upserts = [document(found[ref]) for ref in sorted(present)]
        deletes = [document_id(*ref) for ref in sorted(wanted - present)]
        for start in range(0, len(upserts), PUSH_BATCH):
            self._wait(self.index_.add_documents(upserts[start:start + PUSH_BATCH], primary_key="id").task_uid)
        if deletes:
            self._wait(self.index_.delete_documents(list(deletes)).task_uid)

    def rebuild_tenant(self, session: Session, tenant_id: int) -> int:
        """Replace every document of a commune by its SQL rows (after ``reindex`` rebuilt them)."""
        self._wait(self.index_.delete_documents(filter=f"tenant_id = {int(tenant_id)}").task_uid)
        with scoped(session, Scope(tenant_id)):
            docs = [document(entry) for entry in session.scalars(select(SearchEntry).order_by(SearchEntry.id))]
        for start in range(0, len(docs), PUSH_BATCH):
            self._wait(self.index_.add_documents(docs[start:start + PUSH_BATCH], primary_key="id").task_uid)
        return len(docs)

    def tenant_token(self, tenant_id: int, ttl: timedelta = timedelta(hours=1)) -> dict[str, Any]:
        """A token for searching this commune straight from the browser, and where to send it."""
        uid, key = self.search_key()
        expires_at = datetime.now(UTC).replace(microsecond=0) + ttl
        rules = {self.config.index: {"filter": f"tenant_id = {int(tenant_id)}"}}
        token = self.client.generate_tenant_token(uid, rules, expires_at=expires_at, api_key=key)
        return {"host": self.config.public_url or self.config.url, "index": self.config.index, "token": token,
                "expires_at": expires_at}

    def _wait(self, task_uid: int) -> None:
        task = self.client.wait_for_task(task_uid, timeout_in_ms=TASK_TIMEOUT_MS)
        if task.status != "succeeded":
            raise RuntimeError(f"Meilisearch task {task_uid} {task.status}: {task.error}")


def enqueue_sync(session: Session, refs: Iterable[tuple[int, str, int]]) -> None:
    """One outbox message per document changed in this transaction."""
    for tenant_id, kind, object_id in dict.fromkeys(refs):
        outbox.enqueue(session, TOPIC, {"tenant_id": tenant_id, "kind": kind, "object_id": object_id},
                       tenant_id=tenant_id)


@outbox.handler(TOPIC)
def _deliver(session: Session, payloads: list[dict[str, Any]]) -> None:
    refs = [(int(p["tenant_id"]), str(p["kind"]), int(p["object_id"])) for p in payloads]
    MeiliBackend(MeiliConfig.from_app()).push(session, refs)
