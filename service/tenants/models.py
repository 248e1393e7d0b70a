from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, TenantOwned, Timestamped, str_enum, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VOLUNTEER = "volunteer"
    SELLER = "seller"


STAFF_ROLES = frozenset({Role.ADMIN, Role.EDITOR})


class Tenant(Timestamped, Base):
    """A commune (xã). Platform-level: not itself tenant-owned."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    district: Mapped[str] = mapped_column(String(120), default="")
    province: Mapped[str] = mapped_column(String(120), default="")
    tagline_vi: Mapped[str] = mapped_column(String(200), default="")
    tagline_en: Mapped[str] = mapped_column(String(200), default="")
    story_vi: Mapped[str] = mapped_column(Text, default="")
    story_en: Mapped[str] = mapped_column(Text, default="")
    primary_color: Mapped[str] = mapped_column(String(7), default="#1f6f50")
    cover_key: Mapped[str | None] = mapped_column(String(255))
    # A commune may also be served on its own host (xa-camthanh.gov.vn, say).
    custom_domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)


class Membership(TenantOwned, Timestamped, Base):
    """A user's role in one commune."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User", lazy="joined")
