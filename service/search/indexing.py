"""Index rows follow their objects in the same transaction (a flush hook), and the reindex job."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from service.catalog.models import Product, ProductStatus
from service.db import PLATFORM, Scope, scoped
from service.search.documents import SearchDocument, product_document
from service.search.models import SEARCH_TABLE, SearchEntry
from service.search.sql import SqlBackend
from service.tenants.models import Tenant

_backend = SqlBackend()


def _tenant(session: Session, tenant_id: int) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:  # pragma: no cover - the foreign key guarantees it
        raise LookupError(tenant_id)
    return tenant


def sync_products(session: Session, products: list[Product], deleted: Sequence[Product] = ()) -> None:
    """Write the index rows of these products: published ones indexed, the others removed."""
    docs: list[SearchDocument] = []
    table = SEARCH_TABLE
    connection = session.connection()
    gone = [product for product in products if product.status != ProductStatus.PUBLISHED] + list(deleted)
    for product in gone:
        if product.id is not None:
            connection.execute(delete(table).where(
                table.c.tenant_id == product.tenant_id, table.c.kind == "product",
                table.c.object_id == product.id))
    for product in products:
        if product.status == ProductStatus.PUBLISHED:
            docs.append(product_document(product, _tenant(session, product.tenant_id)))
    _backend.index(session, docs)


@event.listens_for(Session, "after_flush")
def _index_after_flush(session: Session, flush_context: Any) -> None:
    changed = [obj for obj in [*session.new, *session.dirty] if isinstance(obj, Product)]
    deleted = [obj for obj in session.deleted if isinstance(obj, Product)]
    if changed or deleted:
        sync_products(session, changed, deleted)


def reindex(session: Session, tenant: Tenant | None = None) -> int:
    """Rebuild the index of one commune or of all of them; returns the number of documents."""
    with scoped(session, PLATFORM):
        tenants = [tenant] if tenant is not None else list(session.scalars(select(Tenant).order_by(Tenant.id)))
    count = 0
    for each in tenants:
        with scoped(session, Scope(each.id)):
            session.execute(delete(SearchEntry))
            products = list(session.scalars(select(Product).where(Product.status == ProductStatus.PUBLISHED)))
            _backend.index(session, [product_document(product, each) for product in products])
            count += len(products)
    return count
