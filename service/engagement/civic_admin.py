"""Staff write announcements and answer questions. Staff only (admin, editor): volunteers and sellers 403.

Times are typed in the commune's zone (``datetime-local`` inputs, Asia/Ho_Chi_Minh) and stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext, lazy_gettext

from service.audit.services import record
from service.core.clock import DISPLAY_ZONE, to_local
from service.core.errors import AppError, Invalid
from service.db import get_session, utcnow
from service.engagement import announcements as notices
from service.engagement import questions as qa
from service.engagement.models import Announcement, PublishState, Question, QuestionStatus
from service.tenants.admin import ADMIN_PREFIX, admin_labels, form_failed, page_arg, saved
from service.tenants.services import Actor
from service.tenants.web import commune_member_required, current_actor

civic_admin = Blueprint("civic_admin", __name__, url_prefix=ADMIN_PREFIX)
civic_admin.context_processor(admin_labels)

PER_PAGE = 30
TEXT_FIELDS = tuple(notices.TEXT_LIMITS)
PUBLISH_MODES = ("draft", "now", "schedule")
PROBLEMS = {
    "required": lazy_gettext("This field is required."),
    "too_long": lazy_gettext("This text is too long."),
    "invalid_category": lazy_gettext("Choose a category from the list."),
    "code_taken": lazy_gettext("A category with this code already exists."),
    "invalid_datetime": lazy_gettext("Choose a date and a time."),
    "schedule_in_past": lazy_gettext("A scheduled publication needs a time in the future."),
    "expires_before_publish": lazy_gettext("The end must come after the publication time."),
    "answer_required": lazy_gettext("Write the answer."),
    "answer_too_long": lazy_gettext("The answer is too long (8000 characters at most)."),
    "reason_required": lazy_gettext("Say why, for the asker."),
    "reason_too_long": lazy_gettext("This text is too long."),
}


@civic_admin.context_processor
def _civic_labels() -> dict[str, Any]:
    return {"local_input": _local_input, "is_scheduled": notices.is_scheduled, "is_expired": notices.is_expired,
            "question_status_label": _question_status_label}


def _question_status_label(status: QuestionStatus) -> str:
    return str({QuestionStatus.PENDING: lazy_gettext("Waiting for an answer"),
                QuestionStatus.PUBLISHED: lazy_gettext("Answered and published"),
                QuestionStatus.REJECTED: lazy_gettext("Not published")}[status])


def _staff() -> Actor:
    actor = current_actor()
    actor.require(actor.is_staff, gettext("Only commune staff can manage announcements and questions."))
    return actor


def _errors(error: AppError, fields: set[str] | tuple[str, ...]) -> dict[str, str]:
    known = PROBLEMS.get(error.code)
    message = str(known) if known is not None else gettext(error.message)
    return {error.param if error.param and error.param in fields else "_": message}


def _failed(error: AppError) -> int:
    form_failed()
    if error.status in (401, 403, 404):
        raise error
    return 422


def _local_input(moment: datetime | None) -> str:
    """A UTC time as a ``datetime-local`` value in the commune's zone."""
    return to_local(moment).strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


