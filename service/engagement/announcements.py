"""Announcements of the commune: written by staff, published now or at a chosen time, pinned, archived.

An announcement is public when it is published, its ``publish_at`` has passed and its ``expires_at``
(if any) has not: scheduling is only a time in the future, no job has to flip a flag at that time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from service.core.errors import Invalid, NotFound
from service.core.pagination import Page, paginate
from service.core.text import slugify
from service.db import utcnow
from service.engagement.models import Announcement, AnnouncementCategory, PublishState

TEXT_LIMITS = {"title_vi": 200, "title_en": 200, "summary_vi": 400, "summary_en": 400, "body_vi": 20000,
               "body_en": 20000}
SLUG_MAX = 80


# -- categories ----------------------------------------------------------------------------------

def list_categories(session: Session) -> list[AnnouncementCategory]:
    return list(session.scalars(select(AnnouncementCategory).order_by(AnnouncementCategory.position,
                                                                      AnnouncementCategory.id)))


def category_by_code(session: Session, code: str) -> AnnouncementCategory | None:
    return session.scalars(select(AnnouncementCategory).where(AnnouncementCategory.code == code)).first()


def create_category(session: Session, *, name_vi: str, name_en: str = "", code: str = "",
                    position: int | None = None) -> AnnouncementCategory:
    """A category; its code (used in links, ``?category=nong-nghiep``) comes from the name when not given."""
    name_vi, name_en = name_vi.strip(), name_en.strip()
    if not name_vi:
        raise Invalid("The Vietnamese name is required.", param="name_vi", code="required")
    if len(name_vi) > 120 or len(name_en) > 120:
        raise Invalid("The name is too long (120 characters at most).", param="name_vi", code="too_long")
    code = slugify(code.strip() or name_vi, 60)
    if category_by_code(session, code) is not None:
        raise Invalid("A category with this code already exists.", param="code", code="code_taken")
    if position is None:
        position = len(list_categories(session))
    category = AnnouncementCategory(code=code, name_vi=name_vi, name_en=name_en, position=position)
    session.add(category)
    session.flush()
    return category


# -- writing -------------------------------------------------------------------------------------

def check_texts(data: dict[str, Any]) -> dict[str, str]:
    """The text fields, trimmed and checked; the Vietnamese title is the one required field."""
    texts = {name: str(data.get(name) or "").strip() for name in TEXT_LIMITS}
    if not texts["title_vi"]:
        raise Invalid("The Vietnamese title is required.", param="title_vi", code="required")
    for name, limit in TEXT_LIMITS.items():
        if len(texts[name]) > limit:
            raise Invalid(f"{name} is too long ({limit} characters at most).", param=name, code="too_long")
    return texts


def _category_id(session: Session, category_id: Any) -> int | None:
    if category_id in (None, ""):
        return None
    category = session.get(AnnouncementCategory, int(category_id))
    if category is None:  # another commune's category is invisible as well
        raise Invalid("Choose a category from the list.", param="category_id", code="invalid_category")
    return category.id


def unique_slug(session: Session, title: str, exclude_id: int | None = None) -> str:
    base = slugify(title, SLUG_MAX)
    slug, number = base, 1
    while True:
        stmt = select(Announcement.id).where(Announcement.slug == slug)
        if exclude_id is not None:
            stmt = stmt.where(Announcement.id != exclude_id)
        if session.scalar(stmt) is None:
            return slug
        number += 1
        slug = f"{base}-{number}"


def create_announcement(session: Session, data: dict[str, Any], *,
                        author_user_id: int | None = None) -> Announcement:
    """A draft (publish it with ``publish``); ``data`` holds the texts, category_id, is_pinned, expires_at."""
    texts = check_texts(data)
    now = utcnow()
    announcement = Announcement(
        slug=unique_slug(session, texts["title_vi"]), category_id=_category_id(session, data.get("category_id")),
        status=PublishState.DRAFT, is_pinned=bool(data.get("is_pinned")), expires_at=data.get("expires_at"),
        author_user_id=author_user_id, created_at=now, updated_at=now, **texts)
    session.add(announcement)
    session.flush()
    return announcement


def update_announcement(session: Session, announcement: Announcement, data: dict[str, Any]) -> dict[str, Any]:
    """Change the texts, category, pin and expiry; returns the changes as ``{field: [old, new]}``.

    The slug stays: links already shared keep working after a typo is fixed in the title."""
    values: dict[str, Any] = {**check_texts(data), "category_id": _category_id(session, data.get("category_id")),
                              "is_pinned": bool(data.get("is_pinned")), "expires_at": data.get("expires_at")}
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if getattr(announcement, name) != value:
            changes[name] = [getattr(announcement, name), value]
            setattr(announcement, name, value)
    _check_expiry(announcement)
    if changes:
        announcement.updated_at = utcnow()
    session.flush()
    return changes


def _check_expiry(announcement: Announcement) -> None:
    if announcement.expires_at is not None and announcement.publish_at is not None \
            and announcement.expires_at <= announcement.publish_at:
        raise Invalid("The end must come after the publication time.", param="expires_at",
                      code="expires_before_publish")


def publish(session: Session, announcement: Announcement, at: datetime | None = None) -> None:
    """Publish now (``at`` None), or at ``at``: a time in the future schedules it.

    Publishing again what is already out keeps its first publication time (the list order)."""
    now = utcnow()
    if at is None:
        already_out = announcement.status == PublishState.PUBLISHED and announcement.publish_at is not None \
            and announcement.publish_at <= now
        announcement.publish_at = announcement.publish_at if already_out else now
    else:
        announcement.publish_at = at
    announcement.status = PublishState.PUBLISHED
    _check_expiry(announcement)
    announcement.updated_at = now
    session.flush()


def to_draft(session: Session, announcement: Announcement) -> None:
    announcement.status = PublishState.DRAFT
    announcement.publish_at = None
    announcement.updated_at = utcnow()
    session.flush()


def archive(session: Session, announcement: Announcement) -> None:
    announcement.status = PublishState.ARCHIVED
    announcement.is_pinned = False
    announcement.updated_at = utcnow()
    session.flush()


def pin(session: Session, announcement: Announcement, pinned: bool = True) -> None:
    announcement.is_pinned = pinned
    announcement.updated_at = utcnow()
    session.flush()


# -- states --------------------------------------------------------------------------------------

def is_public(announcement: Announcement, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (announcement.status == PublishState.PUBLISHED and announcement.publish_at is not None
            and announcement.publish_at <= now
            and (announcement.expires_at is None or announcement.expires_at > now))


def is_scheduled(announcement: Announcement, now: datetime | None = None) -> bool:
    return (announcement.status == PublishState.PUBLISHED and announcement.publish_at is not None
            and announcement.publish_at > (now or utcnow()))


def is_expired(announcement: Announcement, now: datetime | None = None) -> bool:
    return announcement.expires_at is not None and announcement.expires_at <= (now or utcnow())


# -- reading -------------------------------------------------------------------------------------

def public_query(*, category_code: str = "", now: datetime | None = None) -> Select[Any]:
    """What the public sees: out and not expired; pinned first, then the newest."""
    now = now or utcnow()
    stmt = select(Announcement).where(
        Announcement.status == PublishState.PUBLISHED, Announcement.publish_at <= now,
        or_(Announcement.expires_at.is_(None), Announcement.expires_at > now))
    if category_code:
        stmt = stmt.join(AnnouncementCategory, AnnouncementCategory.id == Announcement.category_id).where(
            AnnouncementCategory.code == category_code)
    return stmt.order_by(Announcement.is_pinned.desc(), Announcement.publish_at.desc(), Announcement.id.desc())


def public_announcements(session: Session, *, category_code: str = "", page: int | None = None,
                         per_page: int | None = None) -> Page[Announcement]:
    return paginate(session, public_query(category_code=category_code), page, per_page)


def public_announcement(session: Session, slug: str) -> Announcement:
    """One public announcement; drafts, scheduled, archived and expired ones are 404 alike.

    An expired notice stays readable at its address (a shared link must not break): only the
    list drops it."""
    now = utcnow()
    announcement = session.scalars(select(Announcement).where(
        Announcement.slug == slug, Announcement.status == PublishState.PUBLISHED,
        Announcement.publish_at <= now)).first()
    if announcement is None:
        raise NotFound("No such announcement.", param="slug")
    return announcement


def staff_announcements(session: Session, *, status: str = "", page: int | None = None,
                        per_page: int | None = None) -> Page[Announcement]:
    stmt = select(Announcement)
    if status in {state.value for state in PublishState}:
        stmt = stmt.where(Announcement.status == PublishState(status))
    stmt = stmt.order_by(Announcement.status == PublishState.ARCHIVED, Announcement.is_pinned.desc(),
                         Announcement.updated_at.desc(), Announcement.id.desc())
    return paginate(session, stmt, page, per_page)


def get_announcement(session: Session, announcement_id: int) -> Announcement:
    announcement = session.get(Announcement, announcement_id)
    if announcement is None:
        raise NotFound("No such announcement.", param="announcement_id")
    return announcement
