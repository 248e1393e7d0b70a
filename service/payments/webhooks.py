"""Outgoing webhooks, signed like Stripe's and delivered through the outbox (retried with its backoff).

``XaSo-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` lets a receiver
check the body came from us and is fresh (reject old ``t`` to stop replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.crypto import decrypt
from service.db import PLATFORM, scoped
from service.jobs import outbox
from service.payments.models import PaymentEvent, WebhookEndpoint

TOPIC = "webhook.deliver"
SIGNATURE_HEADER = "XaSo-Signature"
TIMEOUT_SECONDS = 10


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_body(event: PaymentEvent) -> bytes:
    return json.dumps({"id": event.public_id, "object": "event", "type": event.type,
                       "created": int(event.created_at.timestamp()), "data": event.data},
                      ensure_ascii=False, separators=(",", ":")).encode()


def _wants(endpoint: WebhookEndpoint, event_type: str) -> bool:
    events = endpoint.enabled_events or ["*"]
    return "*" in events or event_type in events


def enqueue_deliveries(session: Session, event: PaymentEvent) -> None:
    """One outbox message per endpoint that wants this event, in the event's transaction."""
    endpoints = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))).all()
    for endpoint in endpoints:
        if _wants(endpoint, event.type):
            outbox.enqueue(session, TOPIC, {"endpoint_id": endpoint.id, "event_id": event.id},
                           tenant_id=event.tenant_id)


@outbox.handler(TOPIC, batch=False)
def _deliver(session: Session, payloads: list[dict[str, Any]]) -> None:
    """POST each event to its endpoint; any failure (network, non-2xx) makes the batch retry later."""
    with scoped(session, PLATFORM):
        for payload in payloads:
            endpoint = session.get(WebhookEndpoint, int(payload["endpoint_id"]))
            event = session.get(PaymentEvent, int(payload["event_id"]))
            if endpoint is None or event is None or not endpoint.active:
                continue
            body = event_body(event)
            headers = {"Content-Type": "application/json", "User-Agent": "XaSo-Webhooks/1.0",
                       SIGNATURE_HEADER: sign(decrypt(endpoint.secret_encrypted), body, int(time.time()))}
            response = requests.post(endpoint.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS,
                                     allow_redirects=False)
            if not 200 <= response.status_code < 300:
                raise RuntimeError(f"{endpoint.url} answered {response.status_code}")
