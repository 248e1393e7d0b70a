"""Staff triage of field reports in the admin: who may see it, the list with its filters and overdue badges,
the report page with the private contact and the full history, each action, and the configuration pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.db import PLATFORM, database
from service.engagement import services
from service.engagement.models import (
    Department,
    FieldReport,
    ReportCategory,
    ReportStatus,
    ResponseTemplate,
)
from service.jobs.models import OutboxMessage
from tests.admin.helpers import sign_in, text
from tests.engagement.triage_helpers import commune_session, file, setup_commune

ADMIN = "/c/cam-thanh/admin"
CONTACT = services.Contact(name="Trần Thị Bích", phone="+84905111222", email="bich.tran@example.vn")


def signed_in(app, email):
    client = app.test_client()
    with database(app).session(PLATFORM) as session:
        sign_in(client, session, email)
    return client


@pytest.fixture
def ids(app, world):
    ids = setup_commune(app, world.a.id)
    with commune_session(app, world.a.id) as session:
        late = file(session, "den-duong", contact=CONTACT, description="Đèn đường trước nhà văn hóa tắt hẳn")
        late.due_at = services.utcnow() - timedelta(days=3, hours=1)
        fresh = file(session, description="Rác đổ bừa bãi cạnh chợ Cẩm Thanh")
        done = file(session, description="Rác đã được dọn ở bến đò")
        services.change_status(session, done, status=ReportStatus.RESOLVED, public_note="Đã dọn sạch.")
        template = ResponseTemplate(title="Đã tiếp nhận", body_vi="Xã đã tiếp nhận và sẽ xử lý trong 3 ngày.",
                                    body_en="The commune will handle it within 3 days.",
                                    status=ReportStatus.ACKNOWLEDGED)
        session.add(template)
        session.flush()
        ids |= {"late": late.code, "fresh": fresh.code, "done": done.code, "template": template.id}
    return ids


def _report(app, code):
    with database(app).session(PLATFORM) as session:
        report = session.scalar(select(FieldReport).where(FieldReport.code == code))
        session.expunge_all()
        return report


def _audit(app, action):
    with database(app).session(PLATFORM) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


PAGES = ["/reports", "/reports/new", "/reports/{late}", "/report-categories", "/report-categories/new",
         "/report-categories/{light}/edit", "/departments", "/response-templates"]


def test_only_the_communes_staff_may_triage(app, world, ids):
    pages = [ADMIN + page.format(**ids) for page in PAGES]
    anonymous = app.test_client()
    for page in pages:
        response = anonymous.get(page)
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"], page
    for role in ("volunteer", "seller"):
        client = signed_in(app, world.a.users[role])
        for page in pages:
            assert client.get(page).status_code == 403, (role, page)
        assert client.post(f"{ADMIN}/reports/{ids['late']}/status",
                           data={"status": "acknowledged"}).status_code == 403
        assert client.post(f"{ADMIN}/departments", data={"code": "x", "name_vi": "X"}).status_code == 403
    assert _report(app, ids["late"]).status == ReportStatus.SUBMITTED
    for role in ("editor", "admin"):
        client = signed_in(app, world.a.users[role])
        for page in pages:
            assert client.get(page).status_code == 200, (role, page)
    # another commune's staff: the admin is not theirs, and this commune's reports are not either
    other = signed_in(app, world.b.users["admin"])
    assert other.get(pages[0]).status_code == 404
    assert other.get(f"/c/nam-phuoc/admin/reports/{ids['late']}").status_code == 404
    assert other.get(f"/c/nam-phuoc/admin/report-categories/{ids['light']}/edit").status_code == 404
    assert other.post(f"/c/nam-phuoc/admin/reports/{ids['late']}/status",
                      data={"status": "acknowledged"}).status_code == 404
    assert other.get("/c/nam-phuoc/admin/reports").status_code == 200


def test_the_triage_list_counts_filters_and_flags_overdue_reports(app, world, ids):
    client = signed_in(app, world.a.users["editor"])
    page = text(client.get(f"{ADMIN}/reports"))
    # open ones first, by deadline: the overdue light, then the litter; the resolved one last
    assert page.index(ids["late"]) < page.index(ids["fresh"]) < page.index(ids["done"])
    assert page.count("QUÁ HẠN") == 1 and "trễ 3 ngày" in page
    assert "Đèn đường hỏng" in page and "Địa chính - Xây dựng" in page
    assert '<strong>2</strong>Mới gửi' in page and '<strong>1</strong>Đã xử lý xong' in page
    assert '<strong>1</strong>Quá hạn' in page
    english = text(client.get(f"{ADMIN}/reports?lang=en"))
    assert "OVERDUE" in english and "3 day(s) late" in english

    def codes(query):
        listed = text(client.get(f"{ADMIN}/reports?{query}"))
        return {code for key, code in ids.items() if key in ("late", "fresh", "done") and code in listed}

    assert codes("status=submitted") == {ids["late"], ids["fresh"]}
    assert codes("status=resolved&status=rejected") == {ids["done"]}
    assert codes(f"category={ids['light']}") == {ids["late"]}
    assert codes(f"department={ids['land']}") == {ids["late"]}
    assert codes("overdue=1") == {ids["late"]}
    assert codes("status=bogus") == {ids["late"], ids["fresh"], ids["done"]}


def test_the_list_is_paginated(app, world, ids):
    with commune_session(app, world.a.id) as session:
        for _ in range(26):
            file(session)
    client = signed_in(app, world.a.users["editor"])
    first, second = text(client.get(f"{ADMIN}/reports")), text(client.get(f"{ADMIN}/reports?page=2"))
    assert first.count('class="report-row') == 25 and second.count('class="report-row') == 4
    assert 'rel="next"' in first and "29 phản ánh" in first


def test_the_report_page_shows_the_private_contact_and_full_history(app, world, ids):
    client = signed_in(app, world.a.users["editor"])
    page = text(client.get(f"{ADMIN}/reports/{ids['late'].lower()}"))
    assert ids["late"] in page and "Đèn đường trước nhà văn hóa tắt hẳn" in page
    assert "Thông tin liên hệ riêng" in page
    assert "Trần Thị Bích" in page and "+84905111222" in page and "bich.tran@example.vn" in page
    assert "Mức độ" in page and "Tắt hẳn" in page  # the attribute with its label, not its key
    assert "QUÁ HẠN" in page
    # only the allowed next steps are offered
    for status in services.TRANSITIONS[ReportStatus.SUBMITTED]:
        assert f'<option value="{status.value}"' in page
    assert '<option value="submitted"' not in page
    assert "Xã đã tiếp nhận và sẽ xử lý trong 3 ngày." in page  # the template's text for the optional script
    anonymous = text(client.get(f"{ADMIN}/reports/{ids['fresh']}"))
    assert "Người phản ánh không để lại thông tin liên hệ." in anonymous
    assert client.get(f"{ADMIN}/reports/CT-R000000-XXXXX").status_code == 404


def test_changing_the_status_with_a_template_notes_and_errors(app, world, ids):
    client = signed_in(app, world.a.users["editor"])
    url = f"{ADMIN}/reports/{ids['late']}/status"
    # refused: not an allowed step, a closing step without a note, an unknown duplicate code
    bad = client.post(url, data={"status": "submitted"})
    assert bad.status_code == 422 and 'id="status-error"' in text(bad)
    bad = client.post(url, data={"status": "resolved", "internal_note": "x"})
    assert bad.status_code == 422 and 'id="public_note-error"' in text(bad)
    assert "Hãy cho người dân biết" in text(bad)
    bad = client.post(url, data={"status": "duplicate", "public_note": "Trùng", "duplicate_of": "CT-R000000-AAAAA"})
    assert bad.status_code == 422 and 'id="duplicate_of-error"' in text(bad)
    bad = client.post(url, data={"status": "duplicate", "public_note": "Trùng", "duplicate_of": ids["late"]})
    assert bad.status_code == 422 and 'id="duplicate_of-error"' in text(bad)
    assert _report(app, ids["late"]).status == ReportStatus.SUBMITTED
    # the template fills an empty public note, in the report's language
    response = client.post(url, data={"status": "acknowledged", "template_id": str(ids["template"]),
                                      "internal_note": "Anh Tâm đi kiểm tra chiều nay"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/reports/{ids['late']}")
    report = _report(app, ids["late"])
    assert report.status == ReportStatus.ACKNOWLEDGED
    assert report.public_note == "Xã đã tiếp nhận và sẽ xử lý trong 3 ngày."
    # a note typed by staff wins over the template
    client.post(url, data={"status": "in_progress", "template_id": str(ids["template"]),
                           "public_note": "Đang thay bóng đèn."})
    assert _report(app, ids["late"]).public_note == "Đang thay bóng đèn."
    [entry, _second] = _audit(app, "report.status_changed")
    assert entry.changes == {"status": ["submitted", "acknowledged"]} and entry.actor_role == "editor"
    page = text(client.get(f"{ADMIN}/reports/{ids['late']}"))
    assert "Anh Tâm đi kiểm tra chiều nay" in page and "editor Cẩm Thanh" in page
    # the reporter got an e-mail for each change
    with database(app).session(PLATFORM) as session:
        bodies = [m.payload["body"] for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "email.send"))
            if m.payload["to"] == CONTACT.email]
    assert len(bodies) == 3 and "Đang thay bóng đèn." in bodies[-1]
    assert all("Anh Tâm" not in body for body in bodies)
    # marking a duplicate of another report
    response = client.post(f"{ADMIN}/reports/{ids['fresh']}/status", data={
        "status": "duplicate", "public_note": "Trùng với phản ánh trước.", "duplicate_of": ids["done"].lower()})
    assert response.status_code == 303
    with database(app).session(PLATFORM) as session:
        fresh = session.scalar(select(FieldReport).where(FieldReport.code == ids["fresh"]))
        done = session.scalar(select(FieldReport).where(FieldReport.code == ids["done"]))
        assert fresh.duplicate_of_id == done.id and fresh.status == ReportStatus.DUPLICATE


def test_internal_notes_and_the_contact_never_reach_the_public_page(app, world, ids):
    client = signed_in(app, world.a.users["editor"])
    client.post(f"{ADMIN}/reports/{ids['late']}/status", data={
        "status": "resolved", "public_note": "Đã thay bóng đèn mới.", "internal_note": "Chi phí 450.000 đồng"})
    assert "Chi phí 450.000 đồng" in text(client.get(f"{ADMIN}/reports/{ids['late']}"))
    if "reports.report_page" not in app.view_functions:
        pytest.skip("the public report page is not there yet")
    public = app.test_client().get(f"/c/cam-thanh/reports/{ids['late']}")
    assert public.status_code == 200
    page = text(public)
    assert "Đã thay bóng đèn mới." in page
    for private in ("Chi phí 450.000 đồng", "Trần Thị Bích", "905111222", "bich.tran"):
        assert private not in page


def test_assigning_a_department(app, world, ids):
    client = signed_in(app, world.a.users["admin"])
    url = f"{ADMIN}/reports/{ids['fresh']}/assign"
    assert client.post(url, data={"department_id": "999999"}).status_code == 422
    response = client.post(url, data={"department_id": str(ids["land"]), "internal_note": "Gấp"})
    assert response.status_code == 303
    assert _report(app, ids["fresh"]).department_id == ids["land"]
    [entry] = _audit(app, "report.assigned")
    assert entry.changes == {"department_id": [None, ids["land"]]}
    with database(app).session(PLATFORM) as session:
        assert any(m.payload["to"] == "diachinh@xa.test" for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "email.send")))
    page = text(client.get(f"{ADMIN}/reports/{ids['fresh']}"))
    assert "Gấp" in page and "admin Cẩm Thanh" in page
    assert client.post(url, data={"department_id": ""}).status_code == 303
    assert _report(app, ids["fresh"]).department_id is None


def test_hiding_a_report_from_the_public(app, world, ids):
    client = signed_in(app, world.a.users["editor"])
    url = f"{ADMIN}/reports/{ids['fresh']}/visibility"
    assert client.post(url, data={"action": "hide", "internal_note": "Có số điện thoại người khác"}
                       ).status_code == 303
    assert _report(app, ids["fresh"]).is_hidden
    [entry] = _audit(app, "report.hidden")
    assert entry.changes == {"is_hidden": [False, True]}
    page = text(client.get(f"{ADMIN}/reports/{ids['fresh']}"))
    assert "Đang ẩn khỏi trang công khai" in page and "Có số điện thoại người khác" in page
    assert "Đã ẩn" in text(client.get(f"{ADMIN}/reports"))  # still on the staff list
    if "reports.report_page" in app.view_functions:
        assert app.test_client().get(f"/c/cam-thanh/reports/{ids['fresh']}").status_code == 404
    assert client.post(url, data={"action": "show"}).status_code == 303
    assert not _report(app, ids["fresh"]).is_hidden and len(_audit(app, "report.unhidden")) == 1


def test_configuring_categories_through_the_pages(app, world, ids):
    client = signed_in(app, world.a.users["editor"])
    listing = text(client.get(f"{ADMIN}/report-categories"))
    assert "den-duong" in listing and "rac-thai" in listing
    form = {"code": "ngap-ung", "name_vi": "Ngập úng", "name_en": "Flooding", "deadline_days": "2",
            "department_id": str(ids["land"]), "is_active": "1",
            "attributes": "do-sau | number | yes | Độ sâu (cm) | Depth (cm)"}
    bad = client.post(f"{ADMIN}/report-categories/new", data={**form, "deadline_days": "400"})
    assert bad.status_code == 422 and 'id="deadline_days-error"' in text(bad)
    assert 'value="Ngập úng"' in text(bad)  # what was typed stays
    bad = client.post(f"{ADMIN}/report-categories/new", data={**form, "attributes": "do-sau | color | yes | X"})
    assert bad.status_code == 422 and "Câu hỏi 1:" in text(bad)
    bad = client.post(f"{ADMIN}/report-categories/new", data={**form, "code": "den-duong"})
    assert bad.status_code == 422 and 'id="code-error"' in text(bad)
    assert client.post(f"{ADMIN}/report-categories/new", data=form).status_code == 303
    with database(app).session(PLATFORM) as session:
        flood = session.scalar(select(ReportCategory).where(ReportCategory.code == "ngap-ung",
                                                            ReportCategory.tenant_id == world.a.id))
        assert (flood.deadline_days, flood.department_id, flood.attributes[0]["datatype"]) == (2, ids["land"],
                                                                                              "number")
        flood_id = flood.id
    edit = f"{ADMIN}/report-categories/{flood_id}/edit"
    page = text(client.get(edit))
    assert "do-sau | number | yes | Độ sâu (cm) | Depth (cm)" in page
    assert client.post(edit, data={**form, "name_vi": "Ngập nước", "deadline_days": "4"}).status_code == 303
    # untick "in use": the category is retired
    assert client.post(edit, data={k: v for k, v in form.items() if k != "is_active"}).status_code == 303
    with database(app).session(PLATFORM) as session:
        flood = session.get(ReportCategory, flood_id)
        assert (flood.name_vi, flood.deadline_days, flood.is_active, flood.code) == ("Ngập úng", 2, False,
                                                                                   "ngap-ung")
    assert len(_audit(app, "report_category.created")) == 1 and len(_audit(app, "report_category.updated")) == 2
    assert client.get(f"{ADMIN}/report-categories/999999/edit").status_code == 404


def test_configuring_departments_through_the_pages(app, world, ids):
    client = signed_in(app, world.a.users["admin"])
    bad = client.post(f"{ADMIN}/departments", data={"code": "cong an", "name_vi": "Công an xã"})
    assert bad.status_code == 422 and 'id="code-error"' in text(bad)
    bad = client.post(f"{ADMIN}/departments", data={"code": "cong-an", "name_vi": "Công an xã", "email": "x@y"})
    assert bad.status_code == 422 and 'id="email-error"' in text(bad)
    assert client.post(f"{ADMIN}/departments", data={"code": "cong-an", "name_vi": "Công an xã",
                                                     "email": "congan@xa.test"}).status_code == 303
    assert "Công an xã" in text(client.get(f"{ADMIN}/departments"))
    edit = f"{ADMIN}/departments/{ids['culture']}"
    bad = client.post(edit, data={"name_vi": "", "is_active": "1"})
    assert bad.status_code == 422 and "Trường này là bắt buộc." in text(bad)
    assert client.post(edit, data={"name_vi": "Văn hóa - Thông tin", "email": "vh@xa.test"}).status_code == 303
    with database(app).session(PLATFORM) as session:
        culture = session.get(Department, ids["culture"])
        assert (culture.name_vi, culture.email, culture.is_active) == ("Văn hóa - Thông tin", "vh@xa.test", False)
    assert len(_audit(app, "department.created")) == 1 and len(_audit(app, "department.updated")) == 1
    assert client.post(f"{ADMIN}/departments/999999", data={"name_vi": "X"}).status_code == 404


def test_configuring_answer_templates_through_the_pages(app, world, ids):
    client = signed_in(app, world.a.users["editor"])
    url = f"{ADMIN}/response-templates"
    assert "Xã đã tiếp nhận và sẽ xử lý trong 3 ngày." in text(client.get(url))
    bad = client.post(url, data={"title": "Không tiếp nhận", "body_vi": ""})
    assert bad.status_code == 422 and "Trường này là bắt buộc." in text(bad)
    assert client.post(url, data={"title": "Không tiếp nhận", "body_vi": "Nội dung không thuộc thẩm quyền của xã.",
                                  "status": "rejected"}).status_code == 303
    with database(app).session(PLATFORM) as session:
        rejected = session.scalar(select(ResponseTemplate).where(ResponseTemplate.title == "Không tiếp nhận"))
        assert rejected.status == ReportStatus.REJECTED
        rejected_id = rejected.id
    assert client.post(f"{url}/{rejected_id}", data={"title": "Từ chối", "body_vi": "Không thuộc thẩm quyền.",
                                                     "body_en": "Not for the commune."}).status_code == 303
    bad = client.post(f"{url}/{rejected_id}", data={"title": "Từ chối", "body_vi": "x", "status": "nope"})
    assert bad.status_code == 422
    with database(app).session(PLATFORM) as session:
        rejected = session.get(ResponseTemplate, rejected_id)
        assert (rejected.title, rejected.body_en, rejected.status) == ("Từ chối", "Not for the commune.", None)
    assert client.post(f"{url}/{rejected_id}/delete").status_code == 303
    with database(app).session(PLATFORM) as session:
        assert session.get(ResponseTemplate, rejected_id) is None
    assert [len(_audit(app, f"response_template.{action}")) for action in ("created", "updated", "deleted")] == [
        1, 1, 1]
    assert client.post(f"{url}/{rejected_id}/delete").status_code == 404


def test_staff_type_in_a_report_from_a_call(app, world, ids):
    client = signed_in(app, world.a.users["editor"])
    url = f"{ADMIN}/reports/new"
    first = text(client.get(url))
    assert 'name="description"' not in first and '<option value="den-duong"' in first  # the category first
    assert client.get(f"{url}?category=khong-co").status_code == 422
    form = text(client.get(f"{url}?category=den-duong"))
    assert 'name="attribute[muc-do]"' in form and 'name="attribute[gio]"' in form and "Tắt hẳn" in form
    data = {"description": "Cột đèn số 12 đường ven sông không sáng", "address": "Thôn Thanh Tam Đông",
            "attribute[muc-do]": "chap-chon", "attribute[gio]": ["toi", "dem"], "name": "Lê Văn Ba",
            "phone": "0935 222 333", "language": "vi"}
    bad = client.post(f"{url}?category=den-duong", data={**data, "attribute[muc-do]": ""})
    assert bad.status_code == 422 and "Cột đèn số 12" in text(bad) and 'value="dem" checked' in text(bad)
    bad = client.post(f"{url}?category=den-duong", data={**data, "phone": "123"})
    assert bad.status_code == 422 and 'id="phone-error"' in text(bad)
    response = client.post(f"{url}?category=den-duong", data=data)
    assert response.status_code == 303
    code = response.headers["Location"].rsplit("/", 1)[1]
    with database(app).session(PLATFORM) as session:
        report = session.scalar(select(FieldReport).where(FieldReport.code == code))
        assert report.channel.value == "staff" and report.department_id == ids["land"]
        assert report.attribute_values == {"muc-do": "chap-chon", "gio": ["toi", "dem"]}
        assert report.updates[0].actor_user_id is not None
        sms = [m.payload for m in session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "sms.send"))]
        assert [m["to"] for m in sms] == ["+84935222333"] and code in sms[0]["text"]
    page = text(client.get(f"{ADMIN}/reports/{code}"))
    assert "Lê Văn Ba" in page and "Cán bộ nhập hộ" in page and "editor Cẩm Thanh" in page
    assert len(_audit(app, "report.filed_by_staff")) == 1
    assert signed_in(app, world.a.users["volunteer"]).get(url).status_code == 403
