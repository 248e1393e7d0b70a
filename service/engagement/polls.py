"""Polls: one vote per account or verified phone, results shown after voting or at the close.

A phone is proven by a one-time SMS code. Only keyed hashes of the number and of the code are
stored (HMAC-SHA256, key derived from ``SECRET_KEY``), so the database never holds the number; the
SMS outbox row carries it until the message is sent. A vote's ``voter_key`` is ``user:<id>`` or
``phone:<hash>``; the unique (poll, voter_key) index is what refuses a second vote, however the
requests race.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.audit.services import record
from service.core.contact import normalize_phone
from service.core.errors import AppError, Conflict, Invalid, NotFound
from service.core.text import slugify
from service.db import current_tenant_id, utcnow
from service.engagement.models import PhoneVerification, Poll, PollOption, PollVote, PublishState, ResultsVisibility
from service.engagement.services import N_
from service.notifications.sms import queue_sms
from service.tenants.services import Actor

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
CODES_PER_HOUR = 3
VERIFIED_FOR = timedelta(hours=1)  # how long a verified phone may vote from this browser
MIN_OPTIONS, MAX_OPTIONS = 2, 10
QUESTION_MAX, LABEL_MAX, DESCRIPTION_MAX = 300, 200, 4000
# What staff may still change once people have voted: the rest would change what they voted on.
EDITABLE_AFTER_VOTES = frozenset({"closes_at", "status", "options"})
SMS_TEXTS = {
    "vi": "Mã xác minh XaSo của bạn là {code}, hiệu lực 10 phút.",
    "en": "Your XaSo verification code is {code}, valid for 10 minutes.",
}


class TooMany(AppError):
    """A friendly 429: too many codes for this phone, or too many wrong guesses of one code."""

    status = 429
    type = "rate_limit_error"
    code = "too_many"


# -- phone verification --------------------------------------------------------------------------

def _hash_key() -> bytes:
    return hashlib.sha256(b"xaso-phone:" + str(current_app.config["SECRET_KEY"]).encode()).digest()


def phone_hash(phone: str) -> str:
    """The keyed hash of a number in any usual spelling ('0905 123 456' = '+84905123456')."""
    return hmac.new(_hash_key(), normalize_phone(phone).encode(), hashlib.sha256).hexdigest()


def _code_hash(number_hash: str, code: str) -> str:
    # bound to the number: a code is worth nothing for another phone
    return hmac.new(_hash_key(), f"{number_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def send_code(session: Session, phone: str, language: str = "vi") -> PhoneVerification:
    """Text a fresh 6-digit code to ``phone``; at most ``CODES_PER_HOUR`` codes per number and hour."""
    number = normalize_phone(phone)
    number_hash = phone_hash(number)
    now = utcnow()
    recent = session.scalar(select(func.count()).select_from(PhoneVerification).where(
        PhoneVerification.phone_hash == number_hash, PhoneVerification.created_at > now - timedelta(hours=1))) or 0
    if recent >= CODES_PER_HOUR:
        raise TooMany(N_("Too many codes for this phone number. Please try again in an hour."), param="phone",
                      code="too_many_codes")
    code = f"{secrets.randbelow(10**6):06d}"
    verification = PhoneVerification(phone_hash=number_hash, code_hash=_code_hash(number_hash, code),
                                     expires_at=now + CODE_LIFETIME, created_at=now)
    session.add(verification)
    text = SMS_TEXTS.get(language, SMS_TEXTS["vi"]).format(code=code)
    queue_sms(session, to=number, text=text, tenant_id=current_tenant_id(session))
    session.flush()
    return verification


def check_code(session: Session, number_hash: str, code: str) -> str:
    """The phone hash once ``code`` matches the number's latest code.

    A wrong guess is counted on the verification row: commit even when this raises.
    """
    verification = session.scalars(select(PhoneVerification).where(
        PhoneVerification.phone_hash == number_hash, PhoneVerification.verified_at.is_(None),
    ).order_by(PhoneVerification.created_at.desc(), PhoneVerification.id.desc()).limit(1)).first()
    if verification is None:
        raise Invalid(N_("Ask for a code first."), param="code", code="no_code")
    if verification.attempts >= MAX_ATTEMPTS:
        raise TooMany(N_("Too many wrong codes. Ask for a new code."), param="code", code="too_many_attempts")
    if utcnow() >= verification.expires_at:
        raise Invalid(N_("This code has expired. Ask for a new one."), param="code", code="code_expired")
    verification.attempts += 1
    given = "".join(code.split())
    if not hmac.compare_digest(verification.code_hash, _code_hash(number_hash, given)):
        session.flush()
        raise Invalid(N_("This code is not right. Check the SMS and try again."), param="code", code="wrong_code")
    verification.verified_at = utcnow()
    session.flush()
    return number_hash


def user_voter_key(user_id: int) -> str:
    return f"user:{user_id}"


def phone_voter_key(number_hash: str) -> str:
    return f"phone:{number_hash}"


# -- reading polls -------------------------------------------------------------------------------

def is_open(poll: Poll, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (poll.status == PublishState.PUBLISHED and (poll.opens_at is None or poll.opens_at <= now)
            and (poll.closes_at is None or now < poll.closes_at))


def is_closed(poll: Poll, now: datetime | None = None) -> bool:
    return poll.closes_at is not None and (now or utcnow()) >= poll.closes_at


def is_upcoming(poll: Poll, now: datetime | None = None) -> bool:
    return poll.opens_at is not None and (now or utcnow()) < poll.opens_at and not is_closed(poll, now)


def results_visible(poll: Poll, *, has_voted: bool, now: datetime | None = None) -> bool:
    """What the public sees: everyone after the close; before it, voters of an ``after_vote`` poll."""
    if is_closed(poll, now):
        return True
    return poll.results_visibility == ResultsVisibility.AFTER_VOTE and has_voted


def public_polls(session: Session) -> list[Poll]:
    """Published polls, open ones first (closing soonest), then upcoming, then closed (latest first)."""
    polls = list(session.scalars(select(Poll).where(Poll.status == PublishState.PUBLISHED)))
    now = utcnow()
    far = datetime.max.replace(tzinfo=UTC)

    def order(poll: Poll) -> tuple[int, float]:
        if is_open(poll, now):
            return 0, (poll.closes_at or far).timestamp()
        if is_upcoming(poll, now):
            return 1, (poll.opens_at or now).timestamp()
        return 2, -(poll.closes_at or now).timestamp()

    return sorted(polls, key=order)


def staff_polls(session: Session) -> list[Poll]:
    """Every poll of the commune, newest first (drafts and archived ones too)."""
    return list(session.scalars(select(Poll).order_by(Poll.created_at.desc(), Poll.id.desc())))


def published_poll(session: Session, slug: str) -> Poll:
    poll = session.scalars(select(Poll).where(Poll.slug == slug, Poll.status == PublishState.PUBLISHED)).first()
    if poll is None:
        raise NotFound("No such poll.", param="slug")
    return poll


def get_poll(session: Session, poll_id: int) -> Poll:
    poll = session.get(Poll, poll_id)
    if poll is None:
        raise NotFound("No such poll.", param="poll_id")
    return poll


def vote_of(session: Session, poll: Poll, voter_keys: Iterable[str]) -> PollVote | None:
    """The vote already cast on ``poll`` by any of the visitor's identities (account, verified phone)."""
    keys = [key for key in voter_keys if key]
    if not keys:
        return None
    return session.scalars(select(PollVote).where(PollVote.poll_id == poll.id,
                                                  PollVote.voter_key.in_(keys))).first()


