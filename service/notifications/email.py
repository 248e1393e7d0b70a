"""E-mail through the outbox: queued in the transaction of the change it tells about, sent after it.

``queue_email`` writes an outbox message; the relay (inline after the request, or the worker)
sends it with SMTP when ``SMTP_URL`` is set, else writes it as an ``.eml`` file under
``<instance>/mail/`` so that a laptop without a mail server can read what buyers would get.
A message carries its own Message-ID and file name from the start, so a retry after a crash
rewrites the same file and lets mail software drop the duplicate.

``order_email`` renders the buyer's e-mail about an order in the order's language from
``frontend_templates/emails/order_<kind>.txt`` (its first line is the subject).
"""

from __future__ import annotations

import os
import re
import secrets
import smtplib
import ssl
import tempfile
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask, current_app
from jinja2 import Environment, StrictUndefined
from sqlalchemy.orm import Session, object_session

from service.core.clock import format_local
from service.core.money import format_vnd
from service.db import utcnow
from service.jobs import outbox
from service.jobs.models import OutboxMessage
from service.orders.models import Order, SellerOrder
from service.tenants.models import Tenant

TOPIC = "email.send"
MAIL_FOLDER = "mail"
KINDS = ("placed", "paid", "shipped", "delivered", "canceled")
LANGUAGES = ("vi", "en")
# One address, nothing that could end a header line (the address comes from a checkout form).
ADDRESS_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_JINJA_KEY = "xaso_email_jinja"


# -- queueing and sending -------------------------------------------------------------------

def queue_email(session: Session, *, to: str, subject: str, body: str, tenant_id: int | None) -> OutboxMessage:
    """Send ``body`` to ``to`` once the caller's transaction commits (never if it rolls back)."""
    to = to.strip()
    if not ADDRESS_RE.match(to) or len(to) > 254:
        raise ValueError(f"not one e-mail address: {to!r}")
    queued_at = utcnow()
    payload = {"to": to, "subject": " ".join(subject.split())[:250], "body": body,
               "key": f"{queued_at:%Y%m%d-%H%M%S}-{secrets.token_hex(8)}", "queued_at": queued_at.isoformat()}
    return outbox.enqueue(session, TOPIC, payload, tenant_id=tenant_id)


def build_message(payload: dict[str, Any], sender: str) -> EmailMessage:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "xaso.local"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Date"] = format_datetime(datetime.fromisoformat(payload["queued_at"]))
    message["Message-ID"] = f"<{payload['key']}@{domain}>"
    message.set_content(payload["body"])  # UTF-8 text; headers with Vietnamese are encoded as needed
    return message


@outbox.handler(TOPIC, batch=False)
def _send(_session: Session, payloads: list[dict[str, Any]]) -> None:
    config = current_app.config
    for payload in payloads:
        message = build_message(payload, config["MAIL_FROM"])
        if config.get("SMTP_URL"):
            send_smtp(config["SMTP_URL"], message, timeout=float(config.get("SMTP_TIMEOUT", 10)))
        else:
            write_eml(mail_folder(current_app), payload["key"], message)


def mail_folder(app: Flask) -> Path:
    return Path(app.config["INSTANCE_PATH"]) / MAIL_FOLDER


def write_eml(folder: Path, key: str, message: EmailMessage) -> Path:
    """Write atomically: a reader never sees half a message, and a retry replaces the same file."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{key}.eml"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(message.as_bytes())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def send_smtp(url: str, message: EmailMessage, *, timeout: float = 10) -> None:
    """smtp://[user:pass@]host[:port][?starttls=1] or smtps://[user:pass@]host[:port] (implicit TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL looks like smtp://user:pass@host:587?starttls=1 or smtps://host:465")
    options = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
    starttls = options.get("starttls", "") in ("1", "true", "yes", "on")
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=timeout)
    with client:
        if starttls:
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


# -- order e-mails ----------------------------------------------------------------------------

def _jinja(app: Flask) -> Environment:
    """Plain text: no HTML escaping, block tags leave no blank lines, unknown names fail loudly."""
    environment = app.extensions.get(_JINJA_KEY)
    if environment is None:
        environment = Environment(loader=app.jinja_loader, autoescape=False, trim_blocks=True, lstrip_blocks=True,
                                  undefined=StrictUndefined)
        environment.filters["vnd"] = format_vnd
        environment.filters["local_time"] = format_local
        app.extensions[_JINJA_KEY] = environment
    return environment


def order_url(order: Order, commune_slug: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/c/{commune_slug}/orders/{order.secret}"


def order_email(order: Order, kind: str, part: SellerOrder | None = None) -> tuple[str, str]:
    """(subject, body) of the buyer's e-mail about ``order``: placed, paid, shipped, delivered or canceled.

    ``part`` narrows a shipped or delivered e-mail to one seller's parcel."""
    if kind not in KINDS:
        raise ValueError(f"unknown order e-mail {kind!r}; one of {', '.join(KINDS)}")
    session = object_session(order)
    tenant = session.get(Tenant, order.tenant_id) if session is not None else None
    if tenant is None:
        raise ValueError("the order must belong to a commune (a persistent order in a session)")
    language = order.language if order.language in LANGUAGES else "vi"
    template = _jinja(current_app).get_template(f"emails/order_{kind}.txt")
    text = template.render(order=order, part=part, parts=[part] if part is not None else list(order.parts),
                           commune=tenant, vi=language == "vi", url=order_url(order, tenant.slug))
    subject, _, body = text.strip().partition("\n")
    return " ".join(subject.split()), _tidy(body)


def _tidy(body: str) -> str:
    """At most one blank line in a row, no trailing spaces, one final newline."""
    lines = [line.rstrip() for line in body.strip("\n").splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip() + "\n"
