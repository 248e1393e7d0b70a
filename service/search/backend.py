"""The search backend protocol, its query and its result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.orm import Session

from service.search.documents import SearchDocument

Sort = Literal["relevance", "price_asc", "price_desc", "newest"]
SORTS: tuple[str, ...] = ("relevance", "price_asc", "price_desc", "newest")

# Price facet buckets in đồng: (key, lowest inclusive, highest exclusive).
PRICE_RANGES: tuple[tuple[str, int, int | None], ...] = (
    ("0-100000", 0, 100_000),
    ("100000-300000", 100_000, 300_000),
    ("300000-1000000", 300_000, 1_000_000),
    ("1000000-", 1_000_000, None),
)
FACETS: tuple[str, ...] = ("category", "ocop_stars", "price_range", "seller", "commune")


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    kind: str | None = None
    category: str | None = None
    ocop_stars: Sequence[int] = ()
    price_min: int | None = None
    price_max: int | None = None
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class SearchHit:
    kind: str
    object_id: int
    title: str
    url: str
    price: int | None
    ocop_stars: int | None
    category_slug: str | None
    category_name: str | None
    seller_slug: str | None
    seller_name: str | None
    commune_slug: str
    commune_name: str
    published_at: datetime | None
    image_key: str | None
    score: float = 0.0


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


@dataclass
class SearchResult:
    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)


class SearchBackend(Protocol):
    def index(self, session: Session, docs: Sequence[SearchDocument]) -> None: ...

    def remove(self, session: Session, kind: str, ids: Sequence[int]) -> None: ...

    def search(self, session: Session, query: SearchQuery) -> SearchResult: ...

    def suggest(self, session: Session, prefix: str, limit: int = 8) -> list[str]: ...
