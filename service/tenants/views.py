"""Public pages of the platform and of each commune: the portal and the commune home."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from service.catalog.services import featured_products, list_categories
from service.db import get_session
from service.tenants.services import list_tenants
from service.tenants.web import require_tenant

bp = Blueprint("tenants", __name__)


def paragraphs(text: str | None) -> list[str]:
    """Split free text on blank lines (or single newlines) into paragraphs for <p> elements."""
    if not text:
        return []
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = normalised.split("\n\n") if "\n\n" in normalised else normalised.split("\n")
    return [" ".join(line.strip() for line in block.split("\n")).strip() for block in blocks if block.strip()]


@bp.get("/")
def portal() -> Any:
    return render_template("tenants/portal.html", communes=list_tenants(get_session()))


@bp.get("/c/<commune>/")
def home() -> Any:
    tenant = require_tenant()
    session = get_session()
    return render_template(
        "tenants/home.html",
        commune=tenant,
        featured=featured_products(session),
        categories=list_categories(session),
        paragraphs=paragraphs,
    )


def blueprints() -> list[Blueprint]:
    return [bp]
