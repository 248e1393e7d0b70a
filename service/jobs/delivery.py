"""When the outbox is relayed: right after the request that wrote it (``OUTBOX_DELIVERY=inline``,
the embedded default), by a ``relay_outbox`` job on the RQ queue (``OUTBOX_DELIVERY=worker`` with
``REDIS_URL``: one job per committed request, at most one waiting at a time), or by a polling
process (``OUTBOX_DELIVERY=worker`` without Redis: ``xaso outbox relay --forever``).

Inline delivery runs after the request's transaction committed, in a session of its own;
whatever fails there stays pending for the next relay, it never fails the request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from flask import Flask, g
from redis.exceptions import LockError
from sqlalchemy import event
from sqlalchemy.orm import Session

from service.db import PLATFORM, database
from service.jobs import outbox
from service.jobs.models import OutboxMessage

log = logging.getLogger(__name__)
RELAY_TASK = "service.jobs.tasks.relay_outbox"
_WROTE = "xaso_outbox_written"
_COMMITTED = "xaso_outbox_committed"


@event.listens_for(Session, "after_flush")
def _note_new_messages(session: Session, _context: Any) -> None:
    if any(isinstance(obj, OutboxMessage) for obj in session.new):
        session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _note_commit(session: Session) -> None:
    if session.info.pop(_WROTE, False):
        session.info[_COMMITTED] = True


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_WROTE, None)


def init_app(app: Flask) -> None:
    # Registered after the database's teardown, so it runs before the request session is closed.
    @app.teardown_appcontext
    def _deliver_after_request(_exc: BaseException | None) -> None:
        session = g.get("db_session")
        if session is None or not session.info.pop(_COMMITTED, False):
            return
        if app.config.get("OUTBOX_DELIVERY", "inline") != "inline":
            if app.config.get("REDIS_URL"):
                _enqueue_relay(app)
            return
        relay_session = database(app).session(PLATFORM)
        try:
            report = outbox.relay(relay_session)
            if report.retried or report.dead:
                log.warning("outbox: %s delivered, %s to retry, %s dead", report.delivered, report.retried,
                            report.dead)
        except Exception:  # the request succeeded; the worker or the next request delivers later
            log.exception("outbox: inline delivery failed")
            relay_session.rollback()
        finally:
            relay_session.close()


def _pending_key(app: Flask) -> str:
    return f"xaso:jobs:{app.config.get('JOB_QUEUE', 'xaso')}:relay-pending"


def _enqueue_relay(app: Flask) -> None:
    """One relay job for the messages just committed, unless one is waiting already: that one
    will see them, since a relay job clears the mark before it reads the outbox."""
    from service.jobs.queue import enqueue, redis_connection

    connection = redis_connection(app)
    if connection is None:
        return
    try:
        if connection.set(_pending_key(app), "1", nx=True, ex=300):
            try:
                enqueue(RELAY_TASK)
            except Exception:
                connection.delete(_pending_key(app))  # the next request tries again
                raise
    except Exception:  # Redis down: the request succeeded; the scheduler's periodic relay delivers later
        log.exception("outbox: could not enqueue the relay job")


def relay_started(app: Flask) -> None:
    from service.jobs.queue import redis_connection

    connection = redis_connection(app)
    if connection is not None:
        connection.delete(_pending_key(app))


@contextmanager
def relay_lock(app: Flask, wait: float = 300) -> Iterator[None]:
    """One relay at a time across workers (Redis lock), for databases without SKIP LOCKED."""
    from service.jobs.queue import redis_connection

    connection = redis_connection(app)
    if connection is None:
        yield
        return
    lock = connection.lock(f"xaso:jobs:{app.config.get('JOB_QUEUE', 'xaso')}:relay-lock", timeout=wait,
                           blocking_timeout=wait)
    if not lock.acquire():
        raise TimeoutError("another outbox relay holds the lock")
    try:
        yield
    finally:
        with suppress(LockError):  # held past its timeout: it is free already
            lock.release()
