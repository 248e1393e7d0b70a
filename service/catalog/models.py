from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, TenantOwned, Timestamped, str_enum


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Seller(TenantOwned, Timestamped, Base):
    """A household business or cooperative of the commune."""

    __tablename__ = "sellers"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(160))
    phone: Mapped[str] = mapped_column(String(20), default="")
    village: Mapped[str] = mapped_column(String(120), default="")  # thôn / ấp
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # The account that sells for itself; None for a household with no smartphone.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Consent for the digital-technology team to list on the household's behalf.
    assisted_listing_consent: Mapped[bool] = mapped_column(default=False)
    consent_note: Mapped[str] = mapped_column(String(300), default="")
    consent_recorded_at: Mapped[datetime | None] = mapped_column()
    is_active: Mapped[bool] = mapped_column(default=True)
    # Where VietQR transfers for this seller's sales go: NAPAS bank BIN, account number and holder.
    bank_bin: Mapped[str] = mapped_column(String(6), default="")
    bank_account_number: Mapped[str] = mapped_column(String(19), default="")
    bank_account_name: Mapped[str] = mapped_column(String(70), default="")

    user = relationship("User", lazy="joined")


class Category(TenantOwned, Timestamped, Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(default=0)


class Product(TenantOwned, Timestamped, Base):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("ocop_stars IS NULL OR ocop_stars BETWEEN 3 AND 5", name="ocop_stars_range"),
        CheckConstraint("weight_grams IS NULL OR weight_grams > 0", name="weight_positive"),
        Index("ix_products_tenant_status_published", "tenant_id", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120))
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="RESTRICT"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"), index=True)
    title_vi: Mapped[str] = mapped_column(String(150))
    title_en: Mapped[str] = mapped_column(String(150), default="")
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int] = mapped_column()  # đồng
    unit: Mapped[str] = mapped_column(String(40), default="")  # "chai 500 ml", "kg"
    stock: Mapped[int] = mapped_column(default=0)
    ocop_stars: Mapped[int | None] = mapped_column()
    ocop_certificate_number: Mapped[str] = mapped_column(String(60), default="")
    ocop_certificate_year: Mapped[int | None] = mapped_column()
    status: Mapped[ProductStatus] = mapped_column(str_enum(ProductStatus), default=ProductStatus.DRAFT)
    review_note: Mapped[str] = mapped_column(String(500), default="")
    is_featured: Mapped[bool] = mapped_column(default=False)
    cover_key: Mapped[str | None] = mapped_column(String(255))
    published_at: Mapped[datetime | None] = mapped_column()
    # For marketplaces and postal shipping: the brand (empty: the seller's name), a GTIN barcode when the
    # product has one (most farm products do not), and the shipping weight with packaging.
    brand: Mapped[str] = mapped_column(String(70), default="")
    gtin: Mapped[str] = mapped_column(String(14), default="")
    weight_grams: Mapped[int | None] = mapped_column()

    seller = relationship(Seller, lazy="joined")
    category = relationship(Category, lazy="joined")
