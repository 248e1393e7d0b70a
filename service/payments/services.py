"""The PaymentIntent state machine, refunds and events: one place for every way money moves.

    requires_payment_method --confirm--> requires_action (VNPay redirect, VietQR code)
                                         processing      (cash on delivery, or paid and being confirmed)
    requires_action / processing --succeed--> succeeded --refund--> (amount_refunded grows)
    anything but succeeded --cancel--> canceled

Every change records a ``PaymentEvent`` (a snapshot of the object) in the same transaction;
webhooks are sent from the events through the outbox. Providers (service.payments.vnpay,
.vietqr) turn a confirmed intent into its ``next_action``; orders listen to successes and
cancellations through ``on``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, Invalid, NotFound
from service.db import PLATFORM, Scope, scoped, utcnow
from service.payments.models import IntentStatus, PaymentEvent, PaymentIntent, Refund, RefundStatus
from service.tenants.models import Tenant

METHODS = ("vnpay", "vietqr", "cod")
# How long a buyer has to pay before the intent (and the stock its order holds) is released.
PAY_WINDOW = {"vnpay": timedelta(minutes=15), "vietqr": timedelta(hours=24), "cod": None}
OPEN = (IntentStatus.REQUIRES_PAYMENT_METHOD, IntentStatus.REQUIRES_ACTION, IntentStatus.PROCESSING)

Listener = Callable[[Session, PaymentIntent], None]
_listeners: dict[str, list[Listener]] = {}
# Turns a confirmed intent into its next_action (set by the provider modules).
NextAction = Callable[[Session, PaymentIntent, dict[str, Any]], dict[str, Any] | None]
_next_actions: dict[str, NextAction] = {}


def on(event_type: str) -> Callable[[Listener], Listener]:
    """Run a function in the same transaction when an intent reaches a state (e.g. orders on success)."""

    def register(listener: Listener) -> Listener:
        _listeners.setdefault(event_type, []).append(listener)
        return listener

    return register


def provider(method: str) -> Callable[[NextAction], NextAction]:
    def register(function: NextAction) -> NextAction:
        _next_actions[method] = function
        return function

    return register


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


# -- reading ------------------------------------------------------------------------------

def get_intent(session: Session, public_id: str) -> PaymentIntent:
    intent = session.scalars(select(PaymentIntent).where(PaymentIntent.public_id == public_id)).first()
    if intent is None:
        raise NotFound("No such payment_intent.", param="id", code="resource_missing")
    return intent


def intent_by_provider_ref(session: Session, provider_ref: str) -> PaymentIntent | None:
    return session.scalars(select(PaymentIntent).where(PaymentIntent.provider_ref == provider_ref)).first()


def serialize_intent(intent: PaymentIntent) -> dict[str, Any]:
    """The intent as the API shows it (and as events keep it)."""
    return {
        "id": intent.public_id, "object": "payment_intent", "amount": intent.amount, "currency": intent.currency,
        "status": intent.status.value, "payment_method": intent.payment_method,
        "amount_received": intent.amount_received, "amount_refunded": intent.amount_refunded,
        "description": intent.description, "metadata": dict(intent.metadata_ or {}),
        "next_action": intent.next_action if intent.status == IntentStatus.REQUIRES_ACTION else None,
        "order": intent.metadata_.get("order_number") if intent.metadata_ else None,
        "last_payment_error": {"message": intent.last_error} if intent.last_error else None,
        "cancellation_reason": intent.cancellation_reason or None,
        "created": int(intent.created_at.timestamp()),
        "expires_at": int(intent.expires_at.timestamp()) if intent.expires_at else None,
        "livemode": False,
    }


def serialize_refund(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.public_id, "object": "refund", "amount": refund.amount, "currency": "vnd",
        "payment_intent": refund.payment_intent.public_id, "status": refund.status.value, "reason": refund.reason,
        "failure_reason": refund.failure_reason or None, "created": int(refund.created_at.timestamp()),
    }


# -- events -------------------------------------------------------------------------------

def record_event(session: Session, event_type: str, obj: dict[str, Any]) -> PaymentEvent:
    event = PaymentEvent(public_id=new_id("evt"), type=event_type, data={"object": obj})
    session.add(event)
    session.flush()
    from service.payments.webhooks import enqueue_deliveries  # late: webhooks build on events

    enqueue_deliveries(session, event)
    return event


def _changed(session: Session, intent: PaymentIntent, event_type: str) -> None:
    session.flush()
    record_event(session, event_type, serialize_intent(intent))
    for listener in _listeners.get(event_type, []):
        listener(session, intent)


# -- the state machine --------------------------------------------------------------------

def create_intent(session: Session, *, amount: int, payment_method: str | None = None, description: str = "",
                  metadata: dict[str, Any] | None = None, order_id: int | None = None,
                  seller_order_id: int | None = None, booking_id: int | None = None,
                  context: dict[str, Any] | None = None) -> PaymentIntent:
    if amount <= 0:
        raise Invalid("The amount must be a positive whole number of đồng.", param="amount")
    intent = PaymentIntent(public_id=new_id("pi"), amount=amount, description=description[:300],
                           metadata_=dict(metadata or {}), order_id=order_id, seller_order_id=seller_order_id,
                           booking_id=booking_id,
                           status=IntentStatus.REQUIRES_PAYMENT_METHOD)
    session.add(intent)
    session.flush()
    record_event(session, "payment_intent.created", serialize_intent(intent))
    if payment_method:
        confirm(session, intent, payment_method, context or {})
    return intent


def confirm(session: Session, intent: PaymentIntent, payment_method: str, context: dict[str, Any]) -> PaymentIntent:
    """Choose how to pay: VNPay and VietQR need the buyer's action, cash on delivery is processing at once."""
    if payment_method not in METHODS:
        raise Invalid(f"payment_method must be one of {', '.join(METHODS)}.", param="payment_method")
    if intent.status not in (IntentStatus.REQUIRES_PAYMENT_METHOD, IntentStatus.REQUIRES_ACTION):
        raise Conflict(f"A {intent.status.value} payment_intent cannot be confirmed.", param="status",
                       code="payment_intent_unexpected_state")
    intent.payment_method = payment_method
    window = PAY_WINDOW[payment_method]
    intent.expires_at = utcnow() + window if window else None
    next_action = _next_actions[payment_method](session, intent, context) if payment_method in _next_actions \
        else None
    intent.next_action = next_action
    if next_action:
        intent.status = IntentStatus.REQUIRES_ACTION
        _changed(session, intent, "payment_intent.requires_action")
    else:
        intent.status = IntentStatus.PROCESSING
        _changed(session, intent, "payment_intent.processing")
    return intent


