"""SMS through the outbox, like e-mail: queued in the transaction of the change it tells about.

With ``SMS_GATEWAY_URL`` set, the relay POSTs ``{"to": "+84...", "text": "...", "id": "<key>"}`` as JSON
with ``Authorization: Bearer <SMS_GATEWAY_TOKEN>`` (the shape of the brand-name SMS gateways' HTTP
APIs; ``id`` lets the gateway drop a retry it already sent). Without it, each message is written
to ``<instance>/sms/<key>.txt`` so that a laptop shows what a phone would get.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import requests
from flask import current_app
from sqlalchemy.orm import Session

from service.core.contact import normalize_phone
from service.db import utcnow
from service.jobs import outbox
from service.jobs.models import OutboxMessage

TOPIC = "sms.send"
SMS_FOLDER = "sms"
MAX_LENGTH = 480  # three concatenated Unicode SMS parts; longer texts are cut, never split into more


def queue_sms(session: Session, *, to: str, text: str, tenant_id: int | None) -> OutboxMessage:
    """Send ``text`` to the phone ``to`` once the caller's transaction commits."""
    number = normalize_phone(to)
    body = " ".join(text.split())
    if len(body) > MAX_LENGTH:
        body = body[: MAX_LENGTH - 1] + "…"
    payload = {"to": number, "text": body, "key": f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(8)}"}
    return outbox.enqueue(session, TOPIC, payload, tenant_id=tenant_id)


@outbox.handler(TOPIC, batch=False)
def _send(_session: Session, payloads: list[dict[str, Any]]) -> None:
    config = current_app.config
    for payload in payloads:
        if config.get("SMS_GATEWAY_URL"):
            send_http(config["SMS_GATEWAY_URL"], config.get("SMS_GATEWAY_TOKEN", ""), payload,
                      timeout=float(config.get("SMS_TIMEOUT", 10)))
        else:
            write_text(sms_folder(), payload)


def send_http(url: str, token: str, payload: dict[str, Any], *, timeout: float) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.post(url, json={"to": payload["to"], "text": payload["text"], "id": payload["key"]},
                             headers=headers, timeout=timeout)
    response.raise_for_status()  # the outbox retries later with backoff


def sms_folder() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / SMS_FOLDER


def write_text(folder: Path, payload: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{payload['key']}.txt"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(f"To: {payload['to']}\n\n{payload['text']}\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
