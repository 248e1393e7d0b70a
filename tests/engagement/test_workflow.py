"""The field-report workflow at the service level: filing, every status transition, notes, duplicates,
assignment, the reporter's notifications through the outbox, deadlines, attribute and location checks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from service.core.errors import Invalid, NotFound
from service.engagement import services
from service.engagement.models import (
    CLOSED_STATUSES,
    FieldReport,
    PrivateContact,
    ReportCategory,
    ReportChannel,
    ReportStatus,
)
from service.jobs.models import OutboxMessage
from tests.engagement.triage_helpers import commune_session, file, setup_commune

CONTACT = services.Contact(name="Nguyễn Văn An", phone="+84905123456", email="an.nguyen@example.vn")
NOTIFY_TOPICS = ("email.send", "sms.send")


def messages(session):
    return [(m.topic, m.payload) for m in session.scalars(
        select(OutboxMessage).where(OutboxMessage.topic.in_(NOTIFY_TOPICS)).order_by(OutboxMessage.id))]


@pytest.fixture
def ids(app, world):
    return setup_commune(app, world.a.id)


def test_filing_gives_a_code_a_deadline_a_department_a_history_and_a_sealed_contact(app, world, ids):
    with commune_session(app, world.a.id) as session:
        contact = services.check_contact(name=" Nguyễn Văn An ", phone="0905 123 456", email="an.nguyen@example.vn")
        assert contact.phone == "+84905123456" and contact.name == "Nguyễn Văn An"
        report = file(session, "den-duong", contact=contact, attributes={"muc-do": "tat", "so-cot": "C12"})
        assert re.fullmatch(r"CT-R\d{6}-[ACDEFGHJKLMNPQRTUVWXY34679]{5}", report.code)
        assert report.due_at - report.created_at == timedelta(days=3)
        assert report.department_id == ids["land"] and report.status == ReportStatus.SUBMITTED
        assert report.channel == ReportChannel.WEB and report.closed_at is None
        assert report.attribute_values == {"muc-do": "tat", "so-cot": "C12"}
        [first] = report.updates
        assert (first.status_from, first.status_to, first.department_id) == (None, ReportStatus.SUBMITTED,
                                                                             ids["land"])
        sealed = session.execute(text("SELECT sealed FROM engagement_contacts")).scalar_one()
        for plain in ("0905123456", "905123456", "an.nguyen", "example.vn", "Nguyễn"):
            assert plain not in sealed
        assert services.contact_of(session, "report", report.id) == contact
        # the public row carries nothing of the contact
        public = {column.key: getattr(report, column.key) for column in FieldReport.__table__.columns}
        assert not any("905123456" in str(value) or "an.nguyen" in str(value) for value in public.values())
        # the reporter is told it arrived, by e-mail since they gave one
        [(topic, payload)] = messages(session)
        assert topic == "email.send" and payload["to"] == "an.nguyen@example.vn" and report.code in payload["subject"]
        assert f"Cẩm Thanh đã tiếp nhận phản ánh {report.code} của bạn." in payload["body"]
        code = report.code
    with commune_session(app, world.a.id) as session:
        assert services.report_by_code(session, code.lower()).code == code


def test_anonymous_reports_have_no_contact_row_and_no_notification(app, world, ids):
    with commune_session(app, world.a.id) as session:
        report = file(session)
        services.change_status(session, report, status=ReportStatus.RESOLVED, public_note="Đã dọn sạch.")
        assert services.contact_of(session, "report", report.id) is None
        assert session.scalar(select(PrivateContact.id)) is None
        assert messages(session) == []


def _in_status(session, status):
    """A report put straight into ``status`` (the way there is tested separately)."""
    report = file(session)
    if status == ReportStatus.DUPLICATE:
        report.duplicate_of_id = file(session).id
    report.status = status
    report.closed_at = services.utcnow() if status in CLOSED_STATUSES else None
    session.flush()
    return report


def test_every_transition_is_allowed_or_refused_as_the_table_says(app, world, ids):
    with commune_session(app, world.a.id) as session:
        other = file(session)
        for source in ReportStatus:
            for target in ReportStatus:
                report = _in_status(session, source)
                allowed = target in services.TRANSITIONS[source]
                try:
                    update = services.change_status(session, report, status=target, public_note="Trả lời công khai",
                                                    internal_note="Ghi chú nội bộ", duplicate_of=other)
                except Invalid as error:
                    assert not allowed, (source, target)
                    assert error.code == "invalid_transition" and error.param == "status"
                    assert report.status == source and len(report.updates) == 1
                    continue
                assert allowed, (source, target)
                assert (update.status_from, update.status_to) == (source, target)
                assert report.status == target and report.updates[-1] is update
                assert (report.closed_at is not None) == (target in CLOSED_STATUSES)
                assert report.public_note == "Trả lời công khai"
                assert update.internal_note == "Ghi chú nội bộ"
        # nothing moves to "submitted", and every status has somewhere to go
        assert all(ReportStatus.SUBMITTED not in targets for targets in services.TRANSITIONS.values())
        assert all(services.TRANSITIONS[status] for status in ReportStatus)


@pytest.mark.parametrize("status", [ReportStatus.RESOLVED, ReportStatus.REJECTED, ReportStatus.DUPLICATE])
def test_closing_needs_a_public_note(app, world, ids, status):
    with commune_session(app, world.a.id) as session:
        report, other = file(session), file(session)
        with pytest.raises(Invalid) as refused:
            services.change_status(session, report, status=status, public_note="   ", internal_note="x",
                                   duplicate_of=other)
        assert (refused.value.code, refused.value.param) == ("note_required", "public_note")
        assert report.status == ReportStatus.SUBMITTED and len(report.updates) == 1
        # the open steps need none
        services.change_status(session, report, status=ReportStatus.ACKNOWLEDGED)
        services.change_status(session, report, status=ReportStatus.IN_PROGRESS)
        assert report.public_note == ""


def test_a_duplicate_names_another_report_and_reopening_clears_it(app, world, ids):
    with commune_session(app, world.a.id) as session:
        first, second = file(session), file(session)
        for duplicate_of in (None, second):
            with pytest.raises(Invalid) as refused:
                services.change_status(session, second, status=ReportStatus.DUPLICATE, public_note="Trùng",
                                       duplicate_of=duplicate_of)
            assert refused.value.code == "duplicate_of_required"
        services.change_status(session, second, status=ReportStatus.DUPLICATE, public_note="Trùng phản ánh trước",
                               duplicate_of=first)
        assert second.duplicate_of_id == first.id and second.closed_at is not None
        assert services.duplicates_of(session, first) == [second]
        # the original cannot in turn be marked a duplicate of its own duplicate
        with pytest.raises(Invalid) as refused:
            services.change_status(session, first, status=ReportStatus.DUPLICATE, public_note="Trùng",
                                   duplicate_of=second)
        assert refused.value.code == "duplicate_cycle"
        services.change_status(session, second, status=ReportStatus.IN_PROGRESS, internal_note="Không trùng")
        assert second.duplicate_of_id is None and second.closed_at is None and second.is_open


def test_reopening_clears_closed_at(app, world, ids):
    with commune_session(app, world.a.id) as session:
        report = file(session)
        services.change_status(session, report, status=ReportStatus.RESOLVED, public_note="Đã xử lý")
        assert report.closed_at is not None and not report.is_open
        services.change_status(session, report, status=ReportStatus.IN_PROGRESS, public_note="Đèn lại hỏng")
        assert report.closed_at is None and report.is_open
        assert report.public_note == "Đèn lại hỏng"
        # The public answer belongs to the current status: reopened without a note, the old answer goes
        # (it stays in the timeline), so Open311's status_notes never shows a closing text on an open report.
        services.change_status(session, report, status=ReportStatus.RESOLVED, public_note="Đã thay bóng")
        services.change_status(session, report, status=ReportStatus.IN_PROGRESS)
        assert report.public_note == ""
        assert [u.public_note for u in report.updates if u.public_note][-1] == "Đã thay bóng"


def test_notes_are_limited_in_length(app, world, ids):
    with commune_session(app, world.a.id) as session:
        report = file(session)
        for field in ("public_note", "internal_note"):
            with pytest.raises(Invalid) as refused:
                services.change_status(session, report, status=ReportStatus.ACKNOWLEDGED,
                                       **{field: "x" * (services.NOTE_MAX + 1)})
            assert (refused.value.code, refused.value.param) == ("too_long", field)


def test_assigning_writes_history_and_emails_the_department(app, world, ids):
    with commune_session(app, world.a.id) as session:
        report = file(session)  # litter: no department of its own
        assert report.department_id is None
        land = services.list_departments(session)[0]
        assert land.id == ids["land"]
        update = services.assign(session, report, land, internal_note="Nhờ anh Tâm xem", actor_user_id=None)
        assert report.department_id == land.id and update.department_id == land.id
        assert update.status_from == update.status_to == ReportStatus.SUBMITTED
        assert update.internal_note == "Nhờ anh Tâm xem" and update.public_note == ""
        [(topic, payload)] = messages(session)
        assert topic == "email.send" and payload["to"] == "diachinh@xa.test" and report.code in payload["subject"]
        assert report.description in payload["body"] and "Nhờ anh Tâm xem" in payload["body"]
        # a department without an e-mail, then none at all: history only
        culture = next(d for d in services.list_departments(session) if d.id == ids["culture"])
        services.assign(session, report, culture)
        services.assign(session, report, None)
        assert report.department_id is None and len(report.updates) == 4
        assert len(messages(session)) == 1


def test_the_reporter_is_told_of_each_change_by_email_else_sms_in_their_language(app, world, ids):
    with commune_session(app, world.a.id) as session:
        by_email = file(session, contact=CONTACT)
        by_phone = file(session, contact=services.Contact(phone="+84905000111"), language="en")
        assert [topic for topic, _ in messages(session)] == ["email.send", "sms.send"]
        services.change_status(session, by_email, status=ReportStatus.ACKNOWLEDGED)
        services.change_status(session, by_email, status=ReportStatus.RESOLVED, public_note="Đã thay bóng đèn mới.")
        services.change_status(session, by_phone, status=ReportStatus.REJECTED,
                               public_note="Outside the commune.", internal_note="secret staff remark")
        sent = messages(session)
        assert [topic for topic, _ in sent] == ["email.send", "sms.send", "email.send", "email.send", "sms.send"]
        resolved = sent[3][1]
        assert resolved["to"] == CONTACT.email and by_email.code in resolved["subject"]
        assert "Đã thay bóng đèn mới." in resolved["body"]
        assert f"/c/cam-thanh/reports/{by_email.code}" in resolved["body"]
        sms = sent[4][1]
        assert sms["to"] == "+84905000111" and "Outside the commune." in sms["text"]
        assert "not accepted" in sms["text"]  # English, the reporter's language
        assert all("secret staff remark" not in str(payload) for _, payload in sent)
        vietnamese = sent[2][1]["subject"]
        assert "acknowledged" not in vietnamese and "Đã tiếp nhận".lower() in vietnamese.lower()


def test_an_old_answer_is_not_repeated_when_a_report_is_reopened(app, world, ids):
    with commune_session(app, world.a.id) as session:
        report = file(session, contact=CONTACT)
        services.change_status(session, report, status=ReportStatus.REJECTED, public_note="Không thuộc phạm vi xã.")
        services.change_status(session, report, status=ReportStatus.ACKNOWLEDGED)
        last = messages(session)[-1][1]
        assert "Không thuộc phạm vi xã." not in last["body"]


def test_overdue_reports(app, world, ids):
    with commune_session(app, world.a.id) as session:
        late, fresh, closed = file(session), file(session), file(session)
        now = services.utcnow()
        late.due_at = now - timedelta(days=2, hours=3)
        closed.due_at = now - timedelta(days=5)
        services.change_status(session, closed, status=ReportStatus.RESOLVED, public_note="Xong")
        session.flush()
        assert services.is_overdue(late) and not services.is_overdue(fresh) and not services.is_overdue(closed)
        assert services.days_overdue(late) == 2 and services.days_overdue(fresh) == 0
        assert services.is_overdue(fresh, now + timedelta(days=8))
        assert list(session.scalars(services.staff_reports_query(overdue_only=True))) == [late]
        assert services.overdue_count(session) == 1
        # the triage order: open ones by deadline first, closed ones last
        order = list(session.scalars(services.staff_reports_query()))
        assert order[0] == late and order[-1] == closed
        counts = services.status_counts(session)
        assert counts[ReportStatus.SUBMITTED] == 2 and counts[ReportStatus.RESOLVED] == 1
        assert counts[ReportStatus.DUPLICATE] == 0
        page = services.staff_reports(session, statuses=[ReportStatus.RESOLVED])
        assert page.items == [closed] and page.total == 1
        assert services.staff_reports(session, department_id=ids["land"]).total == 0
        assert services.staff_reports(session, category_id=ids["litter"]).total == 3


def test_attributes_are_checked_against_the_category(app, world, ids):
    with commune_session(app, world.a.id) as session:
        light = session.get(ReportCategory, ids["light"])
        assert services.check_attributes(light, {"muc-do": "tat", "so-bong": "3", "gio": ["toi", "dem", "toi"],
                                                 "unknown": "dropped"}) == {
            "muc-do": "tat", "so-bong": 3, "gio": ["toi", "dem"]}
        assert services.check_attributes(light, {"muc-do": ["chap-chon"], "so-bong": "2.5", "gio": "dem"}) == {
            "muc-do": "chap-chon", "so-bong": 2.5, "gio": ["dem"]}
        refused = [({}, "attribute_required"), ({"muc-do": ""}, "attribute_required"),
                   ({"muc-do": "sang"}, "invalid_attribute"),
                   ({"muc-do": "tat", "gio": ["toi", "sang"]}, "invalid_attribute"),
                   ({"muc-do": "tat", "so-bong": "ba"}, "invalid_attribute"),
                   ({"muc-do": "tat", "so-bong": "nan"}, "invalid_attribute"),
                   ({"muc-do": "tat", "so-cot": "x" * 301}, "invalid_attribute")]
        for given, code in refused:
            with pytest.raises(Invalid) as error:
                services.check_attributes(light, given)
            assert error.value.code == code, given
        with pytest.raises(Invalid) as error:
            file(session, "den-duong", attributes={})
        assert error.value.param == "attribute[muc-do]"
        when = dict(light.attributes[0], code="luc", datatype="datetime", required=False)
        light.attributes = [*light.attributes, when]
        assert services.check_attributes(light, {"muc-do": "tat", "luc": "2026-11-28T19:30:00Z"})["luc"]
        with pytest.raises(Invalid):
            services.check_attributes(light, {"muc-do": "tat", "luc": "tối qua"})


def test_locations_and_contacts_are_checked(app, world, ids):
    assert services.check_location("  Thôn   2 ") == services.Location(address="Thôn 2")
    assert services.check_location("", "15.8794123", " 108.35 ") == services.Location("", 15.879412, 108.35)
    refused = [(("", None, None), "location_required"), (("", "15.8", ""), "incomplete_location"),
               (("", "", "108.3"), "incomplete_location"), (("", "91", "108"), "invalid_location"),
               (("", "15", "181"), "invalid_location"), (("", "abc", "108"), "invalid_location"),
               (("", "nan", "108"), "invalid_location"), (("x" * 251, None, None), "too_long")]
    for args, code in refused:
        with pytest.raises(Invalid) as error:
            services.check_location(*args)
        assert error.value.code == code, args
    for kwargs, param in [({"phone": "12345"}, "phone"), ({"email": "an@localhost"}, "email"),
                          ({"email": "not an email"}, "email"), ({"name": "x" * 121}, "name")]:
        with pytest.raises(Invalid) as error:
            services.check_contact(**kwargs)
        assert error.value.param == param, kwargs
    assert services.check_contact().is_empty


def test_descriptions_are_checked_and_inactive_categories_refused(app, world, ids):
    with commune_session(app, world.a.id) as session:
        for description, code in (("ngắn", "too_short"), ("x" * 4001, "too_long")):
            with pytest.raises(Invalid) as error:
                file(session, description=description)
            assert error.value.code == code
        with pytest.raises(Invalid):
            services.submit_report(session, category=services.category_by_code(session, "rac-thai"),
                                   description="Rác đổ bừa bãi", location=services.check_location("Chợ"),
                                   media_url="ftp://example.vn/a.jpg")
        session.get(ReportCategory, ids["litter"]).is_active = False
        with pytest.raises(NotFound):
            services.category_by_code(session, "rac-thai")
        assert [c.code for c in services.list_categories(session)] == ["den-duong"]
        assert len(services.list_categories(session, include_inactive=True)) == 2


def test_hiding_takes_a_report_off_the_public_pages(app, world, ids):
    with commune_session(app, world.a.id) as session:
        report = file(session)
        update = services.set_hidden(session, report, True, internal_note="Có số điện thoại người khác")
        assert update is not None and update.internal_note == "Có số điện thoại người khác"
        assert services.set_hidden(session, report, True) is None  # already hidden: nothing recorded
        assert services.public_reports(session).items == []
        with pytest.raises(NotFound):
            services.report_by_code(session, report.code)
        assert services.report_by_code(session, report.code, public=False) is report
        services.set_hidden(session, report, False)
        assert services.public_reports(session).items == [report] and len(report.updates) == 3


def test_another_communes_reports_are_invisible(app, world, ids):
    with commune_session(app, world.a.id) as session:
        code = file(session).code
    setup_commune(app, world.b.id)
    with commune_session(app, world.b.id) as session:
        with pytest.raises(NotFound):
            services.report_by_code(session, code, public=False)
        assert services.staff_reports(session).total == 0 and services.overdue_count(session) == 0