def _local_time(name: str) -> datetime | None:
    text = request.form.get(name, "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid("Choose a date and a time.", param=name, code="invalid_datetime") from None
    return moment.replace(tzinfo=DISPLAY_ZONE).astimezone(UTC)


# -- announcements -------------------------------------------------------------------------------

def _values(announcement: Announcement | None) -> dict[str, Any]:
    if announcement is None:
        return {"publish_mode": "draft"}
    values: dict[str, Any] = {name: getattr(announcement, name) for name in TEXT_FIELDS}
    mode = "draft"
    if announcement.status == PublishState.PUBLISHED:
        mode = "schedule" if notices.is_scheduled(announcement) else "now"
    values |= {"category_id": announcement.category_id or "", "is_pinned": announcement.is_pinned,
               "publish_mode": mode, "publish_at": _local_input(announcement.publish_at),
               "expires_at": _local_input(announcement.expires_at)}
    return values


def _form_page(announcement: Announcement | None, values: dict[str, Any], errors: dict[str, str],
               status: int = 200) -> Any:
    categories = notices.list_categories(get_session())
    return render_template("admin/engagement/announcement_form.html", announcement=announcement, values=values,
                           errors=errors, categories=categories, modes=PUBLISH_MODES), status


def _form_data() -> dict[str, Any]:
    data: dict[str, Any] = {name: request.form.get(name, "") for name in TEXT_FIELDS}
    data["category_id"] = request.form.get("category_id", "").strip()
    if data["category_id"] and not data["category_id"].isdigit():
        raise Invalid("Choose a category from the list.", param="category_id", code="invalid_category")
    data["is_pinned"] = bool(request.form.get("is_pinned"))
    data["expires_at"] = _local_time("expires_at")
    return data


def _apply_publish_mode(announcement: Announcement) -> str:
    session = get_session()
    mode = request.form.get("publish_mode", "draft")
    if mode == "now":
        notices.publish(session, announcement)
    elif mode == "schedule":
        at = _local_time("publish_at")
        if at is None:
            raise Invalid("Choose a date and a time.", param="publish_at", code="invalid_datetime")
        if at <= utcnow():
            raise Invalid("A scheduled publication needs a time in the future.", param="publish_at",
                          code="schedule_in_past")
        notices.publish(session, announcement, at)
    else:
        mode = "draft"
        notices.to_draft(session, announcement)
    return mode


def _form_fields() -> set[str]:
    return {*TEXT_FIELDS, "category_id", "is_pinned", "publish_mode", "publish_at", "expires_at"}


@civic_admin.get("/announcements")
@commune_member_required
def announcements() -> Any:
    _staff()
    status = request.args.get("status", "")
    page = notices.staff_announcements(get_session(), status=status, page=page_arg(), per_page=PER_PAGE)
    return render_template("admin/engagement/announcements.html", page=page, status=status,
                           states=[state.value for state in PublishState], now=utcnow())


@civic_admin.route("/announcements/new", methods=["GET", "POST"])
@commune_member_required
def announcement_new() -> Any:
    actor = _staff()
    if request.method == "GET":
        return _form_page(None, _values(None), {})
    session = get_session()
    values = request.form.to_dict()
    try:
        announcement = notices.create_announcement(session, _form_data(),
                                                   author_user_id=actor.user.id if actor.user else None)
        mode = _apply_publish_mode(announcement)
    except AppError as error:
        return _form_page(None, values, _errors(error, _form_fields()), _failed(error))
    record(session, actor, "announcement.created", announcement,
           {"title_vi": announcement.title_vi, "status": announcement.status, "publish_at": announcement.publish_at,
            "publish_mode": mode})
    return saved(gettext("Announcement saved."), "civic_admin.announcement_edit", announcement_id=announcement.id)


@civic_admin.route("/announcements/<int:announcement_id>/edit", methods=["GET", "POST"])
@commune_member_required
def announcement_edit(announcement_id: int) -> Any:
    actor = _staff()
    session = get_session()
    announcement = notices.get_announcement(session, announcement_id)
    if request.method == "GET":
        return _form_page(announcement, _values(announcement), {})
    values = request.form.to_dict()
    before = (announcement.status, announcement.publish_at)
    try:
        changes = notices.update_announcement(session, announcement, _form_data())
        mode = _apply_publish_mode(announcement)
    except AppError as error:
        status = _failed(error)
        return _form_page(notices.get_announcement(session, announcement_id), values,
                          _errors(error, _form_fields()), status)
    if (announcement.status, announcement.publish_at) != before:
        changes |= {"status": [before[0], announcement.status], "publish_at": [before[1], announcement.publish_at]}
    if changes:
        record(session, actor, "announcement.updated", announcement, {**changes, "publish_mode": mode})
    return saved(gettext("Announcement saved."), "civic_admin.announcement_edit", announcement_id=announcement_id)


@civic_admin.post("/announcements/<int:announcement_id>/archive")
@commune_member_required
def announcement_archive(announcement_id: int) -> Any:
    actor = _staff()
    session = get_session()
    announcement = notices.get_announcement(session, announcement_id)
    before = announcement.status
    notices.archive(session, announcement)
    record(session, actor, "announcement.archived", announcement, {"status": [before, announcement.status]})
    return saved(gettext("Announcement archived: it is no longer public."), "civic_admin.announcements")


@civic_admin.post("/announcements/<int:announcement_id>/pin")
@commune_member_required
def announcement_pin(announcement_id: int) -> Any:
    actor = _staff()
    session = get_session()
    announcement = notices.get_announcement(session, announcement_id)
    pinned = request.form.get("pinned") == "1"
    notices.pin(session, announcement, pinned)
    record(session, actor, "announcement.pinned" if pinned else "announcement.unpinned", announcement)
    return saved(gettext("Pinned to the top.") if pinned else gettext("Unpinned."), "civic_admin.announcements")


@civic_admin.route("/announcement-categories", methods=["GET", "POST"])
@commune_member_required
def categories() -> Any:
    actor = _staff()
    session = get_session()
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in ("name_vi", "name_en", "code")}
        try:
            category = notices.create_category(session, name_vi=values["name_vi"], name_en=values["name_en"],
                                               code=values["code"])
        except AppError as error:
            errors = _errors(error, set(values))
            form_failed()
        else:
            record(session, actor, "announcement_category.created", category,
                   {"code": category.code, "name_vi": category.name_vi})
            return saved(gettext("Category added."), "civic_admin.categories")
    return render_template("admin/engagement/announcement_categories.html",
                           categories=notices.list_categories(session), values=values,
                           errors=errors), 422 if errors else 200