@dataclass(frozen=True)
class OptionResult:
    option: PollOption
    votes: int
    percent: int  # rounded half up; the column may not add up to exactly 100


@dataclass(frozen=True)
class Results:
    options: list[OptionResult]
    total: int


def vote_counts(session: Session, poll_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    """{poll_id: {option_id: votes}} in one query."""
    ids = list(poll_ids)
    counts: dict[int, dict[int, int]] = {poll_id: {} for poll_id in ids}
    if not ids:
        return counts
    rows = session.execute(select(PollVote.poll_id, PollVote.option_id, func.count()).where(
        PollVote.poll_id.in_(ids)).group_by(PollVote.poll_id, PollVote.option_id))
    for poll_id, option_id, votes in rows:
        counts[poll_id][option_id] = int(votes)
    return counts


def results_from(poll: Poll, counts: dict[int, int]) -> Results:
    total = sum(counts.get(option.id, 0) for option in poll.options)
    rows = []
    for option in sorted(poll.options, key=lambda option: (option.position, option.id)):
        votes = counts.get(option.id, 0)
        percent = (votes * 200 + total) // (2 * total) if total else 0
        rows.append(OptionResult(option=option, votes=votes, percent=percent))
    return Results(options=rows, total=total)


def results(session: Session, poll: Poll) -> Results:
    return results_from(poll, vote_counts(session, [poll.id])[poll.id])


# -- voting --------------------------------------------------------------------------------------

def cast_vote(session: Session, poll: Poll, option_id: int | None, voter_key: str,
              other_keys: Iterable[str] = ()) -> PollVote:
    """Record one vote; ``other_keys`` are the visitor's other identities, which must not have voted either."""
    if not is_open(poll):
        raise Conflict(N_("This poll is not open for voting."), param="option", code="poll_not_open")
    option = next((option for option in poll.options if option.id == option_id), None)
    if option is None:
        raise Invalid(N_("Choose one of the answers."), param="option", code="invalid_option")
    if vote_of(session, poll, [voter_key, *other_keys]) is not None:
        raise Conflict(N_("You have already voted in this poll."), param="option", code="already_voted")
    vote = PollVote(poll_id=poll.id, option_id=option.id, voter_key=voter_key)
    try:
        with session.begin_nested():  # a racing twin of this vote fails here, not the whole transaction
            session.add(vote)
    except IntegrityError:
        raise Conflict(N_("You have already voted in this poll."), param="option", code="already_voted") from None
    return vote


# -- staff: creating and changing polls ----------------------------------------------------------

@dataclass
class OptionInput:
    id: int | None
    label_vi: str
    label_en: str = ""


def _text(data: dict[str, Any], name: str, limit: int, required: bool = False) -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        raise Invalid(N_("This field is required."), param=name, code="required")
    if len(value) > limit:
        raise Invalid(N_("This text is too long."), param=name, code="too_long")
    return value


def _check_options(options: list[OptionInput]) -> list[OptionInput]:
    kept = []
    for index, option in enumerate(options):
        label_vi, label_en = option.label_vi.strip(), option.label_en.strip()
        if not label_vi and not label_en and option.id is None:
            continue  # an empty row of the form
        if not label_vi:
            raise Invalid(N_("Each answer needs its Vietnamese text."), param=f"label_vi_{index}", code="required")
        if len(label_vi) > LABEL_MAX or len(label_en) > LABEL_MAX:
            raise Invalid(N_("This text is too long."), param=f"label_vi_{index}", code="too_long")
        kept.append(OptionInput(option.id, label_vi, label_en))
    if not MIN_OPTIONS <= len(kept) <= MAX_OPTIONS:
        raise Invalid(N_("A poll has between 2 and 10 answers."), param="options", code="option_count")
    return kept


def _check(data: dict[str, Any]) -> dict[str, Any]:
    """The poll fields present in ``data``, checked (a form with locked fields leaves them out)."""
    checked: dict[str, Any] = {}
    for name, limit, required in (("question_vi", QUESTION_MAX, True), ("question_en", QUESTION_MAX, False),
                                  ("description_vi", DESCRIPTION_MAX, False),
                                  ("description_en", DESCRIPTION_MAX, False)):
        if name in data:
            checked[name] = _text(data, name, limit, required)
    for name in ("opens_at", "closes_at"):
        if name in data:
            value = data[name]
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise Invalid(N_("Choose a date and time."), param=name, code="invalid_datetime")
            checked[name] = value
    if "results_visibility" in data:
        try:
            checked["results_visibility"] = ResultsVisibility(data["results_visibility"])
        except ValueError:
            raise Invalid(N_("Choose when the results are shown."), param="results_visibility") from None
    if "status" in data:
        try:
            checked["status"] = PublishState(data["status"])
        except ValueError:
            raise Invalid(N_("Choose a status."), param="status") from None
    if "options" in data:
        checked["options"] = _check_options(list(data["options"]))
    return checked


def _check_dates(opens_at: datetime | None, closes_at: datetime | None) -> None:
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise Invalid(N_("The poll must close after it opens."), param="closes_at", code="closes_before_opens")


def _unique_slug(session: Session, text: str) -> str:
    base = slugify(text, 100)
    slug, n = base, 2
    while session.scalar(select(Poll.id).where(Poll.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def has_votes(session: Session, poll: Poll) -> bool:
    return session.scalar(select(PollVote.id).where(PollVote.poll_id == poll.id).limit(1)) is not None


def create_poll(session: Session, actor: Actor, data: dict[str, Any]) -> Poll:
    actor.require(actor.is_staff, N_("Only commune staff can manage polls."))
    checked = _check({"options": [], **data})
    if "question_vi" not in checked:
        raise Invalid(N_("This field is required."), param="question_vi", code="required")
    _check_dates(checked.get("opens_at"), checked.get("closes_at"))
    options = checked.pop("options")
    poll = Poll(slug=_unique_slug(session, checked["question_vi"]), **checked)
    poll.options = [PollOption(label_vi=option.label_vi, label_en=option.label_en, position=position)
                    for position, option in enumerate(options)]
    session.add(poll)
    session.flush()
    record(session, actor, "poll.created", poll, {"question_vi": [None, poll.question_vi],
                                                  "status": [None, poll.status]})
    return poll


def update_poll(session: Session, actor: Actor, poll: Poll, data: dict[str, Any]) -> dict[str, Any]:
    """Apply the changes; once people have voted only the option texts, the close and the status may change.

    Returns the changes as {field: [old, new]} (also written to the audit log)."""
    actor.require(actor.is_staff, N_("Only commune staff can manage polls."))
    checked = _check(data)
    voted = has_votes(session, poll)
    changes: dict[str, Any] = {}
    for name, value in checked.items():
        if name == "options":
            continue
        old = getattr(poll, name)
        if old == value:
            continue
        if voted and name not in EDITABLE_AFTER_VOTES:
            raise Conflict(N_("People have already voted: this can no longer change."), param=name,
                           code="poll_has_votes")
        changes[name] = [old, value]
    _check_dates(checked.get("opens_at", poll.opens_at), checked.get("closes_at", poll.closes_at))
    if "options" in checked:
        option_changes = _apply_options(poll, checked["options"], voted)
        if option_changes:
            changes["options"] = option_changes
    for name, change in changes.items():
        if name != "options":
            setattr(poll, name, change[1])
    session.flush()
    if changes:
        record(session, actor, "poll.updated", poll, changes)
    return changes


def _apply_options(poll: Poll, options: list[OptionInput], voted: bool) -> list[str]:
    current = {option.id: option for option in poll.options}
    unknown = [option for option in options if option.id is not None and option.id not in current]
    if unknown:
        raise NotFound("No such answer.", param="options")
    given_ids = {option.id for option in options if option.id is not None}
    if voted and (given_ids != set(current) or any(option.id is None for option in options)):
        raise Conflict(N_("People have already voted: answers can be reworded but not added or removed."),
                       param="options", code="poll_has_votes")
    changed: list[str] = []
    kept: list[PollOption] = []
    for position, given in enumerate(options):
        option = current.get(given.id) if given.id is not None else None
        if option is None:
            option = PollOption(label_vi=given.label_vi, label_en=given.label_en)
            changed.append(f"+ {given.label_vi}")
        elif (option.label_vi, option.label_en) != (given.label_vi, given.label_en):
            changed.append(f"{option.label_vi} -> {given.label_vi}")
            option.label_vi, option.label_en = given.label_vi, given.label_en
        option.position = position
        kept.append(option)
    changed += [f"- {option.label_vi}" for option_id, option in current.items() if option_id not in given_ids]
    poll.options = kept  # removed answers go with the delete-orphan cascade (only possible before any vote)
    return changed


def close_poll(session: Session, actor: Actor, poll: Poll) -> None:
    """Close voting now (results become public)."""
    actor.require(actor.is_staff, N_("Only commune staff can manage polls."))
    now = utcnow()
    if is_closed(poll, now):
        raise Conflict(N_("This poll is already closed."), code="already_closed")
    old = poll.closes_at
    poll.closes_at = now
    if poll.opens_at is not None and poll.opens_at > now:
        poll.opens_at = now
    session.flush()
    record(session, actor, "poll.closed", poll, {"closes_at": [old, now]})
