"""The transactional outbox.

``enqueue`` adds a message in the caller's transaction: it commits or rolls back with the
change it describes, so a side effect is never lost (Meilisearch down, SMTP down) and never
sent for a change that did not happen. ``relay`` delivers pending messages at least once,
in order per topic, retrying failures with exponential backoff; a handler must therefore be
idempotent. Messages that keep failing are kept as dead letters for an operator to see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from service.jobs.models import OutboxMessage

Handler = Callable[[Session, list[dict[str, Any]]], None]

MAX_ATTEMPTS = 12
BASE_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(hours=6)
BATCH = 500

_handlers: dict[str, Handler] = {}
_one_by_one: set[str] = set()


def handler(topic: str, *, batch: bool = True) -> Callable[[Handler], Handler]:
    """Register the function that delivers a topic's messages: a batch of payloads at a time, or one
    at a time (``batch=False``) where each message goes somewhere else and must succeed or fail alone."""

    def register(function: Handler) -> Handler:
        _handlers[topic] = function
        if not batch:
            _one_by_one.add(topic)
        return function

    return register


def enqueue(session: Session, topic: str, payload: dict[str, Any], tenant_id: int | None = None) -> OutboxMessage:
    if topic not in _handlers:
        raise LookupError(f"no outbox handler for {topic!r}")
    message = OutboxMessage(topic=topic, payload=payload, tenant_id=tenant_id)
    session.add(message)
    return message


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, ... capped at 6 hours: 12 attempts span about a day."""
    delay: timedelta = BASE_DELAY * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_DELAY)


@dataclass
class RelayReport:
    delivered: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retried + self.dead


def pending(session: Session, now: datetime, limit: int = BATCH,
            topics: list[str] | None = None) -> list[OutboxMessage]:
    statement = (select(OutboxMessage)
                 .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.dead_at.is_(None),
                        OutboxMessage.available_at <= now)
                 .order_by(OutboxMessage.id).limit(limit))
    if topics:
        statement = statement.where(OutboxMessage.topic.in_(topics))
    if session.get_bind().dialect.name == "postgresql":
        # Several relays (web processes, workers) may run at once: each takes rows no other holds.
        statement = statement.with_for_update(skip_locked=True)
    return list(session.scalars(statement))


def relay(session: Session, *, now: datetime | None = None, limit: int = BATCH,
          topics: list[str] | None = None) -> RelayReport:
    """Deliver one batch of due messages and commit their new state."""
    from service.db import utcnow

    now = now or utcnow()
    report = RelayReport()
    messages = pending(session, now, limit, topics)
    for topic in dict.fromkeys(message.topic for message in messages):
        same_topic = [message for message in messages if message.topic == topic]
        batches = [[message] for message in same_topic] if topic in _one_by_one else [same_topic]
        for batch in batches:
            _deliver(session, topic, batch, now, report)
    session.commit()
    return report


def _deliver(session: Session, topic: str, batch: list[OutboxMessage], now: datetime, report: RelayReport) -> None:
    try:
        with session.begin_nested():  # a failed handler's own SQL is undone, our bookkeeping is not
            _handlers[topic](session, [dict(message.payload) for message in batch])
    except Exception as error:  # noqa: BLE001 - any failure of the far side means "try again later"
        _failed(batch, now, error, report)
    else:
        for message in batch:
            message.delivered_at = now
        report.delivered += len(batch)


def drain(session: Session, *, now: datetime | None = None, topics: list[str] | None = None) -> RelayReport:
    """Relay batches until nothing due is left (or only retries remain)."""
    total = RelayReport()
    while True:
        report = relay(session, now=now, topics=topics)
        total.delivered += report.delivered
        total.retried += report.retried
        total.dead += report.dead
        if report.delivered == 0 or report.handled < BATCH:
            return total


def _failed(batch: list[OutboxMessage], now: datetime, error: Exception, report: RelayReport) -> None:
    reason = f"{type(error).__name__}: {error}"[:2000]
    for message in batch:
        message.attempts += 1
        message.last_error = reason
        if message.attempts >= MAX_ATTEMPTS:
            message.dead_at = now
            report.dead += 1
        else:
            message.available_at = now + backoff(message.attempts)
            report.retried += 1


def status(session: Session) -> list[tuple[str, int, int]]:
    """(topic, pending, dead) for every topic with undelivered messages."""
    dead = OutboxMessage.dead_at.is_not(None)
    statement = (select(OutboxMessage.topic, func.sum(case((dead, 0), else_=1)), func.sum(case((dead, 1), else_=0)))
                 .where(OutboxMessage.delivered_at.is_(None))
                 .group_by(OutboxMessage.topic).order_by(OutboxMessage.topic))
    return [(topic, int(waiting), int(failed)) for topic, waiting, failed in session.execute(statement)]
