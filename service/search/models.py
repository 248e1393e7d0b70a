"""The SQL search index: one row per indexed object, folded text and facet columns.

SQLite adds FTS5 tables kept in sync by triggers; PostgreSQL a generated tsvector column
and trigram indexes (see migration 0002). Neither is mapped: the backend reaches them in SQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned, utcnow


class SearchEntry(TenantOwned, Base):
    __tablename__ = "search_entries"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(300))
    title_folded: Mapped[str] = mapped_column(String(300))
    body_folded: Mapped[str] = mapped_column(Text, default="")
    squashed: Mapped[str] = mapped_column(String(300))
    category_slug: Mapped[str | None] = mapped_column(String(80))
    category_name: Mapped[str | None] = mapped_column(String(120))
    ocop_stars: Mapped[int | None] = mapped_column()
    price: Mapped[int | None] = mapped_column()
    seller_slug: Mapped[str | None] = mapped_column(String(80))
    seller_name: Mapped[str | None] = mapped_column(String(160))
    commune_slug: Mapped[str] = mapped_column(String(63))
    commune_name: Mapped[str] = mapped_column(String(120))
    published_at: Mapped[datetime | None] = mapped_column()
    url: Mapped[str] = mapped_column(String(300))
    image_key: Mapped[str | None] = mapped_column(String(255))
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)


SEARCH_TABLE = cast(Table, SearchEntry.__table__)
