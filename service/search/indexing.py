"""Index rows follow their objects in the same transaction (a flush hook), and the reindex job.

The SQL rows are always written: they are the embedded backend's index and the durable copy
that Meilisearch is fed from. With ``SEARCH_BACKEND=meilisearch`` every changed document is
also announced through the outbox (service.search.meili).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, event, inspect, select
from sqlalchemy.orm import Session

from service.catalog.models import Category, Product, ProductStatus, Seller
from service.db import PLATFORM, SEARCH_BACKEND_INFO, Scope, scoped
from service.search.documents import SearchDocument, product_document
from service.search.models import SEARCH_TABLE, SearchEntry
from service.search.sql import SqlBackend
from service.tenants.models import Tenant

_backend = SqlBackend()

# Fields of related objects that a product's document shows: renaming them re-indexes its products.
_SHOWN_FIELDS: dict[type, tuple[str, ...]] = {
    Category: ("slug", "name_vi", "name_en"),
    Seller: ("slug", "name"),
    Tenant: ("slug", "name"),
}


def _tenant(session: Session, tenant_id: int) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:  # pragma: no cover - the foreign key guarantees it
        raise LookupError(tenant_id)
    return tenant


def announce(session: Session, refs: Iterable[tuple[int, str, int]]) -> None:
    """Tell an external index (if one is configured) that these documents changed."""
    if session.info.get(SEARCH_BACKEND_INFO) == "meilisearch":
        from service.search.meili import enqueue_sync

        enqueue_sync(session, refs)


def sync_products(session: Session, products: list[Product], deleted: Sequence[Product] = ()) -> None:
    """Write the index rows of these products: published ones indexed, the others removed."""
    table = SEARCH_TABLE
    connection = session.connection()
    gone = [product for product in products if product.status != ProductStatus.PUBLISHED] + list(deleted)
    refs: list[tuple[int, str, int]] = []
    for product in gone:
        if product.id is not None:
            connection.execute(delete(table).where(
                table.c.tenant_id == product.tenant_id, table.c.kind == "product",
                table.c.object_id == product.id))
            refs.append((product.tenant_id, "product", product.id))
    docs: list[SearchDocument] = [product_document(product, _tenant(session, product.tenant_id))
                                  for product in products if product.status == ProductStatus.PUBLISHED]
    _backend.index(session, docs)
    announce(session, refs + [(doc.tenant_id, doc.kind, doc.object_id) for doc in docs])


def _renamed(obj: Any) -> bool:
    fields = _SHOWN_FIELDS.get(type(obj), ())
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _products_shown_with(session: Session, owners: list[Any]) -> list[Product]:
    """The published products whose documents show one of these (renamed) categories, sellers or communes."""
    products: list[Product] = []
    for owner in owners:
        # Runs inside a flush: no scope switch (it would flush); the session's scope already
        # covers the owner, since before_flush refuses writes to another commune.
        tenant_id = owner.id if isinstance(owner, Tenant) else owner.tenant_id
        statement = select(Product).where(Product.tenant_id == tenant_id, Product.status == ProductStatus.PUBLISHED)
        if isinstance(owner, Category):
            statement = statement.where(Product.category_id == owner.id)
        elif isinstance(owner, Seller):
            statement = statement.where(Product.seller_id == owner.id)
        products += session.scalars(statement)
    return products


@event.listens_for(Session, "after_flush")
def _index_after_flush(session: Session, flush_context: Any) -> None:
    changed = [obj for obj in [*session.new, *session.dirty] if isinstance(obj, Product)]
    deleted = [obj for obj in session.deleted if isinstance(obj, Product)]
    renamed = [obj for obj in session.dirty if type(obj) in _SHOWN_FIELDS and _renamed(obj)]
    if renamed:
        seen = {id(product) for product in changed}
        changed += [product for product in _products_shown_with(session, renamed) if id(product) not in seen]
    if changed or deleted:
        sync_products(session, changed, deleted)


def reindex(session: Session, tenant: Tenant | None = None) -> int:
    """Rebuild the SQL index of one commune or of all of them; returns the number of documents."""
    with scoped(session, PLATFORM):
        tenants = [tenant] if tenant is not None else list(session.scalars(select(Tenant).order_by(Tenant.id)))
    count = 0
    for each in tenants:
        with scoped(session, Scope(each.id)):
            session.execute(delete(SearchEntry))
            products = list(session.scalars(select(Product).where(Product.status == ProductStatus.PUBLISHED)))
            _backend.index(session, [product_document(product, each) for product in products])
            count += len(products)
            from service.tourism.indexing import reindex_tourism  # imports this module: imported late

            count += reindex_tourism(session, each)
    return count
