"""Poll pages: the public list and page in both languages, the staff admin (create, edit, lock after votes,
close, who may), the demo polls, and privacy: the voter's phone number is nowhere but the SMS outbox."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import inspect, select, text

from service.audit.models import AuditEntry
from service.core.clock import DISPLAY_ZONE, to_local
from service.db import PLATFORM, Base, Scope, database, utcnow
from service.engagement import polls
from service.engagement.demo_polls import FESTIVAL_SLUG, TOURISM_SLUG, load_polls
from service.engagement.models import Poll, PollVote, PublishState, ResultsVisibility
from service.tenants.models import Tenant
from tests.admin.helpers import sign_in
from tests.engagement.poll_helpers import PHONE, make_poll, verify_phone

ADMIN = "/c/cam-thanh/admin/polls"
PUBLIC = "/c/cam-thanh/polls"


def signed_in(app, email):
    client = app.test_client()
    with database(app).session(PLATFORM) as session:
        sign_in(client, session, email)
    return client


def poll_row(app, poll_id):
    with database(app).session(PLATFORM) as session:
        poll = session.get(Poll, poll_id)
        poll.options  # noqa: B018
        return poll


def form(question="Có nên làm đường đi bộ ven sông?", answers=("Có", "Không"), **extra):
    data = {"question_vi": question, "question_en": "Should we build a riverside path?", "description_vi": "",
            "description_en": "", "results_visibility": "after_vote", "status": "published",
            "opens_at": "", "closes_at": ""}
    for index in range(polls.MAX_OPTIONS):
        data[f"option_id_{index}"] = ""
        data[f"label_vi_{index}"] = answers[index] if index < len(answers) else ""
        data[f"label_en_{index}"] = ""
    return {**data, **extra}


# -- public pages ------------------------------------------------------------------------------

def test_the_list_shows_open_upcoming_and_closed_polls_but_no_drafts(app, world):
    make_poll(app, world.a.id, question="Đang mở", question_en="Open one")
    make_poll(app, world.a.id, question="Sắp mở", opens_in=timedelta(days=3))
    closed = make_poll(app, world.a.id, question="Đã xong", opens_in=timedelta(days=-9),
                       closes_in=timedelta(days=-2), visibility="after_close")
    make_poll(app, world.a.id, question="Bản nháp", status="draft")
    make_poll(app, world.a.id, question="Lưu trữ", status="archived")
    make_poll(app, world.b.id, question="Của Nam Phước")
    with database(app).session(Scope(world.a.id)) as session:
        session.add(PollVote(poll_id=closed.id, option_id=closed.options[1].id, voter_key="user:1"))
        session.commit()
    page = app.test_client().get(PUBLIC).get_data(as_text=True)
    assert page.index("Đang mở") < page.index("Sắp mở") < page.index("Đã xong")
    for absent in ("Bản nháp", "Lưu trữ", "Của Nam Phước"):
        assert absent not in page
    assert page.count('class="poll-results"') == 1 and "Tổng số phiếu: 1" in page and "100&nbsp;%" in page
    english = app.test_client().get(f"{PUBLIC}?lang=en").get_data(as_text=True)
    assert "Open one" in english and "Open for voting" in english and "Total votes: 1" in english


def test_the_poll_page_in_english_walks_through_the_phone_step(app, world):
    poll = make_poll(app, world.a.id, question_en="Which day for the festival?")
    client = app.test_client()
    page = client.get(f"{PUBLIC}/{poll.slug}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page and "Which day for the festival?" in page
    assert "Mùng 10 (en)" in page and "Send me a code" in page and "Sign in to vote" in page
    assert 'name="option"' not in page  # no vote form before an identity
    response = client.post(f"{PUBLIC}/{poll.slug}/phone", data={"phone": PHONE}, follow_redirects=True)
    assert "We sent a 6-digit code by SMS" in response.get_data(as_text=True)
    vi = app.test_client().get(f"{PUBLIC}/{poll.slug}").get_data(as_text=True)
    assert "Gửi mã cho tôi" in vi and "Chọn ngày tổ chức Lễ hội Cầu Ngư" in vi


def test_the_phone_number_is_in_no_page_and_no_column(app, world, db_session):
    poll = make_poll(app, world.a.id)
    client = app.test_client()
    verify_phone(client, app, poll.slug, PHONE)
    client.post(f"{PUBLIC}/{poll.slug}/vote", data={"option": poll.options[0].id})
    forms = ("0905123456", "905123456", "0905 123 456", "+84905123456")
    pages = [client.get(f"{PUBLIC}/{poll.slug}"), client.get(PUBLIC), client.get(f"{PUBLIC}/{poll.slug}?lang=en")]
    staff = signed_in(app, world.a.users["admin"])
    pages += [staff.get(ADMIN), staff.get(f"{ADMIN}/{poll.id}/edit"), staff.get("/c/cam-thanh/admin/audit")]
    for response in pages:
        assert response.status_code == 200
        assert not any(number in response.get_data(as_text=True) for number in forms)
    # the session cookie is signed, not encrypted: it must not carry the number either
    with client.session_transaction() as session:
        assert not any(number in repr(dict(session)) for number in forms)
    # every text column of every table, except the outbox that sends the SMS
    with database(app).session(PLATFORM) as session:
        connection = session.connection()
        for table in Base.metadata.sorted_tables:
            if table.name == "outbox_messages":
                continue
            columns = [column["name"] for column in inspect(connection).get_columns(table.name)]
            for row in connection.execute(text(f"SELECT * FROM {table.name}")):  # noqa: S608 - our own names
                for name, value in zip(columns, row, strict=True):
                    assert not (isinstance(value, str) and "905123456" in value), (table.name, name)


# -- admin -------------------------------------------------------------------------------------

def test_staff_create_a_poll_in_local_time_and_it_is_audited(app, world):
    staff = signed_in(app, world.a.users["editor"])
    assert staff.get(f"{ADMIN}/new").status_code == 200
    bad = staff.post(f"{ADMIN}/new", data=form(answers=("Chỉ một",)))
    assert bad.status_code == 422 and 'id="options-error"' in bad.get_data(as_text=True)
    bad = staff.post(f"{ADMIN}/new", data=form(question=""))
    assert bad.status_code == 422 and 'id="question_vi-error"' in bad.get_data(as_text=True)
    bad = staff.post(f"{ADMIN}/new", data=form(opens_at="2030-05-02T08:00", closes_at="2030-05-01T08:00"))
    assert bad.status_code == 422 and 'id="closes_at-error"' in bad.get_data(as_text=True)
    bad = staff.post(f"{ADMIN}/new", data=form(answers=("Có", "", "Không"), label_en_1="No text in Vietnamese"))
    assert bad.status_code == 422 and 'id="label_vi_1-error"' in bad.get_data(as_text=True)
    response = staff.post(f"{ADMIN}/new", data=form(answers=("Có", "", "Không", "Chưa biết"),
                                                   opens_at="2030-05-01T08:00", closes_at="2030-05-15T17:30",
                                                   results_visibility="after_close", label_en_0="Yes"))
    assert response.status_code == 303
    poll_id = int(re.search(r"/polls/(\d+)/edit$", response.headers["Location"]).group(1))
    poll = poll_row(app, poll_id)
    assert (poll.slug, poll.status, poll.results_visibility) == (
        "co-nen-lam-duong-di-bo-ven-song", PublishState.PUBLISHED, ResultsVisibility.AFTER_CLOSE)
    assert poll.opens_at == datetime(2030, 5, 1, 8, 0, tzinfo=DISPLAY_ZONE)  # 01:00 UTC
    assert poll.opens_at.hour == 1 and to_local(poll.closes_at).strftime("%H:%M") == "17:30"
    assert [(o.label_vi, o.label_en, o.position) for o in poll.options] == [
        ("Có", "Yes", 0), ("Không", "", 1), ("Chưa biết", "", 2)]
    edit = staff.get(f"{ADMIN}/{poll_id}/edit").get_data(as_text=True)
    assert 'value="2030-05-01T08:00"' in edit and 'value="2030-05-15T17:30"' in edit
    listing = staff.get(ADMIN).get_data(as_text=True)
    assert "Có nên làm đường đi bộ ven sông?" in listing and "Chưa mở" in listing
    with database(app).session(PLATFORM) as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == poll_id,
                                                                       AuditEntry.object_type == "poll")))
    assert actions == ["poll.created"]


def test_answers_change_freely_before_votes_and_only_their_wording_after(app, world, db_session):
    poll = make_poll(app, world.a.id)
    staff = signed_in(app, world.a.users["admin"])
    ids = [str(option.id) for option in poll.options]
    # before any vote: remove the last answer, add one, reorder
    data = form(question="Chọn ngày lễ hội", answers=("Thứ Bảy", "Mùng 10", "Ngày rằm"),
                option_id_0=ids[1], option_id_1=ids[0])
    assert staff.post(f"{ADMIN}/{poll.id}/edit", data=data).status_code == 303
    poll = poll_row(app, poll.id)
    assert [o.label_vi for o in poll.options] == ["Thứ Bảy", "Mùng 10", "Ngày rằm"]
    assert [str(o.id) for o in poll.options[:2]] == [ids[1], ids[0]]
    # a vote comes in
    voter = app.test_client()
    sign_in(voter, db_session, world.a.users["seller"])
    assert voter.post(f"{PUBLIC}/{poll.slug}/vote", data={"option": poll.options[0].id}).status_code == 303
    page = staff.get(f"{ADMIN}/{poll.id}/edit").get_data(as_text=True)
    assert "Đã có người bình chọn" in page and 'name="question_vi"' not in page and 'name="label_vi_3"' not in page
    ids = [str(option.id) for option in poll.options]
    locked = {f"option_id_{n}": ids[n] for n in range(3)} | {"label_vi_0": "Thứ Bảy (16/3)", "label_vi_1": "Mùng 10",
                                                             "label_vi_2": "Ngày rằm", "status": "published",
                                                             "closes_at": "2031-01-01T12:00"}
    assert staff.post(f"{ADMIN}/{poll.id}/edit", data=locked).status_code == 303
    poll = poll_row(app, poll.id)
    assert poll.options[0].label_vi == "Thứ Bảy (16/3)" and to_local(poll.closes_at).year == 2031
    # the question, or the set of answers, no longer
    assert staff.post(f"{ADMIN}/{poll.id}/edit", data={**locked, "question_vi": "Khác"}).status_code == 409
    removed = {key: value for key, value in locked.items() if not key.endswith("_2")}
    assert staff.post(f"{ADMIN}/{poll.id}/edit", data=removed).status_code == 409
    added = {**locked, "label_vi_3": "Thêm", "option_id_3": ""}
    assert staff.post(f"{ADMIN}/{poll.id}/edit", data=added).status_code == 409
    assert staff.post(f"{ADMIN}/{poll.id}/edit", data={**locked, "results_visibility": "after_close"}).status_code \
        == 409
    poll = poll_row(app, poll.id)
    assert (poll.question_vi, len(poll.options), poll.results_visibility) == (
        "Chọn ngày lễ hội", 3, ResultsVisibility.AFTER_VOTE)
    with database(app).session(PLATFORM) as session:
        assert session.scalar(select(PollVote.option_id)) == poll.options[0].id


def test_staff_close_a_poll_and_see_counts_any_time(app, world, db_session):
    poll = make_poll(app, world.a.id, visibility="after_close")
    voter = app.test_client()
    sign_in(voter, db_session, world.a.users["volunteer"])
    voter.post(f"{PUBLIC}/{poll.slug}/vote", data={"option": poll.options[1].id})
    staff = signed_in(app, world.a.users["editor"])
    edit = staff.get(f"{ADMIN}/{poll.id}/edit").get_data(as_text=True)
    assert 'class="poll-results"' in edit and "Tổng số phiếu: 1" in edit
    assert 'class="poll-results"' not in app.test_client().get(f"{PUBLIC}/{poll.slug}").get_data(as_text=True)
    assert staff.post(f"{ADMIN}/{poll.id}/close").status_code == 303
    assert polls.is_closed(poll_row(app, poll.id))
    assert staff.post(f"{ADMIN}/{poll.id}/close").status_code == 409
    assert 'class="poll-results"' in app.test_client().get(f"{PUBLIC}/{poll.slug}").get_data(as_text=True)
    assert voter.post(f"{PUBLIC}/{poll.slug}/vote", data={"option": poll.options[0].id}).status_code == 409
    with database(app).session(PLATFORM) as session:
        assert "poll.closed" in session.scalars(select(AuditEntry.action)).all()


def test_only_the_commune_staff_manage_polls(app, world):
    poll = make_poll(app, world.a.id)
    anonymous = app.test_client().get(ADMIN)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for role in ("volunteer", "seller"):
        client = signed_in(app, world.a.users[role])
        assert client.get(ADMIN).status_code == 403
        assert client.get(f"{ADMIN}/new").status_code == 403
        assert client.post(f"{ADMIN}/new", data=form()).status_code == 403
        assert client.post(f"{ADMIN}/{poll.id}/close").status_code == 403
    other = signed_in(app, world.b.users["admin"])
    assert other.get(ADMIN).status_code == 404  # not a member of Cẩm Thanh
    assert other.get(f"/c/nam-phuoc/admin/polls/{poll.id}/edit").status_code == 404  # another commune's poll
    assert other.post(f"/c/nam-phuoc/admin/polls/{poll.id}/close").status_code == 404
    assert polls.is_open(poll_row(app, poll.id))
    assert signed_in(app, world.a.users["admin"]).get(ADMIN).status_code == 200


# -- demo --------------------------------------------------------------------------------------

def test_the_demo_has_an_open_poll_with_votes_and_a_closed_one_with_results(app, world):
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        tenant = session.get(Tenant, world.a.id)
        load_polls(session, tenant)
        load_polls(session, tenant)  # twice: nothing doubles
        session.commit()
    with database(app).session(Scope(world.a.id)) as session:
        festival = session.scalars(select(Poll).where(Poll.slug == FESTIVAL_SLUG)).one()
        tourism = session.scalars(select(Poll).where(Poll.slug == TOURISM_SLUG)).one()
        assert polls.is_open(festival) and polls.is_closed(tourism)
        assert polls.results(session, festival).total == 16 and polls.results(session, tourism).total == 44
        assert all(key.startswith("phone:") and len(key) == 70 for key in session.scalars(select(PollVote.voter_key)))
        assert festival.opens_at < utcnow()
    page = app.test_client().get(f"{PUBLIC}/{TOURISM_SLUG}").get_data(as_text=True)
    assert 'class="poll-results"' in page and "Tổng số phiếu: 44" in page
    assert "Lễ hội Cầu Ngư" in app.test_client().get(PUBLIC).get_data(as_text=True)
