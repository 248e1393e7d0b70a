"""Marshmallow schemas of the payments API: Stripe's parameter names, our rules (đồng, VND only).

Inputs refuse unknown fields (a misspelt ``ammount`` is an error, not silently ignored). The
output schemas document what ``services.serialize_intent`` and friends produce; those
functions remain the one serialization.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from service.catalog.schemas import WholeNumber
from service.core.money import MAX_PRICE_VND
from service.payments.models import IntentStatus, RefundStatus
from service.payments.services import METHODS

MAX_METADATA_KEYS = 20
MAX_LIMIT = 100
DEFAULT_LIMIT = 10
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
LOCALES = ("vn", "en")  # VNPay's vnp_Locale values


def _metadata() -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=40)),
        values=fields.String(validate=validate.Length(max=500)),
        load_default=dict,
        validate=validate.Length(max=MAX_METADATA_KEYS, error=f"At most {MAX_METADATA_KEYS} keys."),
        metadata={"description": f"Your own string keys and values, at most {MAX_METADATA_KEYS}."},
    )


def _payment_method(description: str) -> fields.String:
    return fields.String(validate=validate.OneOf(METHODS), metadata={"description": description})


def _return_url() -> fields.Url:
    return fields.Url(schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=500),
                      metadata={"description": "Where VNPay sends the buyer back (required for `vnpay`)."})


def _locale() -> fields.String:
    return fields.String(load_default="vn", validate=validate.OneOf(LOCALES),
                         metadata={"description": "Language of VNPay's payment page."})


class IntentCreateSchema(Schema):
    amount = WholeNumber(required=True, strict=True, validate=validate.Range(min=1, max=MAX_PRICE_VND),
                         metadata={"description": "Whole đồng (VND has no minor unit)."})
    currency = fields.String(load_default="vnd", validate=validate.OneOf(["vnd"]))
    payment_method = _payment_method("How the buyer pays; needs `confirm: true`.")
    confirm = fields.Boolean(load_default=False,
                             metadata={"description": "Confirm at once with `payment_method`."})
    description = fields.String(load_default="", validate=validate.Length(max=300))
    metadata = _metadata()
    return_url = _return_url()
    locale = _locale()


class IntentConfirmSchema(Schema):
    payment_method = _payment_method("How the buyer pays; defaults to the one chosen before.")
    return_url = _return_url()
    locale = _locale()


class IntentCancelSchema(Schema):
    cancellation_reason = fields.String(load_default="requested_by_customer",
                                        validate=validate.OneOf(CANCELLATION_REASONS))


class RefundCreateSchema(Schema):
    payment_intent = fields.String(required=True, validate=validate.Length(min=1, max=40),
                                   metadata={"description": "The id of a succeeded payment_intent (`pi_...`)."})
    amount = WholeNumber(strict=True, validate=validate.Range(min=1, max=MAX_PRICE_VND),
                         metadata={"description": "Whole đồng; the rest of what was paid if left out."})
    reason = fields.String(load_default="requested_by_customer", validate=validate.OneOf(REFUND_REASONS))


# ---------------------------------------------------------------------------
# Lists: cursors as Stripe has them


class ListArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": f"How many objects, 1 to {MAX_LIMIT}."})
    starting_after = fields.String(validate=validate.Length(min=1, max=40),
                                   metadata={"description": "An object id: the page of older objects after it."})
    ending_before = fields.String(validate=validate.Length(min=1, max=40),
                                  metadata={"description": "An object id: the page of newer objects before it."})

    @validates_schema
    def _one_cursor(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("starting_after") and data.get("ending_before"):
            raise ValidationError("Send starting_after or ending_before, not both.", "ending_before")


class RefundListArgsSchema(ListArgsSchema):
    payment_intent = fields.String(validate=validate.Length(min=1, max=40),
                                   metadata={"description": "Only the refunds of this payment_intent."})


class EventListArgsSchema(ListArgsSchema):
    type = fields.String(validate=validate.Length(min=1, max=60),
                         metadata={"description": "An event type, or a group such as `payment_intent.*`."})


class IntentOutSchema(Schema):
    id = fields.String(required=True, metadata={"example": "pi_3f9a0c1b2d4e5f60718293a4"})
    object = fields.Constant("payment_intent", required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in IntentStatus]))
    payment_method = fields.String(allow_none=True)
    amount_received = fields.Integer(required=True)
    amount_refunded = fields.Integer(required=True)
    description = fields.String(required=True)
    metadata = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    # A plain dict so that whatever a provider puts there reaches the client unchanged.
    next_action = fields.Dict(allow_none=True, metadata={
        "description": "While `requires_action`: `{type: redirect_to_url, redirect_to_url: {url, ...}}` for "
                       "VNPay or `{type: display_qr, display_qr: {...}}` for VietQR."})
    order = fields.String(allow_none=True, metadata={"description": "The order number, for checkout's intents."})
    last_payment_error = fields.Dict(allow_none=True)
    cancellation_reason = fields.String(allow_none=True)
    created = fields.Integer(required=True, metadata={"description": "Unix time."})
    expires_at = fields.Integer(allow_none=True, metadata={"description": "Unix time; unpaid after it: canceled."})
    livemode = fields.Boolean(required=True)


class RefundOutSchema(Schema):
    id = fields.String(required=True, metadata={"example": "re_3f9a0c1b2d4e5f60718293a4"})
    object = fields.Constant("refund", required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    payment_intent = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in RefundStatus]))
    reason = fields.String(required=True)
    failure_reason = fields.String(allow_none=True)
    created = fields.Integer(required=True)


class EventOutSchema(Schema):
    id = fields.String(required=True, metadata={"example": "evt_3f9a0c1b2d4e5f60718293a4"})
    object = fields.Constant("event", required=True)
    type = fields.String(required=True, metadata={"example": "payment_intent.succeeded"})
    created = fields.Integer(required=True)
    data = fields.Dict(required=True, metadata={"description": "`{object}`: the object as it was then."})


class _ListOutSchema(Schema):
    object = fields.Constant("list", required=True)
    has_more = fields.Boolean(required=True)
    url = fields.String(required=True)


class IntentListSchema(_ListOutSchema):
    data = fields.List(fields.Nested(IntentOutSchema), required=True)


class RefundListSchema(_ListOutSchema):
    data = fields.List(fields.Nested(RefundOutSchema), required=True)


class EventListSchema(_ListOutSchema):
    data = fields.List(fields.Nested(EventOutSchema), required=True)
