"""Field-report test data, built through the real services (a department, categories with attributes, reports)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from service.db import Scope, database
from service.engagement import services
from service.engagement.models import Department, FieldReport, ReportCategory, ReportStatus

LIGHT_ATTRIBUTES = [{"code": "loai-su-co", "datatype": "singlevaluelist", "required": True, "order": 1,
                     "description_vi": "Loại sự cố", "description_en": "What is wrong",
                     "values": [{"key": "khong-sang", "name_vi": "Không sáng", "name_en": "Not lit"},
                                {"key": "chap-chon", "name_vi": "Chập chờn", "name_en": "Flickering"}]}]
FLOOD_ATTRIBUTES = [{"code": "do-sau-cm", "datatype": "number", "required": False, "order": 1,
                     "description_vi": "Độ sâu (cm)", "description_en": "Depth (cm)"}]
LITTER_ATTRIBUTES = [{"code": "loai-rac", "datatype": "multivaluelist", "required": False, "order": 1,
                      "description_vi": "Loại rác", "description_en": "Kind of waste",
                      "values": [{"key": "sinh-hoat", "name_vi": "Rác sinh hoạt", "name_en": "Household"},
                                 {"key": "nhua", "name_vi": "Nhựa", "name_en": "Plastic"}]}]


def setup_categories(app: Flask, commune: Any) -> None:
    """A department and three categories (street light, flooding, litter) in the commune."""
    with app.app_context(), database(app).session(Scope(commune.id)) as session:
        department = Department(code="dia-chinh", name_vi="Địa chính - Xây dựng", name_en="Land and construction")
        session.add(department)
        session.flush()
        for position, (code, vi, en, attributes) in enumerate((
                ("den-duong", "Đèn đường hỏng", "Street light out", LIGHT_ATTRIBUTES),
                ("ngap-ung", "Ngập úng", "Flooding", FLOOD_ATTRIBUTES),
                ("rac-thai", "Rác thải", "Litter", LITTER_ATTRIBUTES))):
            session.add(ReportCategory(code=code, name_vi=vi, name_en=en, description_vi=f"Mô tả {vi}",
                                       attributes=attributes, position=position, department_id=department.id,
                                       deadline_days=5))
        session.commit()


def file_report(app: Flask, commune: Any, *, category: str = "ngap-ung", description: str = "Đường ngập sâu sau mưa",
                address: str = "Thôn 1", latitude: float | None = 15.87, longitude: float | None = 108.35,
                contact: services.Contact | None = None, attributes: dict[str, Any] | None = None,
                steps: tuple[tuple[ReportStatus, str, str], ...] = (), hidden: bool = False) -> str:
    """A report filed and moved through ``steps`` (status, public note, internal note); returns its code."""
    with app.app_context(), database(app).session(Scope(commune.id)) as session:
        report = services.submit_report(
            session, category=services.category_by_code(session, category), description=description,
            location=services.check_location(address, latitude, longitude), contact=contact or services.Contact(),
            attributes=attributes)
        for status, public_note, internal_note in steps:
            services.change_status(session, report, status=status, public_note=public_note,
                                   internal_note=internal_note)
        report.is_hidden = hidden
        session.commit()
        return report.code


def report(app: Flask, commune: Any, code: str) -> FieldReport | None:
    from sqlalchemy import select

    with database(app).session(Scope(commune.id)) as session:
        found = session.scalars(select(FieldReport).where(FieldReport.code == code)).first()
        if found is not None:
            session.expunge(found)
        return found