def succeed(session: Session, intent: PaymentIntent, amount_received: int, *, transaction_no: str = "",
            pay_date: str = "") -> PaymentIntent:
    """The money arrived (VNPay IPN, a seller's confirmation of a transfer, cash collected)."""
    if intent.status == IntentStatus.SUCCEEDED:
        raise Conflict("This payment_intent has already succeeded.", code="payment_intent_already_succeeded")
    if intent.status == IntentStatus.CANCELED:
        raise Conflict("This payment_intent was canceled.", code="payment_intent_unexpected_state")
    if amount_received != intent.amount:
        raise Invalid("The amount paid does not match the payment_intent.", param="amount", code="amount_mismatch")
    intent.status = IntentStatus.SUCCEEDED
    intent.amount_received = amount_received
    intent.provider_transaction_no = transaction_no or intent.provider_transaction_no
    intent.provider_pay_date = pay_date or intent.provider_pay_date
    intent.succeeded_at = utcnow()
    intent.last_error = ""
    _changed(session, intent, "payment_intent.succeeded")
    return intent


def payment_failed(session: Session, intent: PaymentIntent, message: str) -> PaymentIntent:
    """The buyer's attempt failed (declined, abandoned at the bank): they may try again."""
    if intent.status not in OPEN:
        return intent
    intent.last_error = message[:300]
    _changed(session, intent, "payment_intent.payment_failed")
    return intent


def cancel(session: Session, intent: PaymentIntent, reason: str = "requested_by_customer") -> PaymentIntent:
    if intent.status == IntentStatus.CANCELED:
        return intent
    if intent.status == IntentStatus.SUCCEEDED:
        raise Conflict("A succeeded payment_intent cannot be canceled; refund it instead.", param="status",
                       code="payment_intent_unexpected_state")
    intent.status = IntentStatus.CANCELED
    intent.cancellation_reason = reason[:40]
    intent.canceled_at = utcnow()
    _changed(session, intent, "payment_intent.canceled")
    return intent


def expire_due(session: Session) -> int:
    """Cancel intents nobody paid in time (their orders release the stock); returns how many."""
    due = list(session.scalars(select(PaymentIntent).where(
        PaymentIntent.status == IntentStatus.REQUIRES_ACTION, PaymentIntent.expires_at <= utcnow())))
    for intent in due:
        cancel(session, intent, "expired")
    return len(due)


# -- refunds ------------------------------------------------------------------------------

RefundSender = Callable[[Session, PaymentIntent, Refund], None]
_refund_senders: dict[str, RefundSender] = {}


def refund_sender(method: str) -> Callable[[RefundSender], RefundSender]:
    """How a provider returns money (VNPay's refund API); without one, the refund is recorded as done by hand."""

    def register(function: RefundSender) -> RefundSender:
        _refund_senders[method] = function
        return function

    return register


def create_refund(session: Session, intent: PaymentIntent, amount: int | None = None,
                  reason: str = "requested_by_customer") -> Refund:
    if intent.status != IntentStatus.SUCCEEDED:
        raise Conflict("Only a succeeded payment_intent can be refunded.", param="payment_intent",
                       code="payment_intent_unexpected_state")
    refundable = intent.amount_received - intent.amount_refunded
    if refundable <= 0:
        raise Conflict("This payment_intent is already fully refunded.", code="charge_already_refunded")
    amount = refundable if amount is None else amount
    if amount <= 0 or amount > refundable:
        raise Invalid(f"The refund must be between 1 and {refundable} đồng.", param="amount",
                      code="amount_too_large" if amount > refundable else "invalid_value")
    refund = Refund(public_id=new_id("re"), payment_intent=intent, amount=amount, reason=reason[:40],
                    status=RefundStatus.PENDING)
    session.add(refund)
    session.flush()
    sender = _refund_senders.get(intent.payment_method or "")
    if sender is not None:
        sender(session, intent, refund)  # sets SUCCEEDED or FAILED (with the provider's reason)
    else:
        refund.status = RefundStatus.SUCCEEDED  # transfer or cash: the seller gives the money back by hand
    if refund.status == RefundStatus.SUCCEEDED:
        intent.amount_refunded += refund.amount
        record_event(session, "charge.refunded", serialize_intent(intent))
    record_event(session, f"refund.{'failed' if refund.status == RefundStatus.FAILED else 'created'}",
                 serialize_refund(refund))
    return refund


def expire_everywhere(session: Session) -> int:
    """``expire_due`` in every commune, each in its own scope (a job or the CLI; checkout does its own)."""
    with scoped(session, PLATFORM):
        tenant_ids = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    expired = 0
    for tenant_id in tenant_ids:
        with scoped(session, Scope(tenant_id)):
            expired += expire_due(session)
            session.commit()
    return expired
