"""The VietQR image of a payment intent, for the order and payment pages (and any <img>)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from service.core.errors import NotFound
from service.db import get_session
from service.payments.models import IntentStatus
from service.payments.services import get_intent
from service.payments.vietqr import svg
from service.tenants.web import require_tenant

bp = Blueprint("vietqr", __name__)
# The image of an intent never changes (its payload is fixed when it is confirmed).
IMMUTABLE = "public, max-age=31536000, immutable"


@bp.get("/c/<commune>/pay/<public_id>/qr.svg")
def qr_svg(public_id: str) -> Any:
    """Anyone holding the intent's id (unguessable, only on the buyer's pages) may fetch its QR."""
    require_tenant()
    intent = get_intent(get_session(), public_id)  # scoped to the URL's commune: others' ids are 404
    qr = (intent.next_action or {}).get("display_qr") or {}
    if intent.payment_method != "vietqr" or not qr.get("payload") or intent.status == IntentStatus.CANCELED:
        raise NotFound("No QR code for this payment.", param="id")
    response = Response(svg(qr["payload"]), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    # An SVG opened on its own is a document: let it run nothing and load nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


def blueprints() -> list[Blueprint]:
    return [bp]