# -- questions -----------------------------------------------------------------------------------

@civic_admin.get("/questions")
@commune_member_required
def questions() -> Any:
    _staff()
    status = request.args.get("status", "")
    page = qa.staff_questions(get_session(), status=status, page=page_arg(), per_page=PER_PAGE)
    return render_template("admin/engagement/questions.html", page=page, status=status,
                           states=[state.value for state in QuestionStatus])


def _question_page(question: Question, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    session = get_session()
    topic = notices.category_by_code(session, question.topic) if question.topic else None
    return render_template("admin/engagement/question.html", question=question, topic=topic,
                           contact=qa.asker_contact(session, question), values=values, errors=errors), status


@civic_admin.route("/questions/<int:question_id>", methods=["GET", "POST"])
@commune_member_required
def question(question_id: int) -> Any:
    actor = _staff()
    session = get_session()
    found = qa.get_question(session, question_id)
    if request.method == "GET":
        reason = found.answer if found.status == QuestionStatus.REJECTED else ""
        answer = found.answer if found.status == QuestionStatus.PUBLISHED else ""
        return _question_page(found, {"answer": answer, "reason": reason}, {})
    values = {"answer": request.form.get("answer", ""), "reason": request.form.get("reason", "")}
    action = request.form.get("action", "answer")
    before = found.status
    try:
        if action == "reject":
            notified = qa.reject(session, found, values["reason"], actor_user_id=actor.user.id if actor.user else None)
        else:
            edited = found.status == QuestionStatus.PUBLISHED
            notified = qa.answer(session, found, values["answer"],
                                 actor_user_id=actor.user.id if actor.user else None)
    except AppError as error:
        status = _failed(error)
        return _question_page(qa.get_question(session, question_id), values, _errors(error, set(values)), status)
    if action == "reject":
        record(session, actor, "question.rejected", found, {"status": [before, found.status], "notified": notified})
        message = gettext("The question will not be published.")
    else:
        record(session, actor, "question.answer_edited" if edited else "question.answered", found,
               {"status": [before, found.status], "notified": notified})
        message = gettext("Answer saved.") if edited else gettext("Answer published.")
    if notified:
        message += " " + gettext("The asker will be told.")
    return saved(message, "civic_admin.question", question_id=question_id)
