"""Stripe-shaped payment objects: intents, refunds, events, idempotency records, webhook endpoints,
and each commune's provider credentials (encrypted at rest)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, TenantOwned, str_enum, utcnow


class IntentStatus(enum.StrEnum):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_ACTION = "requires_action"  # the buyer must pay at VNPay or scan the VietQR code
    PROCESSING = "processing"  # paid at the provider, its confirmation not yet received
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentIntent(TenantOwned, Base):
    __tablename__ = "payment_intents"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("amount_refunded >= 0 AND amount_refunded <= amount_received", name="refund_within_paid"),
        Index("ix_payment_intents_tenant_created", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # "pi_..."
    amount: Mapped[int] = mapped_column()  # đồng
    currency: Mapped[str] = mapped_column(String(3), default="vnd")
    status: Mapped[IntentStatus] = mapped_column(str_enum(IntentStatus, 30),
                                                 default=IntentStatus.REQUIRES_PAYMENT_METHOD)
    payment_method: Mapped[str | None] = mapped_column(String(10))  # vnpay | vietqr | cod
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    seller_order_id: Mapped[int | None] = mapped_column(ForeignKey("seller_orders.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    next_action: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The provider's references: vnp_TxnRef we send, vnp_TransactionNo and vnp_PayDate it answers.
    provider_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    provider_transaction_no: Mapped[str] = mapped_column(String(64), default="")
    provider_pay_date: Mapped[str] = mapped_column(String(14), default="")
    amount_received: Mapped[int] = mapped_column(default=0)
    amount_refunded: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    cancellation_reason: Mapped[str] = mapped_column(String(40), default="")
    expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    succeeded_at: Mapped[datetime | None] = mapped_column()
    canceled_at: Mapped[datetime | None] = mapped_column()

    refunds: Mapped[list[Refund]] = relationship(back_populates="payment_intent", lazy="selectin",
                                                 order_by="Refund.id")


class Refund(TenantOwned, Base):
    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # "re_..."
    payment_intent_id: Mapped[int] = mapped_column(ForeignKey("payment_intents.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column()
    status: Mapped[RefundStatus] = mapped_column(str_enum(RefundStatus), default=RefundStatus.PENDING)
    reason: Mapped[str] = mapped_column(String(40), default="requested_by_customer")
    provider_ref: Mapped[str] = mapped_column(String(64), default="")
    failure_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    payment_intent: Mapped[PaymentIntent] = relationship(back_populates="refunds")


class PaymentEvent(TenantOwned, Base):
    """What happened, as a snapshot of the object then: the events API and webhooks read these."""

    __tablename__ = "payment_events"
    __table_args__ = (Index("ix_payment_events_tenant_created", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # "evt_..."
    type: Mapped[str] = mapped_column(String(60))  # "payment_intent.succeeded", ...
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"object": {...}}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyRecord(TenantOwned, Base):
    """The first response to a POST with an Idempotency-Key, replayed for the same key and body."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    request_path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    status_code: Mapped[int] = mapped_column()
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(TenantOwned, Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # "we_..."
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(300), default="")
    secret_encrypted: Mapped[str] = mapped_column(Text)  # "whsec_..." encrypted with service.core.crypto
    enabled_events: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["*"])
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaymentSettings(TenantOwned, Base):
    """A commune's own VNPay merchant credentials; without them the platform's defaults apply."""

    __tablename__ = "payment_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vnpay_tmn_code: Mapped[str] = mapped_column(String(20), default="")
    vnpay_hash_secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
