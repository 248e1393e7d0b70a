"""Staff create, publish and close polls, and read the counts at any time.

Times are typed in the commune's local time (datetime-local fields) and stored in UTC. Once people
have voted, the form offers only what may still change: the answers' wording, the close and the status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext

from service.core.clock import DISPLAY_ZONE, to_local
from service.core.errors import AppError, Invalid
from service.db import get_session
from service.engagement import polls
from service.engagement.models import Poll, PublishState, ResultsVisibility
from service.tenants.admin import ADMIN_PREFIX, admin_labels, form_failed, saved
from service.tenants.web import commune_member_required, current_actor

polls_admin = Blueprint("polls_admin", __name__, url_prefix=ADMIN_PREFIX)
polls_admin.context_processor(admin_labels)

TEXT_FIELDS = ("question_vi", "question_en", "description_vi", "description_en")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def _staff() -> None:
    actor = current_actor()
    actor.require(actor.is_staff, gettext("Only commune staff can manage polls."))


def _local_input(moment: datetime | None) -> str:
    return to_local(moment).strftime(LOCAL_FORMAT) if moment else ""


def _moment(name: str) -> datetime | None:
    """A datetime-local value, read as Asia/Ho_Chi_Minh time."""
    text = request.form.get(name, "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=DISPLAY_ZONE)
    except ValueError:
        raise Invalid("Choose a date and time.", param=name, code="invalid_datetime") from None


def _values(poll: Poll | None) -> dict[str, Any]:
    if poll is None:
        return {"status": PublishState.DRAFT.value, "results_visibility": ResultsVisibility.AFTER_VOTE.value,
                "options": [{"id": "", "label_vi": "", "label_en": ""} for _ in range(polls.MAX_OPTIONS)]}
    values: dict[str, Any] = {name: getattr(poll, name) for name in TEXT_FIELDS}
    values |= {"status": poll.status.value, "results_visibility": poll.results_visibility.value,
               "opens_at": _local_input(poll.opens_at), "closes_at": _local_input(poll.closes_at)}
    rows = [{"id": str(option.id), "label_vi": option.label_vi, "label_en": option.label_en}
            for option in poll.options]
    values["options"] = rows + [{"id": "", "label_vi": "", "label_en": ""}
                                for _ in range(polls.MAX_OPTIONS - len(rows))]
    return values


def _submitted() -> dict[str, Any]:
    """The form as typed, to show it again after a refusal."""
    values: dict[str, Any] = {name: request.form.get(name, "") for name in (
        *TEXT_FIELDS, "status", "results_visibility", "opens_at", "closes_at")}
    values["options"] = [{"id": request.form.get(f"option_id_{index}", ""),
                          "label_vi": request.form.get(f"label_vi_{index}", ""),
                          "label_en": request.form.get(f"label_en_{index}", "")}
                         for index in range(polls.MAX_OPTIONS)]
    return values


def _form_data() -> dict[str, Any]:
    """Only the fields the form carried: a poll with votes shows no inputs for its locked fields."""
    form = request.form
    data: dict[str, Any] = {name: form[name] for name in (*TEXT_FIELDS, "status", "results_visibility")
                            if name in form}
    for name in ("opens_at", "closes_at"):
        if name in form:
            data[name] = _moment(name)
    options = []
    for index in range(polls.MAX_OPTIONS):
        if f"label_vi_{index}" not in form:
            continue
        raw_id = form.get(f"option_id_{index}", "").strip()
        options.append(polls.OptionInput(id=int(raw_id) if raw_id.isdigit() else None,
                                         label_vi=form.get(f"label_vi_{index}", ""),
                                         label_en=form.get(f"label_en_{index}", "")))
    data["options"] = options
    return data


def _form_page(poll: Poll | None, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    db = get_session()
    voted = poll is not None and polls.has_votes(db, poll)
    return render_template("admin/engagement/poll_form.html", poll=poll, values=values, errors=errors,
                           voted=voted, results=polls.results(db, poll) if poll is not None else None,
                           is_open=polls.is_open(poll) if poll else False,
                           is_closed=polls.is_closed(poll) if poll else False,
                           statuses=list(PublishState), visibilities=list(ResultsVisibility)), status


def _refused(error: AppError) -> tuple[dict[str, str], int]:
    form_failed()
    if error.status in (401, 403, 404) and error.param not in ("options",):
        raise error
    return {error.param or "_": gettext(error.message)}, 409 if error.status == 409 else 422


@polls_admin.get("/polls", endpoint="polls")
@commune_member_required
def polls_list() -> Any:
    _staff()
    db = get_session()
    listed = polls.staff_polls(db)
    counts = polls.vote_counts(db, [poll.id for poll in listed])
    return render_template("admin/engagement/polls.html", polls=listed,
                           totals={poll.id: sum(counts[poll.id].values()) for poll in listed},
                           is_open=polls.is_open, is_closed=polls.is_closed)


@polls_admin.route("/polls/new", methods=["GET", "POST"])
@commune_member_required
def poll_new() -> Any:
    _staff()
    if request.method == "GET":
        return _form_page(None, _values(None), {})
    try:
        poll = polls.create_poll(get_session(), current_actor(), _form_data())
    except AppError as error:
        errors, status = _refused(error)
        return _form_page(None, _submitted(), errors, status)
    return saved(gettext("Poll created."), "polls_admin.poll_edit", poll_id=poll.id)


@polls_admin.route("/polls/<int:poll_id>/edit", methods=["GET", "POST"])
@commune_member_required
def poll_edit(poll_id: int) -> Any:
    _staff()
    db = get_session()
    poll = polls.get_poll(db, poll_id)
    if request.method == "GET":
        return _form_page(poll, _values(poll), {})
    try:
        polls.update_poll(db, current_actor(), poll, _form_data())
    except AppError as error:
        errors, status = _refused(error)
        return _form_page(polls.get_poll(db, poll_id), _submitted(), errors, status)
    return saved(gettext("Saved."), "polls_admin.poll_edit", poll_id=poll_id)


@polls_admin.post("/polls/<int:poll_id>/close")
@commune_member_required
def poll_close(poll_id: int) -> Any:
    _staff()
    db = get_session()
    poll = polls.get_poll(db, poll_id)
    try:
        polls.close_poll(db, current_actor(), poll)
    except AppError as error:
        errors, status = _refused(error)
        poll = polls.get_poll(db, poll_id)
        return _form_page(poll, _values(poll), errors, status)
    return saved(gettext("Poll closed: the results are now public."), "polls_admin.poll_edit", poll_id=poll_id)
