"""An order of a buyer in one commune, split into one part per seller, each with its lines."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, TenantOwned, Timestamped, str_enum


class PaymentMethod(enum.StrEnum):
    VNPAY = "vnpay"
    VIETQR = "vietqr"
    COD = "cod"


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"  # VNPay or VietQR: the stock is held until expires_at
    PLACED = "placed"  # paid, or cash on delivery: the sellers fulfil their parts
    COMPLETED = "completed"  # every part delivered or cancelled
    CANCELED = "canceled"  # never paid, or cancelled: the stock went back


class FulfilmentStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMED = "confirmed"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELED = "canceled"


class Order(TenantOwned, Timestamped, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24))  # shown to people: "CT-261127-0042"
    secret: Mapped[str] = mapped_column(String(64), unique=True)  # the buyer's link to the order page
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.AWAITING_PAYMENT)
    payment_method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod, 10))
    buyer_name: Mapped[str] = mapped_column(String(120))
    buyer_phone: Mapped[str] = mapped_column(String(20))
    buyer_email: Mapped[str] = mapped_column(String(254), default="")
    province: Mapped[str] = mapped_column(String(80))
    district: Mapped[str] = mapped_column(String(80))
    ward: Mapped[str] = mapped_column(String(80))
    street: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="vi")  # of the buyer's e-mails
    subtotal: Mapped[int] = mapped_column()  # đồng
    shipping_fee: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()  # unpaid after this: cancelled, stock released
    placed_at: Mapped[datetime | None] = mapped_column()
    canceled_at: Mapped[datetime | None] = mapped_column()
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")

    parts: Mapped[list[SellerOrder]] = relationship(
        back_populates="order", lazy="selectin", order_by="SellerOrder.id", cascade="all, delete-orphan")


class SellerOrder(TenantOwned, Timestamped, Base):
    """One seller's part of an order: what that seller packs and ships."""

    __tablename__ = "seller_orders"
    __table_args__ = (UniqueConstraint("order_id", "seller_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="RESTRICT"), index=True)
    status: Mapped[FulfilmentStatus] = mapped_column(str_enum(FulfilmentStatus),
                                                     default=FulfilmentStatus.AWAITING_PAYMENT)
    subtotal: Mapped[int] = mapped_column()
    tracking_note: Mapped[str] = mapped_column(String(300), default="")
    confirmed_at: Mapped[datetime | None] = mapped_column()
    packed_at: Mapped[datetime | None] = mapped_column()
    shipped_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    canceled_at: Mapped[datetime | None] = mapped_column()

    order: Mapped[Order] = relationship(back_populates="parts", lazy="joined")
    seller = relationship("Seller", lazy="joined")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="part", lazy="selectin", order_by="OrderLine.id", cascade="all, delete-orphan")


class OrderLine(TenantOwned, Base):
    """A product as it was bought: title and price copied, so later edits do not change the order."""

    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_order_id: Mapped[int] = mapped_column(ForeignKey("seller_orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(150))
    unit: Mapped[str] = mapped_column(String(40), default="")
    unit_price: Mapped[int] = mapped_column()
    quantity: Mapped[int] = mapped_column()
    line_total: Mapped[int] = mapped_column()

    part: Mapped[SellerOrder] = relationship(back_populates="lines")
