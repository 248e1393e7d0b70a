"""Public pages of polls: vote once per account or verified phone, see results.

The identity step needs no JavaScript: a signed-in visitor votes directly; anyone else posts a phone
number, gets a code by SMS and posts it back. The verified number's hash then sits in the signed
session cookie for an hour (never the number itself), so the vote form works.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext

from service.core.errors import AppError, Invalid
from service.core.i18n import current_language
from service.core.security import limiter
from service.db import get_session
from service.engagement import polls
from service.engagement.models import Poll
from service.engagement.web import citizen_rate_limit
from service.tenants.web import current_user, require_tenant

bp = Blueprint("polls", __name__, url_prefix="/c/<commune>/polls")

PENDING_KEY = "poll_phone_pending"  # {"tenant": id, "hash": phone hash} between the phone and the code
VERIFIED_KEY = "poll_phone"  # {"tenant": id, "hash": phone hash, "until": epoch seconds}


def _too_many() -> str:
    return gettext("Too many requests for codes from here. Please try again later.")


def _verified_hash() -> str | None:
    """The phone hash this browser proved for this commune, while still fresh."""
    entry = session.get(VERIFIED_KEY)
    tenant = require_tenant()
    if not isinstance(entry, dict) or entry.get("tenant") != tenant.id or entry.get("until", 0) < time.time():
        return None
    value = entry.get("hash")
    return value if isinstance(value, str) else None


def _pending_hash() -> str | None:
    entry = session.get(PENDING_KEY)
    if not isinstance(entry, dict) or entry.get("tenant") != require_tenant().id:
        return None
    value = entry.get("hash")
    return value if isinstance(value, str) else None


def _voter_keys() -> list[str]:
    """The visitor's identities, the one votes are cast with first."""
    keys = []
    user = current_user()
    if user is not None:
        keys.append(polls.user_voter_key(user.id))
    number_hash = _verified_hash()
    if number_hash:
        keys.append(polls.phone_voter_key(number_hash))
    return keys


def _message(error: AppError) -> str:
    return gettext(error.message)


def _poll_page(poll: Poll, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    db = get_session()
    vote = polls.vote_of(db, poll, _voter_keys())
    visible = polls.results_visible(poll, has_voted=vote is not None)
    response = render_template(
        "engagement/poll.html", poll=poll, vote=vote, errors=errors or {},
        results=polls.results(db, poll) if visible else None,
        is_open=polls.is_open(poll), is_closed=polls.is_closed(poll), is_upcoming=polls.is_upcoming(poll),
        signed_in=current_user() is not None, phone_verified=_verified_hash() is not None,
        code_sent=_pending_hash() is not None)
    # personal state (has voted, verified phone): never cached by a shared cache
    return response, status, {"Cache-Control": "private, no-store"}


def _back_to(poll: Poll, anchor: str = "") -> Any:
    return redirect(url_for("polls.poll_page", slug=poll.slug) + anchor, code=303)


@bp.get("")
def poll_list() -> Any:
    require_tenant()
    db = get_session()
    listed = polls.public_polls(db)
    closed = [poll for poll in listed if polls.is_closed(poll)]
    counts = polls.vote_counts(db, [poll.id for poll in closed])
    return render_template("engagement/polls.html", polls=listed,
                           results={poll.id: polls.results_from(poll, counts[poll.id]) for poll in closed},
                           is_open=polls.is_open, is_closed=polls.is_closed, is_upcoming=polls.is_upcoming)


@bp.get("/<slug>")
def poll_page(slug: str) -> Any:
    require_tenant()
    return _poll_page(polls.published_poll(get_session(), slug))


@bp.post("/<slug>/phone")
@limiter.limit(citizen_rate_limit, methods=["POST"], error_message=_too_many)
def send_code(slug: str) -> Any:
    tenant = require_tenant()
    db = get_session()
    poll = polls.published_poll(db, slug)
    if not polls.is_open(poll):
        return _poll_page(poll, {"option": gettext("This poll is not open for voting.")}, 409)
    try:
        verification = polls.send_code(db, request.form.get("phone", ""), current_language())
    except AppError as error:
        db.rollback()
        return _poll_page(poll, {"phone": _message(error)}, error.status if error.status == 429 else 422)
    db.commit()
    session[PENDING_KEY] = {"tenant": tenant.id, "hash": verification.phone_hash}
    flash(gettext("We sent a 6-digit code by SMS. It is valid for 10 minutes."), "success")
    return _back_to(poll, "#verify")


@bp.post("/<slug>/verify")
def verify(slug: str) -> Any:
    tenant = require_tenant()
    db = get_session()
    poll = polls.published_poll(db, slug)
    number_hash = _pending_hash()
    try:
        if number_hash is None:
            raise Invalid("Ask for a code first.", param="code", code="no_code")
        polls.check_code(db, number_hash, request.form.get("code", ""))
    except AppError as error:
        db.commit()  # a wrong guess counts against the code's attempts
        return _poll_page(poll, {"code": _message(error)}, error.status if error.status == 429 else 422)
    db.commit()
    session.pop(PENDING_KEY, None)
    session[VERIFIED_KEY] = {"tenant": tenant.id, "hash": number_hash,
                             "until": int(time.time() + polls.VERIFIED_FOR.total_seconds())}
    flash(gettext("Your phone number is verified. You can vote now."), "success")
    return _back_to(poll, "#vote")


@bp.post("/<slug>/restart")
def restart(slug: str) -> Any:
    """Use another phone number: forget the pending code of this browser."""
    require_tenant()
    poll = polls.published_poll(get_session(), slug)
    session.pop(PENDING_KEY, None)
    return _back_to(poll, "#verify")


@bp.post("/<slug>/vote")
def vote(slug: str) -> Any:
    require_tenant()
    db = get_session()
    poll = polls.published_poll(db, slug)
    keys = _voter_keys()
    if not keys:
        return _poll_page(poll, {"option": gettext("Sign in or verify your phone number before voting.")}, 403)
    try:
        option_id = int(request.form.get("option", ""))
    except ValueError:
        option_id = None
    try:
        polls.cast_vote(db, poll, option_id, keys[0], keys[1:])
        db.commit()
    except AppError as error:
        db.rollback()
        return _poll_page(poll, {"option": _message(error)}, 409 if error.status == 409 else 422)
    flash(gettext("Thank you: your vote is counted."), "success")
    return _back_to(poll, "#results")
