"""The transactional outbox: written with the change, delivered at least once, retried with backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from service.db import utcnow
from service.jobs import outbox
from service.jobs.models import OutboxMessage

delivered: list[dict] = []
failures: list[str] = []


@outbox.handler("test.record")
def _record(session, payloads):
    if failures:
        # Its own SQL fails first: the relay's bookkeeping must survive it (savepoint).
        session.execute(text("SELECT * FROM no_such_table"))
    delivered.extend(payloads)


@pytest.fixture(autouse=True)
def _reset():
    delivered.clear()
    failures.clear()


def _messages(db_session):
    db_session.expire_all()
    return list(db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_message_lives_and_dies_with_its_transaction(db_session):
    outbox.enqueue(db_session, "test.record", {"n": 1})
    db_session.rollback()
    assert _messages(db_session) == []
    outbox.enqueue(db_session, "test.record", {"n": 2}, tenant_id=None)
    db_session.commit()
    [message] = _messages(db_session)
    assert (message.payload, message.attempts, message.delivered_at) == ({"n": 2}, 0, None)


def test_unknown_topics_are_refused_when_written(db_session):
    with pytest.raises(LookupError):
        outbox.enqueue(db_session, "no.such.topic", {})


def test_relay_delivers_due_messages_in_order_once(db_session):
    for n in range(3):
        outbox.enqueue(db_session, "test.record", {"n": n})
    db_session.commit()
    report = outbox.relay(db_session)
    assert (report.delivered, report.retried, report.dead) == (3, 0, 0)
    assert delivered == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all(message.delivered_at is not None for message in _messages(db_session))
    assert outbox.relay(db_session).handled == 0 and len(delivered) == 3


def test_failures_back_off_then_become_dead_letters(db_session):
    outbox.enqueue(db_session, "test.record", {"n": 1})
    db_session.commit()
    failures.append("down")
    start = utcnow()
    report = outbox.relay(db_session, now=start)
    assert (report.delivered, report.retried) == (0, 1)
    [message] = _messages(db_session)
    assert message.attempts == 1 and "no_such_table" in (message.last_error or "")
    assert message.available_at == start + timedelta(seconds=10)
    # not due before its time
    assert outbox.relay(db_session, now=start + timedelta(seconds=9)).handled == 0
    now = start
    for _attempt in range(2, outbox.MAX_ATTEMPTS + 1):
        now += outbox.MAX_DELAY
        outbox.relay(db_session, now=now)
    [message] = _messages(db_session)
    assert message.attempts == outbox.MAX_ATTEMPTS and message.dead_at is not None
    assert outbox.status(db_session) == [("test.record", 0, 1)]
    failures.clear()
    assert outbox.relay(db_session, now=now + timedelta(days=30)).handled == 0 and delivered == []


def test_recovery_delivers_what_waited(db_session):
    outbox.enqueue(db_session, "test.record", {"n": 1})
    db_session.commit()
    failures.append("down")
    start = utcnow()
    outbox.relay(db_session, now=start)
    failures.clear()
    report = outbox.drain(db_session, now=start + timedelta(minutes=1))
    assert report.delivered == 1 and delivered == [{"n": 1}]
    assert outbox.status(db_session) == []


def test_backoff_doubles_and_is_capped():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert outbox.backoff(30) == outbox.MAX_DELAY
