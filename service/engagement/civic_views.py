"""Public pages of announcements and questions (Q&A): no JavaScript, no personal data.

A question's asker is reached through the tracking code only: their name, phone and e-mail are sealed
apart (``engagement_contacts``) and no template here ever receives them.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from service.core.clock import to_local
from service.core.errors import AppError
from service.core.i18n import current_language, localized
from service.core.security import limiter
from service.db import get_session
from service.engagement import announcements as notices
from service.engagement import questions as qa
from service.engagement.models import Announcement, QuestionStatus
from service.engagement.services import check_contact
from service.engagement.web import citizen_rate_limit, filled_by_a_robot
from service.tenants.views import paragraphs
from service.tenants.web import require_tenant

bp = Blueprint("civic", __name__, url_prefix="/c/<commune>")

PER_PAGE = 20
FEED_SIZE = 30
ASK_FIELDS = ("title", "body", "topic", "name", "phone", "email")
PROBLEMS = {
    "title_too_short": lazy_gettext("Give your question a short title (5 characters at least)."),
    "title_too_long": lazy_gettext("The title is too long (200 characters at most)."),
    "body_too_short": lazy_gettext("Write your question in a few words (10 characters at least)."),
    "body_too_long": lazy_gettext("The question is too long (4000 characters at most)."),
    "invalid_topic": lazy_gettext("Choose a topic from the list."),
    "too_long": lazy_gettext("The name is too long (120 characters at most)."),
    "invalid_phone": lazy_gettext("Enter a Vietnamese phone number, for example 0905 123 456."),
    "invalid_email": lazy_gettext("Enter a valid e-mail address, or leave it empty."),
}


def _page() -> int:
    value = request.args.get("page", "")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _too_many() -> str:
    return gettext("You have sent many questions in a short time. Please wait a while and try again.")


# -- announcements -------------------------------------------------------------------------------

@bp.get("/announcements")
def announcements() -> Any:
    require_tenant()
    session = get_session()
    categories = notices.list_categories(session)
    chosen = request.args.get("category", "").strip()
    if chosen not in {category.code for category in categories}:
        chosen = ""
    page = notices.public_announcements(session, category_code=chosen, page=_page(), per_page=PER_PAGE)
    return render_template("engagement/announcements.html", page=page, categories=categories, chosen=chosen)


@bp.get("/announcements/<slug>")
def announcement(slug: str) -> Any:
    require_tenant()
    found = notices.public_announcement(get_session(), slug)
    return render_template("engagement/announcement.html", announcement=found, paragraphs=paragraphs,
                           expired=notices.is_expired(found))


def _atom_time(moment: Any) -> str:
    return str(to_local(moment).isoformat(timespec="seconds"))


@bp.get("/announcements.atom")
def announcements_feed() -> Any:
    """An Atom feed of the public list, for the province portal, news readers and Zalo bots."""
    tenant = require_tenant()
    items: list[Announcement] = notices.public_announcements(get_session(), page=1, per_page=FEED_SIZE).items
    ns = "http://www.w3.org/2005/Atom"
    feed = ElementTree.Element("feed", {"xmlns": ns, "xml:lang": current_language()})
    self_url = url_for("civic.announcements_feed", _external=True, lang=request.args.get("lang") or None)
    ElementTree.SubElement(feed, "title").text = gettext("Announcements of %(name)s", name=tenant.name)
    ElementTree.SubElement(feed, "id").text = self_url
    ElementTree.SubElement(feed, "link", {"rel": "self", "href": self_url})
    ElementTree.SubElement(feed, "link", {"rel": "alternate", "type": "text/html",
                                          "href": url_for("civic.announcements", _external=True)})
    latest = max((item.updated_at for item in items), default=None)
    ElementTree.SubElement(feed, "updated").text = _atom_time(latest or tenant.created_at)
    for item in items:
        entry = ElementTree.SubElement(feed, "entry")
        link = url_for("civic.announcement", slug=item.slug, _external=True)
        ElementTree.SubElement(entry, "title").text = localized(item, "title")
        ElementTree.SubElement(entry, "id").text = link
        ElementTree.SubElement(entry, "link", {"rel": "alternate", "type": "text/html", "href": link})
        assert item.publish_at is not None
        ElementTree.SubElement(entry, "published").text = _atom_time(item.publish_at)
        ElementTree.SubElement(entry, "updated").text = _atom_time(max(item.updated_at, item.publish_at))
        ElementTree.SubElement(ElementTree.SubElement(entry, "author"), "name").text = tenant.name
        if item.category is not None:
            ElementTree.SubElement(entry, "category", {"term": item.category.code,
                                                       "label": localized(item.category, "name")})
        summary = localized(item, "summary") or localized(item, "body")[:400]
        ElementTree.SubElement(entry, "summary", {"type": "text"}).text = summary
        ElementTree.SubElement(entry, "content", {"type": "text"}).text = localized(item, "body")
    body = ElementTree.tostring(feed, encoding="unicode", xml_declaration=False)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body, 200,
            {"Content-Type": "application/atom+xml; charset=utf-8"})


# -- questions -----------------------------------------------------------------------------------

@bp.get("/questions")
def questions() -> Any:
    require_tenant()
    session = get_session()
    search = request.args.get("q", "").strip()[:200]
    page = qa.published_questions(session, search=search, page=_page(), per_page=PER_PAGE)
    topics = {category.code: category for category in notices.list_categories(session)}
    return render_template("engagement/questions.html", page=page, search=search, topics=topics,
                           paragraphs=paragraphs)


def _ask_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    return render_template("engagement/question_new.html", values=values, errors=errors,
                           topics=notices.list_categories(get_session())), status


@bp.route("/questions/new", methods=["GET", "POST"])
@limiter.limit(citizen_rate_limit, methods=["POST"], error_message=_too_many,
               deduct_when=lambda response: response.status_code == 303)
def new_question() -> Any:
    require_tenant()
    if request.method == "GET":
        return _ask_page({name: "" for name in ASK_FIELDS}, {})
    values = {name: request.form.get(name, "").strip() for name in ASK_FIELDS}
    if filled_by_a_robot():
        # a bot: look exactly like success, keep nothing
        flash(gettext("Thank you, your question has been received."), "success")
        return redirect(url_for("civic.questions"), code=303)
    session = get_session()
    try:
        contact = check_contact(name=values["name"], phone=values["phone"], email=values["email"])
        question = qa.ask(session, title=values["title"], body=values["body"], topic=values["topic"],
                          contact=contact, language=current_language())
        session.commit()
    except AppError as error:
        session.rollback()
        if error.status in (401, 403, 404):
            raise
        known = PROBLEMS.get(error.code)
        field = error.param if error.param in values else "_"
        return _ask_page(values, {field: str(known) if known is not None else error.message}, 422)
    flash(gettext("Thank you, your question has been received. Keep its code %(code)s to follow it.",
                  code=question.code), "success")
    return redirect(url_for("civic.question", code=question.code), code=303)


@bp.get("/questions/<code>")
def question(code: str) -> Any:
    """Whoever has the code: pending → waiting, published → the answer, rejected → a neutral note."""
    require_tenant()
    session = get_session()
    found = qa.question_by_code(session, code)
    topic = notices.category_by_code(session, found.topic) if found.topic else None
    response = render_template("engagement/question.html", question=found, topic=topic, paragraphs=paragraphs,
                               published=found.status == QuestionStatus.PUBLISHED,
                               rejected=found.status == QuestionStatus.REJECTED)
    headers = {} if found.status == QuestionStatus.PUBLISHED else {
        "Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}
    return response, 200, headers
