"""The job functions a worker runs (enqueued by name: ``"service.jobs.tasks.relay_outbox"``).

Each builds its own app context: in a worker the app is created once per process from the
environment; under an app context already pushed (a test, ``xaso jobs run-due``) that app is used.
Every task is idempotent: running it twice, one after the other or at the same time, changes
nothing the first run did not.

Not here on purpose:
- media variants: uploads with ``MEDIA_PROCESSING=background`` go through the outbox
  (topic ``media.process``), so ``relay_outbox`` already makes them;
- scheduled announcements: they are public from ``publish_at`` by the queries themselves (pages,
  sitemaps); they are not search documents and nobody is notified at that moment, so no job is due.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict

from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

from service.db import PLATFORM, database

_process_app: Flask | None = None


def job_app() -> Flask:
    """The app a job runs in: the one already active, else one per worker process."""
    global _process_app
    if has_app_context():
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return app
    if _process_app is None:
        from service import create_app

        _process_app = create_app()
    return _process_app


@contextmanager
def platform_session() -> Iterator[Session]:
    app = job_app()
    with app.app_context():
        session = database(app).session(PLATFORM)
        try:
            yield session
        finally:
            session.close()


def relay_outbox() -> dict[str, int]:
    """Deliver every due outbox message (search pushes, webhooks, e-mails, image variants)."""
    from service.jobs import outbox
    from service.jobs.delivery import relay_lock, relay_started

    with platform_session() as session:
        relay_started(current_app)
        # PostgreSQL hands each relay rows nobody else holds (SKIP LOCKED); on SQLite two relays
        # would read the same pending rows, so they take turns.
        exclusive = session.get_bind().dialect.name != "postgresql"
        with relay_lock(current_app) if exclusive else nullcontext():
            report = outbox.drain(session)
    return {"delivered": report.delivered, "retried": report.retried, "dead": report.dead}


def sync_calendars() -> dict[str, int]:
    """Refresh the imported iCal feeds of every commune's room types."""
    from service.tourism.ical import sync_all

    with platform_session() as session:
        return asdict(sync_all(session))


def reconcile_payments() -> dict[str, int]:
    """Ask VNPay about payments whose IPN never came."""
    from service.payments.vnpay import reconcile

    with platform_session() as session:
        return asdict(reconcile(session))


def expire_holds() -> dict[str, int]:
    """Cancel unpaid payments past their time: their orders release the stock, their bookings the
    nights they held. Also forget Idempotency-Keys older than a day."""
    from service.payments.idempotency import purge_expired
    from service.payments.services import expire_everywhere

    with platform_session() as session:
        expired = expire_everywhere(session)
        purged = purge_expired(session)
        session.commit()
    return {"expired": expired, "purged_keys": purged}
