"""Schemas of the webhook endpoints API (Stripe-shaped)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

# What an endpoint can subscribe to ("*": everything); the events that service.payments.services records.
EVENT_TYPES = (
    "payment_intent.created",
    "payment_intent.requires_action",
    "payment_intent.processing",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
    "refund.created",
    "refund.failed",
)


class WebhookEndpointInSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    url = fields.String(required=True, validate=validate.Length(min=1, max=500),
                        metadata={"description": "Where events are POSTed: an https URL (plain http only to "
                                                 "127.0.0.1 or localhost in development)"})
    enabled_events = fields.List(fields.String(validate=validate.OneOf(("*", *EVENT_TYPES))),
                                 load_default=lambda: ["*"], validate=validate.Length(min=1, max=len(EVENT_TYPES)),
                                 metadata={"description": "Event types to send, or [\"*\"] for all"})
    description = fields.String(load_default="", validate=validate.Length(max=300))


class ListArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100),
                           metadata={"description": "How many to return, 1 to 100"})
    starting_after = fields.String(metadata={"description": "An endpoint id: return those created after it"})


class WebhookEndpointOutSchema(Schema):
    id = fields.String(required=True, metadata={"example": "we_4f1c2b..."})
    object = fields.Constant("webhook_endpoint")
    url = fields.String(required=True)
    description = fields.String()
    enabled_events = fields.List(fields.String(), required=True)
    status = fields.String(required=True, metadata={"description": "enabled or disabled"})
    created = fields.Integer(required=True, metadata={"description": "Unix time"})


class WebhookEndpointCreatedSchema(WebhookEndpointOutSchema):
    secret = fields.String(required=True, metadata={
        "description": "The signing secret (whsec_...), shown only in this response: keep it to verify "
                       "XaSo-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, t + \".\" + body)>"})


class WebhookEndpointListSchema(Schema):
    object = fields.Constant("list")
    data = fields.List(fields.Nested(WebhookEndpointOutSchema), required=True)
    has_more = fields.Boolean(required=True)
    url = fields.String()


class DeletedSchema(Schema):
    id = fields.String(required=True)
    object = fields.Constant("webhook_endpoint")
    deleted = fields.Boolean(required=True)
