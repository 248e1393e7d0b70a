"""The reporter's name, phone and e-mail never leave through a public page or the GeoJSON, in either language."""

from __future__ import annotations

import pytest

from service.engagement.models import ReportStatus
from tests.engagement.report_helpers import setup_categories

NAME = "Zacharias Quillfeather"
PHONE_TYPED = "0905 777 314"
PHONE_FORMS = ("0905777314", "+84905777314", "905777314", "0905 777 314", "84905777314")
EMAIL = "zq.secret-reporter@privacy.test"


@pytest.fixture
def filed(app, client, world):
    setup_categories(app, world.a)
    response = client.post("/c/cam-thanh/reports/new", data={
        "category": "ngap-ung", "description": "Đường ngập sâu trước chợ, xe không qua được", "address": "Chợ xã",
        "lat": "15.87", "long": "108.35", "name": NAME, "phone": PHONE_TYPED, "email": EMAIL,
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


def _assert_private(text: str) -> None:
    assert NAME not in text and "Quillfeather" not in text
    assert EMAIL not in text and "zq.secret-reporter" not in text
    for form in PHONE_FORMS:
        assert form not in text, form


def test_contact_appears_in_no_public_output(app, client, world, filed):
    from service.db import Scope, database
    from service.engagement import services

    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        report = services.report_by_code(session, filed)
        services.change_status(session, report, status=ReportStatus.ACKNOWLEDGED, public_note="Đã tiếp nhận.",
                               internal_note=f"Gọi lại cho {NAME} số {PHONE_TYPED}")
        session.commit()
    urls = [f"/c/cam-thanh/reports/{filed}", "/c/cam-thanh/reports", "/c/cam-thanh/reports?status=acknowledged",
            "/c/cam-thanh/reports?category=ngap-ung", "/c/cam-thanh/reports.geojson",
            f"/c/cam-thanh/reports/track?code={filed}", "/c/cam-thanh/reports/new?category=ngap-ung"]
    for lang in ("", "?lang=vi", "?lang=en"):
        for url in urls:
            full = url + (lang if "?" not in url else lang.replace("?", "&"))
            response = client.get(full, follow_redirects=True)
            assert response.status_code == 200, full
            assert filed in response.text or "new" in url, full
            _assert_private(response.text)


def test_the_sealed_contact_is_not_readable_in_the_database(app, world, filed):
    from sqlalchemy import select

    from service.db import PLATFORM, database
    from service.engagement.models import FieldReport, PrivateContact

    with database(app).session(PLATFORM) as session:
        sealed = session.scalars(select(PrivateContact.sealed)).one()
        report = session.scalars(select(FieldReport)).one()
        public_row = " ".join(str(getattr(report, column.key)) for column in FieldReport.__table__.columns)
    _assert_private(sealed)
    _assert_private(public_row)
