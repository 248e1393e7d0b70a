"""Search documents of homestays ("stay"), places ("place"), events ("event") and stories ("article").

Like products (service.search.indexing): a flush hook writes the index rows of changed objects in
the same transaction — published ones indexed, the others removed — and announces them for
Meilisearch. ``reindex_tourism`` rebuilds one commune's tourism documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from service.search.documents import SearchDocument
from service.search.indexing import announce
from service.search.models import SEARCH_TABLE
from service.search.sql import SqlBackend
from service.tenants.models import Tenant
from service.tourism.models import Article, Event, Homestay, Place, PublishStatus, RoomType

_backend = SqlBackend()
Indexed = Homestay | Place | Event | Article
Model = TypeVar("Model", Homestay, Place, Event, Article)
KINDS: dict[type, str] = {Homestay: "stay", Place: "place", Event: "event", Article: "article"}


def _join(*parts: str | None) -> str:
    return "\n".join(part for part in parts if part)


def stay_document(homestay: Homestay, tenant: Tenant) -> SearchDocument:
    prices = [room.base_price for room in homestay.room_types if room.is_active]
    return SearchDocument(
        kind="stay", tenant_id=homestay.tenant_id, object_id=homestay.id, title=homestay.name_vi,
        body=_join(homestay.name_en, homestay.description_vi, homestay.description_en, homestay.address,
                   " ".join(homestay.amenities or []), "homestay", tenant.name),
        price=min(prices) if prices else None,
        seller_slug=homestay.host.slug if homestay.host else None,
        seller_name=homestay.host.name if homestay.host else None,
        commune_slug=tenant.slug, commune_name=tenant.name, published_at=homestay.published_at,
        url=f"/c/{tenant.slug}/stays/{homestay.slug}", image_key=homestay.cover_key)


def place_document(place: Place, tenant: Tenant) -> SearchDocument:
    return SearchDocument(
        kind="place", tenant_id=place.tenant_id, object_id=place.id, title=place.name_vi,
        body=_join(place.name_en, place.description_vi, place.description_en, place.address, tenant.name),
        price=place.price, commune_slug=tenant.slug, commune_name=tenant.name, published_at=place.published_at,
        url=f"/c/{tenant.slug}/places/{place.slug}", image_key=place.cover_key)


def event_document(item: Event, tenant: Tenant) -> SearchDocument:
    return SearchDocument(
        kind="event", tenant_id=item.tenant_id, object_id=item.id, title=item.name_vi,
        body=_join(item.name_en, item.description_vi, item.description_en, item.venue, tenant.name),
        commune_slug=tenant.slug, commune_name=tenant.name, published_at=item.published_at or item.starts_at,
        url=f"/c/{tenant.slug}/events/{item.slug}", image_key=item.cover_key)


def article_document(article: Article, tenant: Tenant) -> SearchDocument:
    return SearchDocument(
        kind="article", tenant_id=article.tenant_id, object_id=article.id, title=article.title_vi,
        body=_join(article.title_en, article.summary_vi, article.summary_en, article.body_vi, article.body_en,
                   tenant.name),
        commune_slug=tenant.slug, commune_name=tenant.name, published_at=article.published_at,
        url=f"/c/{tenant.slug}/stories/{article.slug}", image_key=article.cover_key)


def document(obj: Indexed, tenant: Tenant) -> SearchDocument:
    if isinstance(obj, Homestay):
        return stay_document(obj, tenant)
    if isinstance(obj, Place):
        return place_document(obj, tenant)
    if isinstance(obj, Event):
        return event_document(obj, tenant)
    return article_document(obj, tenant)


def sync_tourism(session: Session, changed: Sequence[Indexed], deleted: Sequence[Indexed] = ()) -> None:
    """Write the index rows of these objects: published ones indexed, the others removed."""
    connection = session.connection()
    gone = [obj for obj in changed if obj.status != PublishStatus.PUBLISHED] + list(deleted)
    refs: list[tuple[int, str, int]] = []
    for obj in gone:
        if obj.id is not None:
            kind = KINDS[type(obj)]
            connection.execute(delete(SEARCH_TABLE).where(
                SEARCH_TABLE.c.tenant_id == obj.tenant_id, SEARCH_TABLE.c.kind == kind,
                SEARCH_TABLE.c.object_id == obj.id))
            refs.append((obj.tenant_id, kind, obj.id))
    docs: list[SearchDocument] = []
    for obj in changed:
        if obj.status == PublishStatus.PUBLISHED:
            tenant = session.get(Tenant, obj.tenant_id)
            if tenant is not None:
                docs.append(document(obj, tenant))
    _backend.index(session, docs)
    announce(session, refs + [(doc.tenant_id, doc.kind, doc.object_id) for doc in docs])


@event.listens_for(Session, "after_flush")
def _index_after_flush(session: Session, flush_context: Any) -> None:
    changed: list[Indexed] = [obj for obj in [*session.new, *session.dirty] if type(obj) in KINDS]
    # A room type's price is shown on its homestay's document.
    seen = {id(obj) for obj in changed}
    for room in [*session.new, *session.dirty, *session.deleted]:
        homestay = room.homestay if isinstance(room, RoomType) else None
        if homestay is not None and id(homestay) not in seen and homestay not in session.deleted:
            changed.append(homestay)
            seen.add(id(homestay))
    deleted: list[Indexed] = [obj for obj in session.deleted if type(obj) in KINDS]
    changed = [obj for obj in changed if obj not in session.deleted]
    if changed or deleted:
        sync_tourism(session, changed, deleted)


def _published(session: Session, model: type[Model]) -> list[Model]:
    return list(session.scalars(select(model).where(model.status == PublishStatus.PUBLISHED)))


def reindex_tourism(session: Session, tenant: Tenant) -> int:
    """Index every published tourism object of one commune (the session scoped to it, its old rows gone)."""
    published: list[Indexed] = [*_published(session, Homestay), *_published(session, Place),
                                *_published(session, Event), *_published(session, Article)]
    docs = [document(obj, tenant) for obj in published]
    _backend.index(session, docs)
    return len(docs)
