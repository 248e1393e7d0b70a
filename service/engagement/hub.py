"""The commune's citizen corner: what the commune says (announcements), asks (polls) and answers
(field reports, questions), one page with a way into each."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from service.db import get_session
from service.engagement import announcements, polls, questions
from service.engagement.services import public_reports
from service.tenants.web import require_tenant

bp = Blueprint("community", __name__, url_prefix="/c/<commune>")

SHOWN = 3


@bp.get("/community")
def community() -> Any:
    tenant = require_tenant()
    session = get_session()
    open_polls = [poll for poll in polls.public_polls(session) if polls.is_open(poll)]
    return render_template(
        "engagement/community.html", tenant=tenant,
        announcements=announcements.public_announcements(session, page=1, per_page=SHOWN).items,
        polls=open_polls[:SHOWN],
        reports=public_reports(session, page=1, per_page=SHOWN + 2).items,
        questions=questions.published_questions(session, page=1, per_page=SHOWN).items,
    )
