"""The one way to page through a query, for pages and API alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

DEFAULT_PER_PAGE = 24
MAX_PER_PAGE = 100
# Far past any real listing; bounds the OFFSET so that a made-up page number cannot overflow it.
MAX_PAGE = 10_000


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_more(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    def as_dict(self, data: list[Any]) -> dict[str, Any]:
        return {
            "data": data,
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
            "pages": self.pages,
            "has_more": self.has_more,
        }


def clamp(page: int | None, per_page: int | None) -> tuple[int, int]:
    page = min(MAX_PAGE, max(1, page or 1))
    per_page = min(MAX_PER_PAGE, max(1, per_page or DEFAULT_PER_PAGE))
    return page, per_page


def paginate(session: Session, stmt: Select[Any], page: int | None, per_page: int | None) -> Page[Any]:
    page, per_page = clamp(page, per_page)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)
