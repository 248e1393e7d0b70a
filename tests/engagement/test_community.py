"""The community page: a way into announcements, polls, field reports and answers, from the main nav,
in both languages, with nothing private on it; and the demo commune's whole citizen corner."""

from __future__ import annotations

import json

from sqlalchemy import select

from service.db import Scope, database
from service.engagement import polls, services
from service.engagement.demo import load_engagement
from service.engagement.models import Announcement, FieldReport, Poll, Question, QuestionStatus, ReportStatus
from service.media.storage import get_storage
from service.tenants.models import Tenant


def _load_demo(app, tenant_id: int) -> None:
    with app.app_context(), database(app).session(Scope(tenant_id)) as session:
        load_engagement(session, get_storage(), session.get(Tenant, tenant_id))
        session.commit()


def test_empty_commune_shows_the_ways_in(client, world):
    page = client.get(f"/c/{world.a.slug}/community")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for link in ("/reports/new", "/questions/new", "/announcements", "/polls", "/reports", "/questions"):
        assert f"/c/{world.a.slug}{link}" in html
    assert "Chưa có phản ánh nào." in html


def test_the_nav_leads_to_it(client, world):
    home = client.get(f"/c/{world.a.slug}/").get_data(as_text=True)
    assert f'href="/c/{world.a.slug}/community"' in home
    assert 'aria-current="page">Cộng đồng' in client.get(f"/c/{world.a.slug}/polls").get_data(as_text=True)


def test_demo_commune_corner_lists_each_part_without_private_data(app, client, world):
    _load_demo(app, world.a.id)
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        pinned = session.scalars(select(Announcement).where(Announcement.is_pinned.is_(True))).first()
        open_poll = next(p for p in session.scalars(select(Poll)) if polls.is_open(p))
        newest = services.public_reports(session, page=1, per_page=1).items[0]
        answered = session.scalars(select(Question).where(Question.status == QuestionStatus.PUBLISHED)).first()
        contacts = [services.contact_of(session, "report", r.id) for r in session.scalars(select(FieldReport))]
        statuses = {r.status for r in session.scalars(select(FieldReport))}
    assert statuses == set(ReportStatus)
    for language in ("vi", "en"):
        html = client.get(f"/c/{world.a.slug}/community?lang={language}").get_data(as_text=True)
        assert pinned is not None and pinned.slug in html
        assert open_poll.slug in html
        assert newest.code in html
        assert answered is not None and answered.code in html
        for contact in filter(None, contacts):
            for private in (contact.name, contact.phone, contact.email):
                assert not private or private not in html
    assert "Field reports" in client.get(f"/c/{world.a.slug}/community?lang=en").get_data(as_text=True)


def test_demo_reports_are_served_by_open311(app, client, world):
    _load_demo(app, world.a.id)
    served = json.loads(client.get(f"/c/{world.a.slug}/open311/v2/requests.json").data)
    assert {r["status"] for r in served} == {"open", "closed"}
    assert len(served) >= 10
    services_list = json.loads(client.get(f"/c/{world.a.slug}/open311/v2/services.json").data)
    assert len(services_list) == 6 and any(s["metadata"] for s in services_list)
