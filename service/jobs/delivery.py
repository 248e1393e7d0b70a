"""When the outbox is relayed: right after the request that wrote it (``OUTBOX_DELIVERY=inline``,
the embedded default) or only by a worker process (``xaso outbox relay --forever``).

Inline delivery runs after the request's transaction committed, in a session of its own;
whatever fails there stays pending for the next relay, it never fails the request.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.orm import Session

from service.db import PLATFORM, database
from service.jobs import outbox
from service.jobs.models import OutboxMessage

log = logging.getLogger(__name__)
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
