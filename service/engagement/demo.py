"""The demo communes' citizen corner: report categories and reports in every status, announcements,
questions with answers, an open and a closed poll."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.engagement.demo_civic import load_civic
from service.engagement.demo_polls import load_polls
from service.engagement.demo_reports import load_reports
from service.media.storage import Storage
from service.tenants.models import Tenant


def load_engagement(session: Session, storage: Storage, tenant: Tenant) -> None:
    """For one commune; the session is scoped to it and the caller commits."""
    load_reports(session, storage, tenant)
    load_civic(session, tenant)
    load_polls(session, tenant)
