"""Sign-in and sign-out pages (cookie sessions, CSRF-protected forms, rate-limited)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session
from flask_babel import gettext
from werkzeug.wrappers import Response

from service.accounts.models import User
from service.accounts.services import authenticate
from service.core.security import limiter
from service.db import get_session
from service.tenants.services import communes_of
from service.tenants.web import current_user

bp = Blueprint("accounts", __name__)

MAX_NEXT_LENGTH = 2000


def safe_next(target: str | None) -> str | None:
    """A same-site relative path to return to after sign-in, or None.

    Only paths like ``/c/cam-thanh/admin/?x=1`` pass; absolute URLs, scheme-relative
    ``//evil.com``, backslash tricks (``/\\evil.com``) and control characters do not.
    """
    if not target or len(target) > MAX_NEXT_LENGTH:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _landing_for(user: User) -> str:
    communes = communes_of(get_session(), user)
    if communes:
        return f"/c/{communes[0][0].slug}/admin/"
    return "/"


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _too_many() -> str:
    return gettext("Too many sign-in attempts. Please wait a minute and try again.")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], error_message=_too_many,
               deduct_when=lambda response: response.status_code != 302)
def login() -> Any:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("accounts/login.html", next_url=next_url, email="", error=None)

    email = (request.form.get("email") or "").strip()
    password = request.form.get("password") or ""
    db_session = get_session()
    user = authenticate(db_session, email, password) if email and password else None
    if user is None:
        error = gettext("The e-mail or password is not right. Please try again.")
        return render_template("accounts/login.html", next_url=next_url, email=email, error=error), 401

    destination = next_url or _landing_for(user)
    session.clear()  # a fresh session: nothing from before sign-in survives (fixation)
    session["uid"] = user.id
    session["pwv"] = user.password_hash[-12:]
    session.permanent = True
    db_session.commit()
    return redirect(destination)


@bp.post("/logout")
def logout() -> Response:
    was_signed_in = current_user() is not None
    session.clear()
    if was_signed_in:
        flash(gettext("You have signed out."), "info")
    return redirect(safe_next(request.form.get("next")) or "/")


def blueprints() -> list[Blueprint]:
    return [bp]
