"""The commune admin: dashboard, branding and the audit log, plus the form helpers the
catalog admin shares. Every page needs a role in the commune (``commune_member_required``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from marshmallow import Schema, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.services import list_entries, record
from service.catalog.models import ProductStatus, Seller
from service.catalog.services import list_manageable_products
from service.core.errors import AppError
from service.db import get_session
from service.tenants.schemas import BrandingInSchema
from service.tenants.services import BRANDING_FIELDS, Actor, update_branding
from service.tenants.web import commune_member_required, current_actor, require_tenant

ADMIN_PREFIX = "/c/<commune>/admin"
PER_PAGE = 20

tenant_admin = Blueprint("tenant_admin", __name__, url_prefix=ADMIN_PREFIX)

STATUS_LABELS = {
    "draft": lazy_gettext("Draft"),
    "pending_review": lazy_gettext("Pending review"),
    "published": lazy_gettext("Published"),
    "archived": lazy_gettext("Archived"),
}
ROLE_LABELS = {
    "admin": lazy_gettext("Administrator"),
    "editor": lazy_gettext("Editor"),
    "volunteer": lazy_gettext("Volunteer"),
    "seller": lazy_gettext("Seller"),
    "platform_admin": lazy_gettext("Platform administrator"),
    "": lazy_gettext("System"),
}
ACTION_LABELS = {
    "submit": lazy_gettext("Submit for review"),
    "approve": lazy_gettext("Approve"),
    "reject": lazy_gettext("Reject"),
    "archive": lazy_gettext("Archive"),
    "restore": lazy_gettext("Restore"),
}


def admin_labels() -> dict[str, Any]:
    """Template helpers for every admin page (registered on both admin blueprints)."""
    return {
        "status_label": lambda status: STATUS_LABELS.get(str(getattr(status, "value", status)), status),
        "role_label": lambda role: ROLE_LABELS.get(str(getattr(role, "value", role) or ""), role),
        "action_label": lambda action: ACTION_LABELS.get(action, action),
        "STATUSES": [status.value for status in ProductStatus],
    }


tenant_admin.context_processor(admin_labels)


# ---------------------------------------------------------------------------
# Form helpers shared by the admin pages


def form_errors(error: ValidationError | AppError, hints: Mapping[str, Any] | None = None) -> dict[str, str]:
    """One friendly, translated message per field ("_" when no field is known)."""
    hints = hints or {}
    if isinstance(error, AppError):
        field = error.param or "_"
        return {field: gettext(error.message)}
    messages = error.messages if isinstance(error.messages, dict) else {"_": error.messages}
    result: dict[str, str] = {}
    for field, value in messages.items():
        first = value[0] if isinstance(value, list) and value else value
        result[str(field)] = str(hints[field]) if field in hints else gettext(str(first))
    return result


def form_errors_or_raise(error: AppError) -> dict[str, str]:
    """A service's refusal of the input becomes a field message; 401/403/404 stay errors."""
    if error.status in (401, 403, 404):
        raise error
    return form_errors(error)


def load_form(schema: Schema, data: dict[str, Any], errors: dict[str, str],
              hints: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Load form data through a marshmallow schema, adding field messages to ``errors``."""
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        for field, message in form_errors(exc, hints).items():
            errors.setdefault(field, message)
        return {}
    return loaded


def checkbox(name: str) -> bool:
    """HTML checkboxes are absent from the form when unticked: absent means False."""
    return name in request.form


def int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def page_arg() -> int:
    return int_arg("page") or 1


def safe_next(default: str) -> str:
    """Only local paths: never redirect to another site."""
    target = request.form.get("next") or request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return default


def saved(message: str, endpoint: str, **values: Any) -> Any:
    """Success: commit, tell the user, redirect (post/redirect/get)."""
    get_session().commit()
    flash(message, "success")
    return redirect(url_for(endpoint, **values), code=303)


def form_failed() -> None:
    """Nothing the failed form touched may be saved, not even by a later autoflush."""
    get_session().rollback()


# ---------------------------------------------------------------------------
# Dashboard


@tenant_admin.get("/")
@commune_member_required
def home() -> Any:
    """Staff see the commune's dashboard, a seller its own; a volunteer the products it manages."""
    from service.dashboard import seller_views, views

    session = get_session()
    actor = current_actor()
    if actor.is_staff:
        return views.staff_dashboard()
    if actor.role_name == "seller":
        return seller_views.seller_dashboard()
    counts = product_counts(session, actor)
    return render_template("admin/home.html", counts=counts, total=sum(counts.values()))


def product_counts(session: Session, actor: Actor) -> dict[str, int]:
    """How many products ``actor`` manages in each status (staff: all of the commune's)."""
    return {status.value: list_manageable_products(session, actor, status=status.value, per_page=1).total
            for status in ProductStatus}


# ---------------------------------------------------------------------------
# Branding


BRANDING_FORM_FIELDS = tuple(field for field in BRANDING_FIELDS if field != "cover_key")
BRANDING_HINTS = {
    "name": lazy_gettext("Enter the commune's name (up to 120 characters)."),
    "primary_color": lazy_gettext("Colour must look like #1f6f50."),
}


@tenant_admin.route("/branding", methods=["GET", "POST"])
@commune_member_required
def branding() -> Any:
    actor = current_actor()
    actor.require(actor.is_admin, gettext("Only the commune's administrator can change its branding."))
    tenant = require_tenant()
    values = {field: getattr(tenant, field) or "" for field in BRANDING_FORM_FIELDS}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {field: request.form.get(field, "") for field in BRANDING_FORM_FIELDS}
        data = load_form(BrandingInSchema(), values, errors, BRANDING_HINTS)
        if not errors:
            session = get_session()
            try:
                changes = update_branding(session, tenant, data)
            except AppError as exc:
                errors.update(form_errors_or_raise(exc))
            else:
                if changes:
                    record(session, actor, "tenant.branding_updated", tenant, changes)
                return saved(gettext("Branding saved."), "tenant_admin.branding")
        form_failed()
    status = 422 if errors else 200
    return render_template("admin/branding.html", values=values, errors=errors), status


# ---------------------------------------------------------------------------
# Audit log


@tenant_admin.get("/audit")
@commune_member_required
def audit() -> Any:
    actor = current_actor()
    actor.require(actor.is_staff, gettext("Only commune staff can read the audit log."))
    session = get_session()
    seller_id = int_arg("seller")
    entries = list_entries(session, seller_id=seller_id, page=page_arg(), per_page=PER_PAGE)
    sellers = list(session.scalars(select(Seller).order_by(Seller.name)))
    return render_template("admin/audit.html", entries=entries, sellers=sellers, seller_id=seller_id)


def blueprints() -> list[Blueprint]:
    return [tenant_admin]
