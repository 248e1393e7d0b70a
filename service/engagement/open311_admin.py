"""Staff manage the API keys that let Open311 client apps post requests."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext

from service.audit.services import record
from service.core.errors import AppError
from service.db import get_session
from service.engagement.open311_keys import create_key, list_keys, revoke_key
from service.tenants.admin import ADMIN_PREFIX, admin_labels, form_errors_or_raise, form_failed, saved
from service.tenants.web import commune_member_required, current_actor, require_tenant

open311_admin = Blueprint("open311_admin", __name__, url_prefix=ADMIN_PREFIX)
open311_admin.context_processor(admin_labels)


def _require_staff() -> None:
    actor = current_actor()
    actor.require(actor.is_staff, gettext("Only commune staff can manage Open311 keys."))


@open311_admin.route("/open311-keys", methods=["GET", "POST"])
@commune_member_required
def keys() -> Any:
    _require_staff()
    session = get_session()
    errors: dict[str, str] = {}
    values = {"name": ""}
    new_key: str | None = None
    status = 200
    if request.method == "POST":
        values["name"] = request.form.get("name", "")
        try:
            key, new_key = create_key(session, values["name"])
        except AppError as exc:
            errors = form_errors_or_raise(exc)
            form_failed()
            status = 422
        else:
            record(session, current_actor(), "open311_key.created", key, {"name": key.name,
                                                                          "key_prefix": key.key_prefix})
            session.commit()
            values["name"] = ""
            status = 201
    base = f"{current_app.config['PUBLIC_BASE_URL']}/c/{require_tenant().slug}/open311"
    response = render_template("admin/engagement/open311_keys.html", keys=list_keys(session), errors=errors,
                               values=values, new_key=new_key, endpoint=f"{base}/v2",
                               discovery=f"{base}/discovery.json")
    # The plaintext key is on this page once: no cache may keep a copy.
    return response, status, {"Cache-Control": "no-store"}


@open311_admin.post("/open311-keys/<int:key_id>/revoke")
@commune_member_required
def revoke(key_id: int) -> Any:
    _require_staff()
    session = get_session()
    key = revoke_key(session, key_id)
    record(session, current_actor(), "open311_key.revoked", key, {"name": key.name, "key_prefix": key.key_prefix})
    return saved(gettext("The key of %(name)s no longer works.", name=key.name), "open311_admin.keys")
