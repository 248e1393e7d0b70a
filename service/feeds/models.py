"""A commune's feed settings: who may fetch its feeds and how its CSV is laid out."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned, str_enum, utcnow


class FeedAccess(enum.StrEnum):
    PUBLIC = "public"  # anyone with the URL (marketplaces that crawl without credentials)
    TOKEN = "token"  # the URL must carry ?token=<secret> (or Authorization: Bearer <secret>)


class FeedSettings(TenantOwned, Base):
    __tablename__ = "feed_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    access: Mapped[FeedAccess] = mapped_column(str_enum(FeedAccess, 10), default=FeedAccess.PUBLIC)
    token_hash: Mapped[str] = mapped_column(String(64), default="")  # SHA-256 of the feed token
    token_prefix: Mapped[str] = mapped_column(String(12), default="")  # shown to staff to tell tokens apart
    csv_preset: Mapped[str] = mapped_column(String(40), default="postmart")
    # Custom CSV layout: [{"header": "Tên sản phẩm", "field": "title"}, ...]; empty = the preset's columns.
    csv_columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
