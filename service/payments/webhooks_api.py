"""Webhook endpoints of a commune: where its payment events are POSTed, signed (service.payments.webhooks).

Only the commune's administrators manage them. The signing secret is generated here, shown
once in the creation response and kept encrypted at rest; lists and reads never show it.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.services import record
from service.core.crypto import encrypt
from service.core.errors import Invalid, NotFound
from service.db import get_session
from service.payments.models import WebhookEndpoint
from service.payments.services import new_id
from service.payments.webhook_schemas import (
    DeletedSchema,
    ListArgsSchema,
    WebhookEndpointCreatedSchema,
    WebhookEndpointInSchema,
    WebhookEndpointListSchema,
    WebhookEndpointOutSchema,
)
from service.tenants.api import BEARER, COMMUNE_PARAMETER, COMMUNE_PREFIX, api_blueprint, errors, member_actor
from service.tenants.services import Actor

blp = api_blueprint("api_webhook_endpoints", __name__, COMMUNE_PREFIX,
                    "Webhook endpoints: where a commune's payment events are sent")
COMMUNE = [COMMUNE_PARAMETER]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SECRET_PREFIX = "whsec_"


def _no_such() -> NotFound:
    return NotFound("No such webhook_endpoint.", param="id", code="resource_missing")


def _admin() -> Actor:
    actor = member_actor(_no_such())
    actor.require(actor.is_admin, "Only the commune's administrators manage webhook endpoints.")
    return actor


# -- behaviour ------------------------------------------------------------------------------

def check_url(url: str, *, allow_loopback_http: bool) -> str:
    """https anywhere; plain http only to this machine, and only in development (a local receiver)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise Invalid("Put no credentials in the URL; check the XaSo-Signature header instead.", param="url",
                      code="url_invalid")
    loopback_http = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and allow_loopback_http
    if not parts.hostname or not (parts.scheme == "https" or loopback_http):
        raise Invalid("The URL must start with https:// (plain http only to 127.0.0.1 or localhost "
                      "in development).", param="url", code="url_invalid")
    if parts.fragment:
        raise Invalid("The URL cannot have a #fragment.", param="url", code="url_invalid")
    return url


def serialize(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"id": endpoint.public_id, "object": "webhook_endpoint", "url": endpoint.url,
            "description": endpoint.description, "enabled_events": list(endpoint.enabled_events or ["*"]),
            "status": "enabled" if endpoint.active else "disabled", "created": int(endpoint.created_at.timestamp())}


def create_endpoint(session: Session, actor: Actor, data: dict[str, Any], *,
                    allow_loopback_http: bool) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its signing secret (the only time the plaintext leaves this function)."""
    url = check_url(data["url"], allow_loopback_http=allow_loopback_http)
    events = list(dict.fromkeys(data.get("enabled_events") or ["*"]))
    if "*" in events:
        events = ["*"]
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(public_id=new_id("we"), url=url, description=(data.get("description") or "").strip(),
                               secret_encrypted=encrypt(secret), enabled_events=events, active=True)
    session.add(endpoint)
    session.flush()
    record(session, actor, "webhook_endpoint.created", endpoint, {"url": url, "enabled_events": events})
    return endpoint, secret


def get_endpoint(session: Session, public_id: str) -> WebhookEndpoint:
    endpoint = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.public_id == public_id)).first()
    if endpoint is None:
        raise _no_such()
    return endpoint


def list_endpoints(session: Session, limit: int, starting_after: str | None) -> tuple[list[WebhookEndpoint], bool]:
    """Newest first; ``starting_after`` continues after that endpoint. Returns (page, has_more)."""
    statement = select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc()).limit(limit + 1)
    if starting_after:
        try:
            cursor = get_endpoint(session, starting_after)
        except NotFound as error:
            raise Invalid("starting_after is not a webhook_endpoint of this commune.",
                          param="starting_after") from error
        statement = statement.where(WebhookEndpoint.id < cursor.id)
    rows = list(session.scalars(statement))
    return rows[:limit], len(rows) > limit


def delete_endpoint(session: Session, actor: Actor, endpoint: WebhookEndpoint) -> None:
    """Gone at once: deliveries still queued for it are skipped by the relay."""
    record(session, actor, "webhook_endpoint.deleted", endpoint, {"url": endpoint.url})
    session.delete(endpoint)


# -- the API --------------------------------------------------------------------------------

def _loopback_allowed() -> bool:
    return bool(current_app.config.get("DEVELOPMENT") or current_app.config.get("TESTING"))


@blp.route("/webhook_endpoints", methods=["POST"], parameters=COMMUNE, endpoint="create_webhook_endpoint")
@blp.arguments(WebhookEndpointInSchema)
@blp.response(201, WebhookEndpointCreatedSchema)
@blp.doc(security=BEARER)
@errors(blp, 401, 403, 404)
def create_webhook_endpoint(data: dict[str, Any]) -> Any:
    """Register a webhook endpoint (commune admins)

    The response holds the signing `secret` (`whsec_...`), shown only this once. Each event
    arrives as a JSON POST with `XaSo-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret,
    t + "." + body)>`; answer 2xx, anything else is retried with backoff for about a day.
    """
    actor = _admin()
    session = get_session()
    endpoint, secret = create_endpoint(session, actor, data, allow_loopback_http=_loopback_allowed())
    session.commit()
    return {**serialize(endpoint), "secret": secret}


@blp.route("/webhook_endpoints", parameters=COMMUNE)
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, WebhookEndpointListSchema)
@blp.doc(security=BEARER)
@errors(blp, 401, 403, 404)
def list_webhook_endpoints(args: dict[str, Any]) -> Any:
    """List the commune's webhook endpoints, newest first (commune admins)"""
    _admin()
    endpoints, has_more = list_endpoints(get_session(), args["limit"], args.get("starting_after"))
    return {"object": "list", "data": [serialize(endpoint) for endpoint in endpoints], "has_more": has_more,
            "url": request.path}


@blp.route("/webhook_endpoints/<public_id>", parameters=COMMUNE)
@blp.response(200, WebhookEndpointOutSchema)
@blp.doc(security=BEARER)
@errors(blp, 401, 403, 404)
def get_webhook_endpoint(public_id: str) -> Any:
    """A webhook endpoint, without its secret (commune admins)"""
    _admin()
    return serialize(get_endpoint(get_session(), public_id))


@blp.route("/webhook_endpoints/<public_id>", methods=["DELETE"], parameters=COMMUNE,
           endpoint="delete_webhook_endpoint")
@blp.response(200, DeletedSchema)
@blp.doc(security=BEARER)
@errors(blp, 401, 403, 404)
def delete_webhook_endpoint(public_id: str) -> Any:
    """Delete a webhook endpoint: no more events are sent to it (commune admins)"""
    actor = _admin()
    session = get_session()
    endpoint = get_endpoint(session, public_id)
    delete_endpoint(session, actor, endpoint)
    session.commit()
    return {"id": public_id, "object": "webhook_endpoint", "deleted": True}


def blueprints() -> list[Blueprint]:
    return [blp]
