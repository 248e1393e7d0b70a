"""Uploaded images (assets) and where they are shown (attachments to products, homestays, ...)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, TenantOwned, str_enum, utcnow


class AssetStatus(enum.StrEnum):
    PROCESSING = "processing"  # the upload is stored, variants are being made (background job)
    READY = "ready"
    FAILED = "failed"


class MediaAsset(TenantOwned, Base):
    """One uploaded image of a commune, stored once per content hash, shown through its variants.

    ``key`` is the folder of its variants (``<key>/<width>.webp``, ``<key>/<width>.jpg``); the
    original file is never kept public: it may carry the farmer's GPS position.
    """

    __tablename__ = "media_assets"
    __table_args__ = (UniqueConstraint("tenant_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the uploaded bytes
    status: Mapped[AssetStatus] = mapped_column(str_enum(AssetStatus, 12), default=AssetStatus.PROCESSING)
    original_format: Mapped[str] = mapped_column(String(8))
    original_name: Mapped[str] = mapped_column(String(200), default="")
    bytes: Mapped[int] = mapped_column()
    width: Mapped[int | None] = mapped_column()  # upright, after EXIF orientation
    height: Mapped[int | None] = mapped_column()
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    alt_vi: Mapped[str] = mapped_column(String(300), default="")
    alt_en: Mapped[str] = mapped_column(String(300), default="")
    error: Mapped[str] = mapped_column(String(300), default="")
    uploaded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_ready(self) -> bool:
        return self.status == AssetStatus.READY


class MediaAttachment(TenantOwned, Base):
    """An asset shown on an object, in order; position 0 is the cover."""

    __tablename__ = "media_attachments"
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_id", "asset_id"),
        Index("ix_media_attachments_owner", "tenant_id", "owner_type", "owner_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(20))  # "product", later "stay", "place", "report"
    owner_id: Mapped[int] = mapped_column()
    asset_id: Mapped[int] = mapped_column(ForeignKey("media_assets.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    asset = relationship(MediaAsset, lazy="joined")
