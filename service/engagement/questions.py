"""Public questions and answers: a citizen asks, staff answer, the answer is published.

The asker's name, phone and e-mail go to ``engagement_contacts`` (sealed, owner type "question"), never
on the question row; they are read back only to tell the asker that the answer is out.
"""

from __future__ import annotations

from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Invalid, NotFound
from service.core.pagination import Page, clamp, paginate
from service.core.text import fold
from service.db import utcnow
from service.engagement.announcements import category_by_code
from service.engagement.models import Question, QuestionStatus
from service.engagement.services import Contact, contact_of, seal_contact, tracking_code
from service.notifications.email import queue_email
from service.notifications.sms import queue_sms
from service.tenants.models import Tenant

OWNER_TYPE = "question"
TITLE_MAX = 200
BODY_MAX = 4000
ANSWER_MAX = 8000


def ask(session: Session, *, title: str, body: str, topic: str = "", contact: Contact | None = None,
        language: str = "vi") -> Question:
    """A new pending question with its tracking code; the contact (if any) is sealed apart."""
    title, body, topic = " ".join(title.split()), body.strip(), topic.strip()
    if len(title) < 5:
        raise Invalid("Give your question a short title (5 characters at least).", param="title",
                      code="title_too_short")
    if len(title) > TITLE_MAX:
        raise Invalid("The title is too long (200 characters at most).", param="title", code="title_too_long")
    if len(body) < 10:
        raise Invalid("Write your question in a few words (10 characters at least).", param="body",
                      code="body_too_short")
    if len(body) > BODY_MAX:
        raise Invalid("The question is too long (4000 characters at most).", param="body", code="body_too_long")
    if topic and category_by_code(session, topic) is None:
        raise Invalid("Choose a topic from the list.", param="topic", code="invalid_topic")
    now = utcnow()
    question = Question(
        code=tracking_code(session, Question, "Q"),
        topic=topic, title=title, body=body, language=language if language in ("vi", "en") else "vi",
        status=QuestionStatus.PENDING, created_at=now, updated_at=now)
    session.add(question)
    session.flush()
    seal_contact(session, OWNER_TYPE, question.id, contact or Contact())
    return question


def answer(session: Session, question: Question, text: str, *, actor_user_id: int | None = None,
           notify: bool = True) -> bool:
    """Publish (or correct) the answer. The asker is told the first time it is published; returns
    whether a notification was queued."""
    text = text.strip()
    if not text:
        raise Invalid("Write the answer.", param="answer", code="answer_required")
    if len(text) > ANSWER_MAX:
        raise Invalid("The answer is too long (8000 characters at most).", param="answer", code="answer_too_long")
    first_time = question.status != QuestionStatus.PUBLISHED
    now = utcnow()
    question.answer = text
    question.status = QuestionStatus.PUBLISHED
    question.answered_by_user_id = actor_user_id
    if first_time:  # a corrected answer keeps its place in the list
        question.answered_at = now
    question.updated_at = now
    session.flush()
    return _notify(session, question) if first_time and notify else False


def reject(session: Session, question: Question, reason: str, *, actor_user_id: int | None = None,
           notify: bool = True) -> bool:
    """Not published (off-topic, abusive, personal). The reason goes to the asker only, never public."""
    reason = reason.strip()
    if not reason:
        raise Invalid("Say why, for the asker.", param="reason", code="reason_required")
    if len(reason) > ANSWER_MAX:
        raise Invalid("The reason is too long.", param="reason", code="reason_too_long")
    was_rejected = question.status == QuestionStatus.REJECTED
    now = utcnow()
    question.status = QuestionStatus.REJECTED
    question.answer = reason  # private while rejected: public pages show a neutral message instead
    question.answered_by_user_id = actor_user_id
    question.answered_at = now
    question.updated_at = now
    session.flush()
    return _notify(session, question) if notify and not was_rejected else False


# -- reading -------------------------------------------------------------------------------------

def question_by_code(session: Session, code: str) -> Question:
    question = session.scalars(select(Question).where(Question.code == code.strip().upper())).first()
    if question is None:
        raise NotFound("No such question.", param="code")
    return question


def get_question(session: Session, question_id: int) -> Question:
    question = session.get(Question, question_id)
    if question is None:
        raise NotFound("No such question.", param="question_id")
    return question


def published_questions(session: Session, *, search: str = "", page: int | None = None,
                        per_page: int | None = None) -> Page[Question]:
    """Answered questions, newest answer first. The search ignores case and Vietnamese marks
    ("dat dai" finds "đất đai"), so it filters in Python: a commune has hundreds of questions, not millions."""
    stmt = select(Question).where(Question.status == QuestionStatus.PUBLISHED).order_by(
        Question.answered_at.desc(), Question.id.desc())
    words = fold(search).split()
    if not words:
        return paginate(session, stmt, page, per_page)
    found = [q for q in session.scalars(stmt)
             if all(word in fold(f"{q.title} {q.body} {q.answer}") for word in words)]
    page, per_page = clamp(page, per_page)
    return Page(items=found[(page - 1) * per_page: page * per_page], page=page, per_page=per_page,
                total=len(found))


def staff_questions(session: Session, *, status: str = "", page: int | None = None,
                    per_page: int | None = None) -> Page[Question]:
    """Pending ones first, oldest waiting first; then the rest, newest first."""
    stmt = select(Question)
    if status in {state.value for state in QuestionStatus}:
        stmt = stmt.where(Question.status == QuestionStatus(status))
    pending = Question.status == QuestionStatus.PENDING
    stmt = stmt.order_by(pending.desc(), Question.answered_at.desc(), Question.created_at, Question.id)
    return paginate(session, stmt, page, per_page)


def asker_contact(session: Session, question: Question) -> Contact | None:
    """Staff pages only."""
    return contact_of(session, OWNER_TYPE, question.id)


# -- the asker's notification --------------------------------------------------------------------

def question_url(question: Question, tenant: Tenant) -> str:
    from flask import current_app

    return f"{current_app.config['PUBLIC_BASE_URL']}/c/{tenant.slug}/questions/{question.code}"


def _notify(session: Session, question: Question) -> bool:
    """By e-mail when the asker gave one, else by SMS; in the language they asked in."""
    contact = contact_of(session, OWNER_TYPE, question.id)
    if contact is None or not (contact.email or contact.phone):
        return False
    tenant = session.get(Tenant, question.tenant_id)
    assert tenant is not None
    with force_locale(question.language):
        if question.status == QuestionStatus.PUBLISHED:
            subject = gettext("Your question %(code)s has been answered", code=question.code)
            lines = [gettext("%(commune)s has answered your question \"%(title)s\".", commune=tenant.name,
                             title=question.title), question.answer]
        else:
            subject = gettext("Your question %(code)s", code=question.code)
            lines = [gettext("%(commune)s will not publish an answer to your question \"%(title)s\".",
                             commune=tenant.name, title=question.title), question.answer]
        link = gettext("Read it here: %(url)s", url=question_url(question, tenant))
    if contact.email:
        queue_email(session, to=contact.email, subject=subject, body="\n\n".join([*lines, link]) + "\n",
                    tenant_id=question.tenant_id)
    else:
        # an SMS stays short: the answer is on the page; a refusal's reason is on no page, so it goes along
        reason = "" if question.status == QuestionStatus.PUBLISHED else f" {question.answer[:300]}"
        queue_sms(session, to=contact.phone, text=f"{subject}. {link}{reason}", tenant_id=question.tenant_id)
    return True

