"""Polls: the SMS code step, one vote per account or phone (however the number is written, however the
requests race), who sees the results when, and closed polls refusing votes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.core.errors import Conflict
from service.db import PLATFORM, Scope, database, utcnow
from service.engagement import polls
from service.engagement.models import PhoneVerification, Poll, PollVote
from service.jobs.models import OutboxMessage
from tests.admin.helpers import sign_in
from tests.engagement.poll_helpers import PHONE, PHONE_INTL, last_code, make_poll, sms_codes, verify_phone

BASE = "/c/cam-thanh/polls"


def votes(app, poll_id=None):
    with database(app).session(PLATFORM) as session:
        stmt = select(PollVote.voter_key, PollVote.option_id).order_by(PollVote.id)
        if poll_id is not None:
            stmt = stmt.where(PollVote.poll_id == poll_id)
        return list(session.execute(stmt))


def verifications(app):
    with database(app).session(PLATFORM) as session:
        return list(session.scalars(select(PhoneVerification).order_by(PhoneVerification.id)))


def age_verifications(app, **changes):
    with database(app).session(PLATFORM) as session:
        for row in session.scalars(select(PhoneVerification)):
            for name, delta in changes.items():
                setattr(row, name, getattr(row, name) + delta)
        session.commit()


# -- the SMS code ------------------------------------------------------------------------------

def test_a_code_goes_by_sms_and_only_hashes_are_kept(app, world):
    poll = make_poll(app, world.a.id)
    client = app.test_client()
    response = client.post(f"{BASE}/{poll.slug}/phone", data={"phone": PHONE})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/polls/{poll.slug}#verify")
    [(to, code)] = sms_codes(app)
    assert to == PHONE_INTL and len(code) == 6
    with database(app).session(PLATFORM) as session:
        text = session.scalars(select(OutboxMessage.payload)).one()["text"]
    assert text == f"Mã xác minh XaSo của bạn là {code}, hiệu lực 10 phút."
    [row] = verifications(app)
    with app.app_context():
        assert row.phone_hash == polls.phone_hash(PHONE_INTL) == polls.phone_hash("+84 905-123-456")
    assert len(row.phone_hash) == 64 and row.code_hash != code and code not in row.code_hash
    assert timedelta(minutes=9) < row.expires_at - utcnow() <= timedelta(minutes=10)
    # the page now asks for the code
    page = client.get(f"{BASE}/{poll.slug}").get_data(as_text=True)
    assert 'name="code"' in page and 'name="phone"' not in page


def test_the_sms_speaks_the_page_language(app, world):
    poll = make_poll(app, world.a.id)
    assert app.test_client().post(f"{BASE}/{poll.slug}/phone?lang=en", data={"phone": PHONE}).status_code == 303
    with database(app).session(PLATFORM) as session:
        text = session.scalars(select(OutboxMessage.payload)).one()["text"]
    assert text.startswith("Your XaSo verification code is ") and "10 minutes" in text


def test_a_wrong_number_is_refused_without_sending_anything(app, world):
    poll = make_poll(app, world.a.id)
    response = app.test_client().post(f"{BASE}/{poll.slug}/phone", data={"phone": "12345"})
    assert response.status_code == 422
    assert 'id="phone-error"' in response.get_data(as_text=True)
    assert sms_codes(app) == [] and verifications(app) == []


def test_wrong_codes_count_and_five_end_the_code(app, world):
    poll = make_poll(app, world.a.id)
    client = app.test_client()
    client.post(f"{BASE}/{poll.slug}/phone", data={"phone": PHONE})
    code = last_code(app)
    wrong = "000000" if code != "000000" else "111111"
    for attempt in range(1, 6):
        response = client.post(f"{BASE}/{poll.slug}/verify", data={"code": wrong})
        assert response.status_code == 422 and 'id="code-error"' in response.get_data(as_text=True)
        assert verifications(app)[0].attempts == attempt
    # the sixth try is refused even with the right code
    response = client.post(f"{BASE}/{poll.slug}/verify", data={"code": code})
    assert response.status_code == 429
    assert verifications(app)[0].verified_at is None
    # a new code works
    client.post(f"{BASE}/{poll.slug}/restart")
    client.post(f"{BASE}/{poll.slug}/phone", data={"phone": PHONE})
    assert client.post(f"{BASE}/{poll.slug}/verify", data={"code": last_code(app)}).status_code == 303


def test_an_expired_code_is_refused(app, world):
    poll = make_poll(app, world.a.id)
    client = app.test_client()
    client.post(f"{BASE}/{poll.slug}/phone", data={"phone": PHONE})
    age_verifications(app, expires_at=-timedelta(minutes=11))
    response = client.post(f"{BASE}/{poll.slug}/verify", data={"code": last_code(app)})
    assert response.status_code == 422 and verifications(app)[0].verified_at is None
    # and without a verified phone there is no voting
    option = poll.options[0].id
    assert client.post(f"{BASE}/{poll.slug}/vote", data={"option": option}).status_code == 403
    assert votes(app) == []


def test_at_most_three_codes_per_phone_and_hour(app, world):
    poll = make_poll(app, world.a.id)
    client = app.test_client()
    for phone in (PHONE, PHONE_INTL, "0905.123.456"):
        assert client.post(f"{BASE}/{poll.slug}/phone", data={"phone": phone}).status_code == 303
    response = client.post(f"{BASE}/{poll.slug}/phone", data={"phone": "84905123456"})
    assert response.status_code == 429 and 'id="phone-error"' in response.get_data(as_text=True)
    assert len(sms_codes(app)) == 3
    # another number is not held back
    assert client.post(f"{BASE}/{poll.slug}/phone", data={"phone": "0912 345 678"}).status_code == 303
    # an hour later the first number may ask again
    age_verifications(app, created_at=-timedelta(minutes=61))
    assert client.post(f"{BASE}/{poll.slug}/phone", data={"phone": PHONE}).status_code == 303


def test_the_phone_step_is_rate_limited_per_visitor(app, world):
    app.config["ENGAGEMENT_RATE_LIMIT"] = "2 per hour"
    poll = make_poll(app, world.a.id)
    client = app.test_client()
    assert client.post(f"{BASE}/{poll.slug}/phone", data={"phone": "0905 000 001"}).status_code == 303
    assert client.post(f"{BASE}/{poll.slug}/phone", data={"phone": "0905 000 002"}).status_code == 303
    assert client.post(f"{BASE}/{poll.slug}/phone", data={"phone": "0905 000 003"}).status_code == 429
    assert len(sms_codes(app)) == 2


# -- voting ------------------------------------------------------------------------------------

def test_voting_with_an_account_once(app, world, db_session):
    poll = make_poll(app, world.a.id)
    client = app.test_client()
    user = sign_in(client, db_session, world.a.users["volunteer"])
    page = client.get(f"{BASE}/{poll.slug}").get_data(as_text=True)
    assert 'name="option"' in page and 'name="phone"' not in page  # signed in: no phone step
    first, second = poll.options[0].id, poll.options[1].id
    response = client.post(f"{BASE}/{poll.slug}/vote", data={"option": first})
    assert response.status_code == 303 and response.headers["Location"].endswith("#results")
    assert votes(app) == [(f"user:{user.id}", first)]
    again = client.post(f"{BASE}/{poll.slug}/vote", data={"option": second})
    assert again.status_code == 409 and 'id="option-error"' in again.get_data(as_text=True)
    assert votes(app) == [(f"user:{user.id}", first)]
    # the page knows: no form any more, the results with "your vote"
    page = client.get(f"{BASE}/{poll.slug}").get_data(as_text=True)
    assert 'name="option"' not in page and 'class="poll-mine"' in page


def test_voting_with_a_verified_phone_once_however_it_is_written(app, world):
    poll = make_poll(app, world.a.id)
    client = app.test_client()
    verify_phone(client, app, poll.slug, PHONE)
    page = client.get(f"{BASE}/{poll.slug}").get_data(as_text=True)
    assert 'name="option"' in page
    option = poll.options[2].id
    assert client.post(f"{BASE}/{poll.slug}/vote", data={"option": option}).status_code == 303
    with app.app_context():
        key = polls.phone_voter_key(polls.phone_hash(PHONE))
    assert votes(app) == [(key, option)]
    # the same phone, written differently, verified again in another browser: refused
    other = app.test_client()
    verify_phone(other, app, poll.slug, PHONE_INTL)
    assert "poll-mine" in other.get(f"{BASE}/{poll.slug}").get_data(as_text=True)  # it knows it has voted
    response = other.post(f"{BASE}/{poll.slug}/vote", data={"option": poll.options[0].id})
    assert response.status_code == 409
    assert votes(app) == [(key, option)]


def test_a_verified_phone_lasts_an_hour(app, world):
    poll = make_poll(app, world.a.id)
    client = app.test_client()
    verify_phone(client, app, poll.slug)
    with client.session_transaction() as session:
        session["poll_phone"] = {**session["poll_phone"], "until": 1}
    assert client.post(f"{BASE}/{poll.slug}/vote", data={"option": poll.options[0].id}).status_code == 403
    assert votes(app) == []


def test_a_phone_verified_in_one_commune_does_not_vote_in_another(app, world):
    poll_b = make_poll(app, world.b.id)
    client = app.test_client()
    mine = make_poll(app, world.a.id, question="Câu hỏi khác")
    verify_phone(client, app, mine.slug)
    response = client.post(f"/c/nam-phuoc/polls/{poll_b.slug}/vote", data={"option": poll_b.options[0].id})
    assert response.status_code == 403 and votes(app) == []


def test_an_answer_of_another_poll_or_commune_is_refused(app, world, db_session):
    poll = make_poll(app, world.a.id)
    other = make_poll(app, world.a.id, question="Câu hỏi khác")
    elsewhere = make_poll(app, world.b.id, question="Chỉ ở Nam Phước")
    client = app.test_client()
    sign_in(client, db_session, world.a.users["seller"])
    for option in (other.options[0].id, elsewhere.options[0].id, "", "abc"):
        assert client.post(f"{BASE}/{poll.slug}/vote", data={"option": option}).status_code == 422
    assert votes(app) == []
    # another commune's poll is not there at all
    assert client.post(f"{BASE}/{elsewhere.slug}/vote", data={"option": elsewhere.options[0].id}).status_code == 404
    assert votes(app) == []


def test_closed_upcoming_draft_and_archived_polls_take_no_votes(app, world, db_session):
    closed = make_poll(app, world.a.id, question="Đã đóng", opens_in=timedelta(days=-9), closes_in=timedelta(days=-1))
    upcoming = make_poll(app, world.a.id, question="Sắp mở", opens_in=timedelta(days=2))
    draft = make_poll(app, world.a.id, question="Bản nháp", status="draft")
    archived = make_poll(app, world.a.id, question="Lưu trữ", status="archived")
    client = app.test_client()
    sign_in(client, db_session, world.a.users["editor"])
    for poll in (closed, upcoming):
        assert client.post(f"{BASE}/{poll.slug}/vote", data={"option": poll.options[0].id}).status_code == 409
        assert client.post(f"{BASE}/{poll.slug}/phone", data={"phone": PHONE}).status_code == 409
    for poll in (draft, archived):
        assert client.get(f"{BASE}/{poll.slug}").status_code == 404
        assert client.post(f"{BASE}/{poll.slug}/vote", data={"option": poll.options[0].id}).status_code == 404
    assert votes(app) == [] and sms_codes(app) == []


def test_the_database_refuses_a_second_vote_even_past_the_check(app, world):
    poll = make_poll(app, world.a.id)
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        poll = session.get(Poll, poll.id)
        polls.cast_vote(session, poll, poll.options[0].id, "user:1")
        session.commit()
        # vote_of would catch this one; the unique index must catch it when the check is raced
        session.add(PollVote(poll_id=poll.id, option_id=poll.options[1].id, voter_key="user:2"))
        session.flush()
        with pytest.raises(Conflict):
            polls.cast_vote(session, poll, poll.options[1].id, "user:1", ())
        session.commit()  # the savepoint kept the rest of the transaction
    assert sorted(key for key, _ in votes(app)) == ["user:1", "user:2"]


def test_twenty_identical_votes_at_once_leave_one(app, world, database_url, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent writers are a PostgreSQL matter (SQLite serialises every writer)")
    poll = make_poll(app, world.a.id)
    db = database(app)
    # every thread passes the "already voted?" check: only the unique index can refuse the twins
    monkeypatch.setattr(polls, "vote_of", lambda *_args: None)

    def vote(_n: int) -> str:
        with app.app_context(), db.session(Scope(world.a.id)) as session:
            fresh = session.get(Poll, poll.id)
            try:
                polls.cast_vote(session, fresh, fresh.options[0].id, "phone:" + "a" * 64)
                session.commit()
                return "ok"
            except Conflict as error:
                session.rollback()
                return error.code

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(vote, range(20)))
    assert results.count("ok") == 1 and results.count("already_voted") == 19
    with db.session(PLATFORM) as session:
        assert session.scalar(select(func.count()).select_from(PollVote)) == 1


# -- results -----------------------------------------------------------------------------------

def test_results_are_counted_in_whole_percents_in_answer_order(app, world):
    poll = make_poll(app, world.a.id)
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        poll = session.get(Poll, poll.id)
        for n, option in enumerate([0, 0, 1]):
            polls.cast_vote(session, poll, poll.options[option].id, f"user:{n + 1}")
        result = polls.results(session, poll)
    assert result.total == 3
    assert [(row.option.label_vi, row.votes, row.percent) for row in result.options] == [
        ("Mùng 10", 2, 67), ("Thứ Bảy", 1, 33), ("Chủ nhật", 0, 0)]


def test_after_vote_results_show_to_voters_then_to_all_at_close(app, world, db_session):
    poll = make_poll(app, world.a.id, visibility="after_vote")
    page = f"{BASE}/{poll.slug}"
    anonymous = app.test_client()
    assert 'class="poll-results"' not in anonymous.get(page).get_data(as_text=True)
    voter = app.test_client()
    sign_in(voter, db_session, world.a.users["editor"])
    assert 'class="poll-results"' not in voter.get(page).get_data(as_text=True)  # not even staff, before voting
    voter.post(f"{page}/vote", data={"option": poll.options[1].id})
    assert 'class="poll-results"' in voter.get(page).get_data(as_text=True)
    assert 'class="poll-results"' not in anonymous.get(page).get_data(as_text=True)
    close(app, world.a.id, poll.id)
    text = anonymous.get(page).get_data(as_text=True)
    assert 'class="poll-results"' in text and 'name="phone"' not in text


def test_after_close_results_stay_hidden_from_voters_until_the_close(app, world, db_session):
    poll = make_poll(app, world.a.id, visibility="after_close")
    page = f"{BASE}/{poll.slug}"
    voter = app.test_client()
    sign_in(voter, db_session, world.a.users["admin"])
    voter.post(f"{page}/vote", data={"option": poll.options[0].id})
    text = voter.get(page).get_data(as_text=True)
    assert 'class="poll-results"' not in text
    assert "You have voted" in voter.get(f"{page}?lang=en").get_data(as_text=True)
    assert 'class="poll-results"' not in app.test_client().get(BASE).get_data(as_text=True)
    close(app, world.a.id, poll.id)
    for client in (voter, app.test_client()):
        assert 'class="poll-results"' in client.get(page).get_data(as_text=True)
    assert 'class="poll-results"' in app.test_client().get(BASE).get_data(as_text=True)


def close(app, tenant_id, poll_id):
    with app.app_context(), database(app).session(Scope(tenant_id)) as session:
        poll = session.get(Poll, poll_id)
        poll.closes_at = utcnow() - timedelta(seconds=1)
        session.commit()
