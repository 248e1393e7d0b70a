"""Staff settings of a commune's feeds: access, token, CSV layout, and the feed report.

One page (``/c/<slug>/admin/feeds``) shows the feed URLs to give marketplaces, who may fetch them,
the CSV layout, and which products each marketplace would refuse and why, each with a link to fix it.
A new feed token is shown once, in the answer to the POST that made it; only its hash is kept.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from service.audit.services import record
from service.core.urls import commune_url
from service.db import Scope, database, get_session
from service.feeds import csv_feed
from service.feeds.access import new_token, settings_for
from service.feeds.formats import load_formats
from service.feeds.items import FeedItem
from service.feeds.models import FeedAccess, FeedSettings
from service.feeds.rules import MARKETPLACES, Problem, feed_report
from service.media.storage import get_storage
from service.tenants.admin import ADMIN_PREFIX, admin_labels, form_failed, saved
from service.tenants.models import Tenant
from service.tenants.web import commune_member_required, current_actor, require_tenant

feeds_admin = Blueprint("feeds_admin", __name__, url_prefix=ADMIN_PREFIX)
feeds_admin.context_processor(admin_labels)

REPORT_LIMIT = 100  # failing products listed per marketplace; the count covers them all
TOKEN_PLACEHOLDER = "YOUR_TOKEN"
MARKETPLACE_LABELS = {"google": lazy_gettext("Google Merchant Center"),
                      "postmart": lazy_gettext("Postal marketplace (Postmart)")}
PRESET_LABELS = {"postmart": lazy_gettext("Postal marketplace template (Vietnamese headers)"),
                 "generic": lazy_gettext("Every field (English headers)")}
COLUMN_PROBLEMS = {
    "count": lazy_gettext("Give between 1 and 60 columns."),
    "header": lazy_gettext("A header needs 1 to 100 characters."),
    "field": lazy_gettext("This field does not exist; pick one from the list."),
    "format": lazy_gettext("Write each column as: Header | field"),
}

# Problems come in English with stable codes; the page says them in the reader's language.
FIELD_LABELS = {
    "id": lazy_gettext("Product code"), "title": lazy_gettext("Name"), "description": lazy_gettext("Description"),
    "link": lazy_gettext("Page address"), "image_link": lazy_gettext("Photo"),
    "additional_image_link": lazy_gettext("Extra photos"), "availability": lazy_gettext("Availability"),
    "price": lazy_gettext("Price"), "condition": lazy_gettext("Condition"), "brand": lazy_gettext("Brand"),
    "product_type": lazy_gettext("Product type"), "gtin": lazy_gettext("Barcode (GTIN)"),
    "weight_grams": lazy_gettext("Shipping weight (grams)"), "category": lazy_gettext("Category"),
}
CODE_LABELS = {
    "missing": lazy_gettext("missing"), "too_long": lazy_gettext("too long, the feed shortens it"),
    "invalid": lazy_gettext("not valid"), "bad_check_digit": lazy_gettext("the last (check) digit is wrong"),
    "too_many": lazy_gettext("too many, the rest are left out"), "not_positive": lazy_gettext("not set"),
    "too_short": lazy_gettext("too short"),
}


def problem_text(problem: Problem) -> str:
    field = FIELD_LABELS.get(problem.field)
    code = CODE_LABELS.get(problem.code)
    if field is None or code is None:
        return problem.message
    return f"{field}: {code}"


def _require_staff() -> None:
    actor = current_actor()
    actor.require(actor.is_staff, gettext("Only commune staff can open this page."))


def _feed_links(tenant: Tenant, settings: FeedSettings) -> list[dict[str, str]]:
    protected = settings.access == FeedAccess.TOKEN
    links = []
    for fmt in sorted(load_formats().values(), key=lambda f: f.name):
        url = commune_url(tenant.slug, f"/feeds/{fmt.filename}")
        links.append({"name": fmt.name, "filename": fmt.filename,
                      "url": url + (f"?token={TOKEN_PLACEHOLDER}" if protected else ""),
                      "download": url_for("feeds.feed", filename=fmt.filename, download=1)})
    return links


def _report(tenant: Tenant) -> list[dict[str, Any]]:
    """Each marketplace's refused products, read in a session of their own: the item stream empties
    its session's identity map batch after batch, which must not detach the page's objects."""
    session = database().session(Scope(tenant.id))
    try:
        result = []
        for marketplace in MARKETPLACES:
            failing: list[tuple[FeedItem, list[Problem]]] = []
            total = 0
            for item, found in feed_report(session, get_storage(), tenant, marketplace):
                total += 1
                if len(failing) < REPORT_LIMIT:
                    failing.append((item, found))
            result.append({"marketplace": marketplace, "label": MARKETPLACE_LABELS.get(marketplace, marketplace),
                           "total": total, "items": failing})
        return result
    finally:
        session.close()


def _page(settings: FeedSettings, *, errors: dict[str, str] | None = None, mapping: str | None = None,
          token: str = "", status: int = 200) -> Any:
    tenant = require_tenant()
    if mapping is None:
        mapping = csv_feed.mapping_text(settings.csv_columns) if settings.csv_columns else ""
    preset_columns = {name: csv_feed.mapping_text(columns) for name, columns in csv_feed.PRESETS.items()}
    return render_template(
        "admin/feeds/index.html", settings=settings, links=_feed_links(tenant, settings), token=token,
        errors=errors or {}, mapping=mapping, presets=PRESET_LABELS, preset_columns=preset_columns,
        fields=csv_feed.AVAILABLE_FIELDS, report=_report(tenant), token_placeholder=TOKEN_PLACEHOLDER,
        problem_text=problem_text,
    ), status


@feeds_admin.route("/feeds", methods=["GET", "POST"], endpoint="feeds")
@commune_member_required
def feeds_page() -> Any:
    _require_staff()
    session = get_session()
    if request.method == "GET":
        return _page(settings_for(session))
    settings = settings_for(session, create=True)
    if request.form.get("action") == "token":
        return _issue_token(settings)
    return _save_settings(settings)


def _issue_token(settings: FeedSettings) -> Any:
    session = get_session()
    token = new_token(settings)
    record(session, current_actor(), "feeds.token_issued", settings,
           {"token_prefix": settings.token_prefix, "access": settings.access})
    session.commit()
    return _page(settings, token=token)  # shown once: never stored, never redirected through a cookie


def _save_settings(settings: FeedSettings) -> Any:
    session = get_session()
    form = request.form
    errors: dict[str, str] = {}
    access = form.get("access", settings.access)
    if access not in {a.value for a in FeedAccess}:
        errors["access"] = gettext("Choose who may fetch the feeds.")
    preset = form.get("csv_preset", settings.csv_preset)
    if preset not in csv_feed.PRESETS:
        errors["csv_preset"] = gettext("Choose a CSV layout from the list.")
    mapping = form.get("csv_columns", "")
    columns: list[dict[str, str]] = []
    if mapping.strip():
        try:
            columns = csv_feed.parse_mapping(mapping)
        except csv_feed.ColumnError as error:
            problem = str(COLUMN_PROBLEMS[error.code])
            errors["csv_columns"] = (gettext("Line %(line)s: %(problem)s", line=error.line, problem=problem)
                                     if error.line else problem)
    if errors:
        form_failed()
        return _page(settings_for(session), errors=errors, mapping=mapping, status=422)
    before = {"access": settings.access, "csv_preset": settings.csv_preset, "csv_columns": settings.csv_columns}
    token = ""
    if access == FeedAccess.TOKEN and not settings.token_hash:
        token = new_token(settings)  # protecting the feeds needs a token: issue the first one now
    elif access == FeedAccess.PUBLIC:
        settings.token_hash, settings.token_prefix = "", ""  # going public retires the token
    settings.access = FeedAccess(access)
    settings.csv_preset = preset
    settings.csv_columns = columns
    after = {"access": settings.access, "csv_preset": settings.csv_preset, "csv_columns": settings.csv_columns}
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if token:
        changes["token_prefix"] = ["", settings.token_prefix]
    if changes:
        record(session, current_actor(), "feeds.settings_updated", settings, changes)
    if token:
        session.commit()
        return _page(settings, token=token)
    return saved(gettext("Feed settings saved."), "feeds_admin.feeds")
