"""Polls for tests, made through the services, and the SMS code read back from the outbox."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.db import PLATFORM, Scope, database, utcnow
from service.engagement import polls
from service.engagement.models import Poll
from service.jobs.models import OutboxMessage
from service.notifications.sms import TOPIC
from service.tenants.services import SYSTEM

PHONE = "0905 123 456"
PHONE_INTL = "+84905123456"


def make_poll(app: Flask, tenant_id: int, question: str = "Chọn ngày tổ chức Lễ hội Cầu Ngư",
              answers: tuple[str, ...] = ("Mùng 10", "Thứ Bảy", "Chủ nhật"), visibility: str = "after_vote",
              status: str = "published", opens_in: timedelta | None = timedelta(days=-1),
              closes_in: timedelta | None = timedelta(days=7), **extra: Any) -> Poll:
    now = utcnow()
    data: dict[str, Any] = {
        "question_vi": question, "question_en": extra.pop("question_en", ""), "results_visibility": visibility,
        "status": status, "opens_at": now + opens_in if opens_in is not None else None,
        "closes_at": now + closes_in if closes_in is not None else None,
        "options": [polls.OptionInput(None, label, f"{label} (en)") for label in answers], **extra}
    with app.app_context(), database(app).session(Scope(tenant_id)) as session:
        poll = polls.create_poll(session, SYSTEM, data)
        session.commit()
        poll.options  # noqa: B018 - loaded before the session closes
        return poll


def sms_codes(app: Flask) -> list[tuple[str, str]]:
    """(to, code) of every SMS queued, oldest first."""
    with database(app).session(PLATFORM) as session:
        messages = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == TOPIC)
                                   .order_by(OutboxMessage.id))
        return [(m.payload["to"], re.search(r"\b(\d{6})\b", m.payload["text"]).group(1))  # type: ignore[union-attr]
                for m in messages]


def last_code(app: Flask) -> str:
    return sms_codes(app)[-1][1]


def verify_phone(client: FlaskClient, app: Flask, slug: str, phone: str = PHONE, commune: str = "cam-thanh") -> None:
    """The whole phone step through the pages: number, code from the SMS, verified."""
    base = f"/c/{commune}/polls/{slug}"
    response = client.post(f"{base}/phone", data={"phone": phone})
    assert response.status_code == 303, response.get_data(as_text=True)
    response = client.post(f"{base}/verify", data={"code": last_code(app)})
    assert response.status_code == 303, response.get_data(as_text=True)
