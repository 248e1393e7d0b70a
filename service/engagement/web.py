"""What every citizen-facing form of the engagement pages shares: the spam guards."""

from __future__ import annotations

from flask import current_app, request

HONEYPOT = "website"  # a field people never see (hidden by CSS); robots fill every field they find


def citizen_rate_limit() -> str:
    """Flask-Limiter's limit for reports, questions and phone codes per address (ENGAGEMENT_RATE_LIMIT)."""
    return str(current_app.config["ENGAGEMENT_RATE_LIMIT"])


def open311_rate_limit() -> str:
    return str(current_app.config["OPEN311_RATE_LIMIT"])


def filled_by_a_robot() -> bool:
    return bool(request.form.get(HONEYPOT, "").strip())
