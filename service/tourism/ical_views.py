"""The public export feed of a room type: /c/<commune>/stays/calendar/<token>.ics, for Airbnb and the like."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from service.db import get_session
from service.tenants.web import require_tenant
from service.tourism import ical

bp = Blueprint("tourism_ical", __name__)


@bp.get("/c/<commune>/stays/calendar/<token>.ics")
def export(token: str) -> Response:
    require_tenant()
    session = get_session()
    room_type = ical.room_type_by_token(session, token)  # the session is scoped: another commune's token is unknown
    if room_type is None:
        abort(404)
    response = Response(ical.export_calendar(session, room_type), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="room-{room_type.id}.ics"'
    response.headers["Cache-Control"] = "no-store"  # availability changes with every booking
    response.headers["X-Robots-Tag"] = "noindex"
    return response
