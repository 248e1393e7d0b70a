"""Staff-side field-report test data, built through the real services: departments, categories, reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import PLATFORM, Scope, database
from service.engagement import configuration as config
from service.engagement import services
from service.engagement.models import FieldReport
from service.jobs.models import OutboxMessage

LIGHT_ATTRIBUTES = ("so-cot | string | no | Số cột đèn | Pole number\n"
                    "muc-do | singlevaluelist | yes | Mức độ | How bad | "
                    "tat=Tắt hẳn/Off; chap-chon=Chập chờn/Flickering\n"
                    "gio | multivaluelist | no | Thời điểm | When | toi=Buổi tối/Evening; dem=Ban đêm/Night\n"
                    "so-bong | number | no | Số bóng hỏng | Broken bulbs")


@contextmanager
def commune_session(app: Flask, commune_id: int) -> Iterator[Session]:
    """A session scoped to one commune, inside a request context (translations, URLs), committed at the end."""
    with app.test_request_context("/"), database(app).session(Scope(commune_id)) as session:
        yield session
        session.commit()


def setup_commune(app: Flask, commune_id: int) -> dict[str, int]:
    """Two departments (one with an e-mail) and two categories; ids by name."""
    with commune_session(app, commune_id) as session:
        land = config.create_department(session, {"code": "dia-chinh", "name_vi": "Địa chính - Xây dựng",
                                                  "name_en": "Land and construction", "email": "diachinh@xa.test"})
        culture = config.create_department(session, {"code": "van-hoa", "name_vi": "Văn hóa - Xã hội"})
        light = config.create_category(session, {"code": "den-duong", "name_vi": "Đèn đường hỏng",
                                                 "name_en": "Street light out", "department_id": land.id,
                                                 "deadline_days": 3, "attributes": LIGHT_ATTRIBUTES})
        litter = config.create_category(session, {"code": "rac-thai", "name_vi": "Rác thải", "name_en": "Litter",
                                                  "deadline_days": 7, "position": 1})
        return {"land": land.id, "culture": culture.id, "light": light.id, "litter": litter.id}


def file(session: Session, category: str = "rac-thai", *, contact: services.Contact | None = None,
         language: str = "vi", attributes: dict[str, Any] | None = None,
         description: str = "Rác đổ bừa bãi cạnh chợ") -> FieldReport:
    return services.submit_report(session, category=services.category_by_code(session, category),
                                  description=description, location=services.check_location("Thôn 2, Cẩm Thanh"),
                                  contact=contact or services.Contact(), language=language,
                                  attributes=attributes if attributes is not None else (
                                      {"muc-do": "tat"} if category == "den-duong" else {}))


def outbox(app: Flask, topic: str | None = None) -> list[dict[str, Any]]:
    with database(app).session(PLATFORM) as session:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if topic:
            stmt = stmt.where(OutboxMessage.topic == topic)
        return [message.payload for message in session.scalars(stmt)]
