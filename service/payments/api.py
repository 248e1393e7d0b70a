"""Stripe-shaped JSON API of a commune's payments: payment_intents, refunds and events.

Under ``/api/v1/communes/<commune>/``, for the commune's staff (admins and editors) with a
bearer token; others get 404 (not a member) or 403 (a member without the role). Every POST
honours ``Idempotency-Key`` (service.payments.idempotency), which also commits: views here
never do. The state machine and the bodies are service.payments.services'.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask_smorest import Blueprint
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from service.core.errors import Invalid, NotFound
from service.db import get_session
from service.payments import services as payments
from service.payments.idempotency import idempotent
from service.payments.models import PaymentEvent, PaymentIntent, Refund
from service.payments.schemas import (
    EventListArgsSchema,
    EventListSchema,
    EventOutSchema,
    IntentCancelSchema,
    IntentConfirmSchema,
    IntentCreateSchema,
    IntentListSchema,
    IntentOutSchema,
    ListArgsSchema,
    RefundCreateSchema,
    RefundListArgsSchema,
    RefundListSchema,
    RefundOutSchema,
)
from service.payments.webhooks import event_body
from service.tenants.api import (
    API_PREFIX,
    BEARER,
    COMMUNE_PARAMETER,
    COMMUNE_PREFIX,
    api_blueprint,
    errors,
    member_actor,
)
from service.tenants.services import Actor
from service.tenants.web import require_tenant

intents_blp = api_blueprint("api_payment_intents", __name__, COMMUNE_PREFIX,
                            "PaymentIntents: one payment from its creation to success, Stripe-shaped")
refunds_blp = api_blueprint("api_refunds", __name__, COMMUNE_PREFIX, "Refunds of succeeded payments")
events_blp = api_blueprint("api_payment_events", __name__, COMMUNE_PREFIX,
                           "Events: what happened to payments (also sent to webhook endpoints)")
COMMUNE = [COMMUNE_PARAMETER]
# Redirect-based methods need to know where to send the buyer back.
NEEDS_RETURN_URL = ("vnpay",)


def _staff() -> Actor:
    actor = member_actor()
    actor.require(actor.is_staff, "Only the commune's administrators and editors can use the payments API.")
    return actor


def _list_url(resource: str) -> str:
    return f"{API_PREFIX}/communes/{require_tenant().slug}/{resource}"


def _context(data: dict[str, Any]) -> dict[str, Any]:
    """What providers need besides the intent (see payments.services.confirm)."""
    return {"return_url": data.get("return_url") or "", "ip_address": request.remote_addr or "127.0.0.1",
            "locale": data["locale"], "commune_slug": require_tenant().slug}


def _require_return_url(method: str | None, data: dict[str, Any]) -> None:
    if method in NEEDS_RETURN_URL and not data.get("return_url"):
        raise Invalid(f"return_url is required to pay with {method}.", param="return_url", code="parameter_missing")


def _locked_intent(session: Session, public_id: str, param: str = "id") -> PaymentIntent:
    """The intent, its row locked until commit: two refunds (or a refund and a cancel) at once take turns."""
    intent = session.scalars(select(PaymentIntent).where(PaymentIntent.public_id == public_id)
                             .with_for_update()).first()
    if intent is None:
        raise NotFound(f"No such payment_intent: '{public_id}'.", param=param)
    return intent


def _page(session: Session, model: Any, stmt: Select[Any], args: dict[str, Any], url: str) -> dict[str, Any]:
    """A Stripe list: newest first; ``starting_after`` pages to older objects, ``ending_before`` to newer."""
    limit = args["limit"]
    after, before = args.get("starting_after"), args.get("ending_before")
    if after:
        stmt = stmt.where(model.id < _cursor(session, model, after, "starting_after")).order_by(model.id.desc())
    elif before:
        stmt = stmt.where(model.id > _cursor(session, model, before, "ending_before")).order_by(model.id.asc())
    else:
        stmt = stmt.order_by(model.id.desc())
    rows = list(session.scalars(stmt.limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if before:
        rows.reverse()
    return {"object": "list", "data": rows, "has_more": has_more, "url": url}


def _cursor(session: Session, model: Any, public_id: str, param: str) -> int:
    row_id = session.scalar(select(model.id).where(model.public_id == public_id))
    if row_id is None:
        raise NotFound(f"No such object: '{public_id}'.", param=param)
    return int(row_id)


def serialize_event(event: PaymentEvent) -> dict[str, Any]:
    # Exactly the body webhook endpoints receive for this event.
    parsed: dict[str, Any] = json.loads(event_body(event))
    return parsed


# ---------------------------------------------------------------------------
# PaymentIntents

WRITE_ERRORS = (400, 401, 403, 404, 409, 422)


@intents_blp.route("/payment_intents", methods=["POST"], parameters=COMMUNE, endpoint="create_payment_intent")
@idempotent(authorize=_staff)
@intents_blp.arguments(IntentCreateSchema)
@intents_blp.response(200, IntentOutSchema)
@intents_blp.doc(security=BEARER)
@errors(intents_blp, *WRITE_ERRORS)
def create_payment_intent(data: dict[str, Any]) -> Any:
    """Create a PaymentIntent

    `amount` in whole đồng, `currency` `vnd`. With `confirm: true` and a `payment_method`
    (`vnpay` needs a `return_url`) it is confirmed at once: `requires_action` with a
    `next_action` for VNPay and VietQR, `processing` for cash on delivery. VietQR pays a
    seller's bank account, so only checkout (which knows the seller) can confirm with it.
    """
    _staff()
    method = data.get("payment_method")
    if data["confirm"] and not method:
        raise Invalid("payment_method is required with confirm: true.", param="payment_method",
                      code="parameter_missing")
    if method and not data["confirm"]:
        raise Invalid("payment_method is chosen when confirming: send confirm: true, or confirm later.",
                      param="confirm")
    _require_return_url(method, data)
    intent = payments.create_intent(get_session(), amount=data["amount"], payment_method=method,
                                    description=data["description"], metadata=data["metadata"],
                                    context=_context(data))
    return payments.serialize_intent(intent)


@intents_blp.route("/payment_intents", parameters=COMMUNE)
@intents_blp.arguments(ListArgsSchema, location="query")
@intents_blp.response(200, IntentListSchema)
@intents_blp.doc(security=BEARER)
@errors(intents_blp, 401, 403, 404, 422)
def list_payment_intents(args: dict[str, Any]) -> Any:
    """List PaymentIntents, newest first

    Page with `starting_after` (the last id you have) while `has_more` is true.
    """
    _staff()
    page = _page(get_session(), PaymentIntent, select(PaymentIntent), args, _list_url("payment_intents"))
    page["data"] = [payments.serialize_intent(intent) for intent in page["data"]]
    return page


@intents_blp.route("/payment_intents/<intent_id>", parameters=COMMUNE)
@intents_blp.response(200, IntentOutSchema)
@intents_blp.doc(security=BEARER)
@errors(intents_blp, 401, 403, 404)
def get_payment_intent(intent_id: str) -> Any:
    """Retrieve a PaymentIntent"""
    _staff()
    return payments.serialize_intent(payments.get_intent(get_session(), intent_id))


@intents_blp.route("/payment_intents/<intent_id>/confirm", methods=["POST"], parameters=COMMUNE)
@idempotent(authorize=_staff)
@intents_blp.arguments(IntentConfirmSchema)
@intents_blp.response(200, IntentOutSchema)
@intents_blp.doc(security=BEARER)
@errors(intents_blp, *WRITE_ERRORS)
def confirm_payment_intent(data: dict[str, Any], intent_id: str) -> Any:
    """Confirm a PaymentIntent with a payment method

    Allowed while `requires_payment_method` or `requires_action` (to switch method or try
    again); others answer 409 `payment_intent_unexpected_state`.
    """
    _staff()
    session = get_session()
    intent = _locked_intent(session, intent_id)
    method = data.get("payment_method") or intent.payment_method
    if not method:
        raise Invalid("payment_method is required.", param="payment_method", code="parameter_missing")
    _require_return_url(method, data)
    payments.confirm(session, intent, method, _context(data))
    return payments.serialize_intent(intent)


@intents_blp.route("/payment_intents/<intent_id>/cancel", methods=["POST"], parameters=COMMUNE)
@idempotent(authorize=_staff)
@intents_blp.arguments(IntentCancelSchema)
@intents_blp.response(200, IntentOutSchema)
@intents_blp.doc(security=BEARER)
@errors(intents_blp, *WRITE_ERRORS)
def cancel_payment_intent(data: dict[str, Any], intent_id: str) -> Any:
    """Cancel a PaymentIntent

    Any status but `succeeded` (refund that instead: 409). The order it pays for, if any,
    is cancelled with it and its stock released.
    """
    _staff()
    session = get_session()
    intent = payments.cancel(session, _locked_intent(session, intent_id), data["cancellation_reason"])
    return payments.serialize_intent(intent)


# ---------------------------------------------------------------------------
# Refunds


@refunds_blp.route("/refunds", methods=["POST"], parameters=COMMUNE, endpoint="create_refund")
@idempotent(authorize=_staff)
@refunds_blp.arguments(RefundCreateSchema)
@refunds_blp.response(200, RefundOutSchema)
@refunds_blp.doc(security=BEARER)
@errors(refunds_blp, *WRITE_ERRORS)
def create_refund(data: dict[str, Any]) -> Any:
    """Refund a succeeded PaymentIntent, in full or in part

    Without `amount`, what remains of the paid amount. More than remains answers 422
    `amount_too_large`; a fully refunded intent 409 `charge_already_refunded`; an intent
    that has not succeeded 409 `payment_intent_unexpected_state`. VNPay payments are
    refunded through VNPay; transfers and cash are recorded as given back by hand.
    """
    _staff()
    session = get_session()
    intent = _locked_intent(session, data["payment_intent"], param="payment_intent")
    refund = payments.create_refund(session, intent, data.get("amount"), data["reason"])
    return payments.serialize_refund(refund)


@refunds_blp.route("/refunds", parameters=COMMUNE)
@refunds_blp.arguments(RefundListArgsSchema, location="query")
@refunds_blp.response(200, RefundListSchema)
@refunds_blp.doc(security=BEARER)
@errors(refunds_blp, 401, 403, 404, 422)
def list_refunds(args: dict[str, Any]) -> Any:
    """List refunds, newest first (optionally of one `payment_intent`)"""
    _staff()
    session = get_session()
    stmt = select(Refund)
    if args.get("payment_intent"):
        stmt = stmt.where(Refund.payment_intent_id == _cursor(session, PaymentIntent, args["payment_intent"],
                                                              "payment_intent"))
    page = _page(session, Refund, stmt, args, _list_url("refunds"))
    page["data"] = [payments.serialize_refund(refund) for refund in page["data"]]
    return page


@refunds_blp.route("/refunds/<refund_id>", parameters=COMMUNE)
@refunds_blp.response(200, RefundOutSchema)
@refunds_blp.doc(security=BEARER)
@errors(refunds_blp, 401, 403, 404)
def get_refund(refund_id: str) -> Any:
    """Retrieve a refund"""
    _staff()
    refund = get_session().scalars(select(Refund).where(Refund.public_id == refund_id)).first()
    if refund is None:
        raise NotFound(f"No such refund: '{refund_id}'.", param="id")
    return payments.serialize_refund(refund)


# ---------------------------------------------------------------------------
# Events


@events_blp.route("/events", parameters=COMMUNE)
@events_blp.arguments(EventListArgsSchema, location="query")
@events_blp.response(200, EventListSchema)
@events_blp.doc(security=BEARER)
@errors(events_blp, 401, 403, 404, 422)
def list_events(args: dict[str, Any]) -> Any:
    """List events, newest first

    `type` filters by one type (`payment_intent.succeeded`) or a group (`payment_intent.*`).
    """
    _staff()
    session = get_session()
    stmt = select(PaymentEvent)
    wanted = args.get("type")
    if wanted and wanted.endswith(".*"):
        stmt = stmt.where(PaymentEvent.type.startswith(wanted[:-1], autoescape=True))
    elif wanted:
        stmt = stmt.where(PaymentEvent.type == wanted)
    page = _page(session, PaymentEvent, stmt, args, _list_url("events"))
    page["data"] = [serialize_event(event) for event in page["data"]]
    return page


@events_blp.route("/events/<event_id>", parameters=COMMUNE)
@events_blp.response(200, EventOutSchema)
@events_blp.doc(security=BEARER)
@errors(events_blp, 401, 403, 404)
def get_event(event_id: str) -> Any:
    """Retrieve an event"""
    _staff()
    event = get_session().scalars(select(PaymentEvent).where(PaymentEvent.public_id == event_id)).first()
    if event is None:
        raise NotFound(f"No such event: '{event_id}'.", param="id")
    return serialize_event(event)


def blueprints() -> list[Blueprint]:
    return [intents_blp, refunds_blp, events_blp]
