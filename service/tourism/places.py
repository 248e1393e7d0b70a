"""Places (attractions, tours, craft villages), events and stories: written and published by commune staff.

Functions take a session already scoped to a commune, the acting ``Actor`` and plain values; every
change leaves an audit record. Search documents follow through the flush hook in
``service.tourism.indexing``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.audit.services import record
from service.core.errors import Invalid, NotFound
from service.core.money import MAX_PRICE_VND
from service.core.text import slugify
from service.db import utcnow
from service.tenants.services import Actor
from service.tourism.models import Article, Event, Place, PlaceKind, PublishStatus

PLACE_FIELDS = ("kind", "name_vi", "name_en", "description_vi", "description_en", "address", "latitude",
                "longitude", "price", "duration_minutes", "opening_hours", "cover_key")
EVENT_FIELDS = ("name_vi", "name_en", "description_vi", "description_en", "starts_at", "ends_at", "venue",
                "latitude", "longitude", "cover_key")
ARTICLE_FIELDS = ("title_vi", "title_en", "summary_vi", "summary_en", "body_vi", "body_en", "latitude",
                  "longitude", "cover_key")
Content = TypeVar("Content", Place, Event, Article)


def _unique_slug(session: Session, model: type[Place | Event | Article], text: str) -> str:
    """A slug free in this commune (the data layer limits the lookup to it)."""
    base = slugify(text) or "muc"
    taken = set(session.scalars(select(model.slug).where(or_(model.slug == base, model.slug.like(f"{base}-%")))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _apply(obj: Any, data: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for field, value in data.items():
        if field in allowed and getattr(obj, field, None) != value:
            changes[field] = [getattr(obj, field, None), value]
            setattr(obj, field, value)
    return changes


def _check_location(obj: Place | Event | Article) -> None:
    latitude, longitude = obj.latitude, obj.longitude
    if (latitude is None) != (longitude is None):
        raise Invalid("Give both latitude and longitude, or neither.", param="latitude", code="incomplete_location")
    if latitude is not None and not -90 <= latitude <= 90:
        raise Invalid("Latitude lies between -90 and 90.", param="latitude", code="invalid_latitude")
    if longitude is not None and not -180 <= longitude <= 180:
        raise Invalid("Longitude lies between -180 and 180.", param="longitude", code="invalid_longitude")


def _check_place(place: Place) -> None:
    if not (place.name_vi or "").strip():
        raise Invalid("Vietnamese name is required.", param="name_vi", code="required")
    if place.kind not in set(PlaceKind):
        raise Invalid("Kind is attraction, tour or craft_village.", param="kind", code="invalid_kind")
    place.kind = PlaceKind(place.kind)
    if place.price is not None and not 0 <= place.price <= MAX_PRICE_VND:
        raise Invalid("Price is out of range.", param="price", code="invalid_price")
    if place.duration_minutes is not None and place.duration_minutes <= 0:
        raise Invalid("Duration is a positive number of minutes.", param="duration_minutes",
                      code="invalid_duration")
    _check_location(place)


def _check_event(event: Event) -> None:
    if not (event.name_vi or "").strip():
        raise Invalid("Vietnamese name is required.", param="name_vi", code="required")
    if not isinstance(event.starts_at, datetime):
        raise Invalid("Give the start date and time.", param="starts_at", code="required")
    if not isinstance(event.ends_at, datetime):
        raise Invalid("Give the end date and time.", param="ends_at", code="required")
    if event.starts_at.tzinfo is None or event.ends_at.tzinfo is None:
        raise Invalid("Give times with their time zone.", param="starts_at", code="naive_datetime")
    if event.ends_at < event.starts_at:
        raise Invalid("The event ends before it starts.", param="ends_at", code="ends_before_start")
    _check_location(event)


def _check_article(article: Article) -> None:
    if not (article.title_vi or "").strip():
        raise Invalid("Vietnamese title is required.", param="title_vi", code="required")
    _check_location(article)


def _create(session: Session, actor: Actor, obj: Content, data: dict[str, Any], allowed: tuple[str, ...],
            title: str) -> Content:
    actor.require(actor.is_staff)
    _apply(obj, data, allowed)
    _check(obj)
    obj.slug = _unique_slug(session, type(obj), data.get("slug") or title)
    session.add(obj)
    session.flush()
    record(session, actor, f"{type(obj).__name__.lower()}.created", obj, {"slug": obj.slug})
    return obj


def _check(obj: Place | Event | Article) -> None:
    if isinstance(obj, Place):
        _check_place(obj)
    elif isinstance(obj, Event):
        _check_event(obj)
    else:
        _check_article(obj)


def create_place(session: Session, actor: Actor, data: dict[str, Any]) -> Place:
    return _create(session, actor, Place(), data, PLACE_FIELDS, str(data.get("name_vi") or ""))


def create_event(session: Session, actor: Actor, data: dict[str, Any]) -> Event:
    return _create(session, actor, Event(), data, EVENT_FIELDS, str(data.get("name_vi") or ""))


def create_article(session: Session, actor: Actor, data: dict[str, Any]) -> Article:
    return _create(session, actor, Article(), data, ARTICLE_FIELDS, str(data.get("title_vi") or ""))


_FIELDS: dict[type, tuple[str, ...]] = {Place: PLACE_FIELDS, Event: EVENT_FIELDS, Article: ARTICLE_FIELDS}


def update(session: Session, actor: Actor, obj: Content, data: dict[str, Any]) -> Content:
    """Change a place, an event or a story; a published one stays published (staff wrote the change)."""
    actor.require(actor.is_staff)
    changes = _apply(obj, data, _FIELDS[type(obj)])
    _check(obj)
    if changes:
        record(session, actor, f"{type(obj).__name__.lower()}.updated", obj, changes)
    return obj


def publish(session: Session, actor: Actor, obj: Content) -> Content:
    actor.require(actor.is_staff)
    _check(obj)
    if obj.status != PublishStatus.PUBLISHED:
        obj.status = PublishStatus.PUBLISHED
        obj.published_at = obj.published_at or utcnow()
        record(session, actor, f"{type(obj).__name__.lower()}.published", obj)
    return obj


def unpublish(session: Session, actor: Actor, obj: Content, archive: bool = False) -> Content:
    """Back to draft (or archived): the public pages answer 404 and search forgets it."""
    actor.require(actor.is_staff)
    target = PublishStatus.ARCHIVED if archive else PublishStatus.DRAFT
    if obj.status != target:
        obj.status = target
        record(session, actor, f"{type(obj).__name__.lower()}.{target.value}", obj)
    return obj


def _public(session: Session, model: type[Content], slug: str, what: str) -> Content:
    found = session.scalar(select(model).where(model.slug == slug, model.status == PublishStatus.PUBLISHED))
    if found is None:
        raise NotFound(f"No such {what}.", param="slug")
    return found


def get_public_place(session: Session, slug: str) -> Place:
    return _public(session, Place, slug, "place")


def get_public_event(session: Session, slug: str) -> Event:
    return _public(session, Event, slug, "event")


def get_public_article(session: Session, slug: str) -> Article:
    return _public(session, Article, slug, "story")


def published_places(session: Session, kind: PlaceKind | None = None) -> list[Place]:
    statement = select(Place).where(Place.status == PublishStatus.PUBLISHED)
    if kind is not None:
        statement = statement.where(Place.kind == kind)
    return list(session.scalars(statement.order_by(Place.name_vi, Place.id)))


def upcoming_events(session: Session, now: datetime | None = None) -> list[Event]:
    """Published events not over yet, soonest first."""
    moment = now or utcnow()
    return list(session.scalars(select(Event).where(Event.status == PublishStatus.PUBLISHED, Event.ends_at >= moment)
                                .order_by(Event.starts_at, Event.id)))


def published_articles(session: Session) -> list[Article]:
    return list(session.scalars(select(Article).where(Article.status == PublishStatus.PUBLISHED)
                                .order_by(Article.published_at.desc(), Article.id.desc())))
