"""The demo loader: a fresh commune gets departments, categories, templates and reports in every status."""

from __future__ import annotations

from sqlalchemy import func, select

from service.db import Scope, database
from service.engagement import services
from service.engagement.demo_reports import load_reports
from service.engagement.models import (
    Department,
    FieldReport,
    PrivateContact,
    ReportCategory,
    ReportStatus,
    ResponseTemplate,
)
from service.media.models import MediaAttachment
from service.media.storage import get_storage
from service.tenants.models import Tenant


def test_the_demo_fills_a_fresh_commune(app, client, world):
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        tenant = session.get(Tenant, world.a.id)
        load_reports(session, get_storage(), tenant)
        session.commit()
        reports = list(session.scalars(select(FieldReport)))
        assert {report.status for report in reports} == set(ReportStatus)
        assert len(reports) >= 10
        assert session.scalar(select(func.count(Department.id))) == 3
        categories = list(session.scalars(select(ReportCategory)))
        assert len(categories) == 6 and sum(bool(c.attributes) for c in categories) >= 2
        assert all(c.name_en and c.description_vi and c.department_id for c in categories)
        assert session.scalar(select(func.count(ResponseTemplate.id))) == 3
        assert any(services.is_overdue(report) for report in reports)
        assert any(report.public_note for report in reports)
        assert all(report.latitude is None or abs(report.latitude - 15.87) < 0.02 for report in reports)
        with_contact = session.scalar(select(func.count(PrivateContact.id)))
        assert 0 < with_contact < len(reports)
        assert session.scalar(select(func.count(MediaAttachment.id)).where(
            MediaAttachment.owner_type == "report")) == 2
        duplicate = next(r for r in reports if r.status == ReportStatus.DUPLICATE)
        assert duplicate.duplicate_of_id in {r.id for r in reports}
        created = sorted(report.created_at for report in reports)
        assert (created[-1] - created[0]).days >= 14  # spread over weeks
        for report in reports:
            assert [u.created_at for u in report.updates] == sorted(u.created_at for u in report.updates)
            assert report.updates[0].created_at == report.created_at
        codes = [report.code for report in reports]
    listing = client.get("/c/cam-thanh/reports")
    assert listing.status_code == 200 and listing.text.count("<circle") >= 9
    for code in codes:
        assert client.get(f"/c/cam-thanh/reports/{code}").status_code == 200
        assert client.get(f"/c/cam-thanh/reports/{code}?lang=en").status_code == 200
