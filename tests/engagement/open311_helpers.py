"""Open311 test data built through the services, inside a commune's scope: departments, categories
(Open311 services) with attributes, reports and API keys."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from service.db import Scope, database
from service.engagement import services
from service.engagement.models import Department, FieldReport, ReportCategory
from service.engagement.open311_keys import create_key

LIGHT_ATTRIBUTES: list[dict[str, Any]] = [
    {"code": "pole_type", "datatype": "singlevaluelist", "required": True, "order": 1,
     "description_vi": "Loại cột đèn", "description_en": "Kind of pole",
     "values": [{"key": "concrete", "name_vi": "Cột bê tông", "name_en": "Concrete pole"},
                {"key": "steel", "name_vi": "Cột thép", "name_en": "Steel pole"}]},
    {"code": "hazards", "datatype": "multivaluelist", "required": False, "order": 2,
     "description_vi": "Nguy hiểm kèm theo", "description_en": "Hazards",
     "values": [{"key": "wire", "name_vi": "Dây điện rơi", "name_en": "Fallen wire"},
                {"key": "dark", "name_vi": "Đường tối", "name_en": "Dark road"}]},
    {"code": "note", "datatype": "string", "required": False, "order": 3,
     "description_vi": "Ghi chú thêm", "description_en": "Extra note"},
]


@contextmanager
def in_commune(app: Flask, tenant_id: int) -> Iterator[Session]:
    """A session scoped to one commune, inside a request context (the services read the config), committed."""
    with app.test_request_context():
        session = database(app).session(Scope(tenant_id))
        try:
            yield session
            session.commit()
        finally:
            session.close()


def add_services(app: Flask, tenant_id: int) -> None:
    """Two services: street lights (with attributes, handled by a department) and litter (none)."""
    with in_commune(app, tenant_id) as session:
        department = Department(code="dia-chinh", name_vi="Địa chính - Xây dựng", name_en="Land and construction")
        session.add(department)
        session.flush()
        session.add(ReportCategory(code="den-duong", name_vi="Đèn đường hỏng", name_en="Broken street light",
                                   description_vi="Đèn không sáng & chập chờn", description_en="Light out",
                                   group_vi="Hạ tầng", group_en="Infrastructure", keywords="đèn, chiếu sáng",
                                   department_id=department.id, deadline_days=5, attributes=LIGHT_ATTRIBUTES,
                                   position=1))
        session.add(ReportCategory(code="rac-thai", name_vi="Rác thải", name_en="Litter", group_vi="Môi trường",
                                   group_en="Environment", deadline_days=3, attributes=[], position=2))


def add_report(app: Flask, tenant_id: int, service_code: str = "rac-thai", *,
               description: str = "Rác đổ bên bờ sông Hoài", address: str = "Thôn Võng Nhi",
               lat: float | None = 15.8801, lon: float | None = 108.3705, attributes: dict[str, Any] | None = None,
               contact: services.Contact | None = None, media_url: str = "") -> str:
    """A web report filed through ``submit_report``; returns its code (the service_request_id)."""
    with in_commune(app, tenant_id) as session:
        category = services.category_by_code(session, service_code)
        report = services.submit_report(
            session, category=category, description=description,
            location=services.check_location(address=address, latitude=lat, longitude=lon),
            contact=contact or services.Contact(),
            attributes=attributes if attributes is not None else (
                {"pole_type": "concrete"} if service_code == "den-duong" else {}),
            media_url=media_url)
        return report.code


def report_row(app: Flask, tenant_id: int, code: str) -> FieldReport:
    with in_commune(app, tenant_id) as session:
        report = services.report_by_code(session, code, public=False)
        session.expunge(report)
        return report


def new_key(app: Flask, tenant_id: int, name: str = "Ứng dụng Đô thị thông minh") -> str:
    with in_commune(app, tenant_id) as session:
        _key, plaintext = create_key(session, name)
        return plaintext


def xml(response: Any) -> ET.Element:
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8", response.headers["Content-Type"]
    body = response.get_data(as_text=True)
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.get_data())


def json_of(response: Any) -> Any:
    assert response.headers["Content-Type"].startswith("application/json"), response.headers["Content-Type"]
    return response.get_json()


def children(element: ET.Element) -> dict[str, str]:
    """An element's simple children as {tag: text}."""
    return {child.tag: (child.text or "") for child in element}
