"""The data layer's tenant walls (service/db.py), through real sessions on every backend,
and PostgreSQL's row-level security underneath it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import lazyload

from service.catalog import services as catalog
from service.catalog.models import Category, Product, ProductStatus, Seller
from service.db import PLATFORM, Scope, TenantScopeError, database, scoped, tenant_owned_tables
from service.tenants.models import Tenant
from service.tenants.services import SYSTEM, create_tenant

RLS_PROBE_ROLE = "xaso_rls_probe"


@dataclass
class Side:
    tenant_id: int
    seller_id: int
    category_id: int
    product_ids: list[int]


@dataclass
class Two:
    a: Side
    b: Side


def _side(session, slug: str, name: str, seller: str, titles: list[str]) -> Side:
    tenant = create_tenant(session, slug=slug, name=name)
    with scoped(session, Scope(tenant.id)):
        owner = catalog.create_seller(session, SYSTEM, {"name": seller})
        category = catalog.create_category(session, SYSTEM, {"name_vi": "Đặc sản", "name_en": "Specialties"})
        products = [catalog.create_product(session, SYSTEM, {"seller_id": owner.id, "category_id": category.id,
                                                             "title_vi": title, "price": 100_000, "stock": 5})
                    for title in titles]
    return Side(tenant.id, owner.id, category.id, [p.id for p in products])


@pytest.fixture
def two(app) -> Two:
    with database(app).session(PLATFORM) as session:
        a = _side(session, "cam-thanh", "Cẩm Thanh", "Cơ sở Tư Tài", ["Nước mắm cá cơm", "Mắm ruốc"])
        b = _side(session, "nam-phuoc", "Nam Phước", "HTX Lụa Mã Châu", ["Khăn lụa", "Rượu Hồng Đào", "Bánh tổ"])
        session.commit()
    return Two(a, b)


def _stocks(app, side: Side) -> list[int]:
    with database(app).session(PLATFORM) as session:
        return list(session.scalars(select(Product.stock).where(Product.tenant_id == side.tenant_id)
                                    .order_by(Product.id)))


# ---------------------------------------------------------------------------
# Fail closed without a scope


def test_queries_without_scope_raise(app, two):
    with database(app).session() as session:
        with pytest.raises(TenantScopeError):
            session.scalars(select(Product)).all()
        with pytest.raises(TenantScopeError):
            session.get(Seller, two.a.seller_id)
        with pytest.raises(TenantScopeError):
            session.execute(update(Product).values(stock=0))
        with pytest.raises(TenantScopeError):
            session.execute(delete(Category))
        # Platform-level models need no scope.
        assert session.scalar(select(func.count()).select_from(Tenant)) == 2


def test_writes_without_scope_raise(app, two):
    with database(app).session() as session:
        session.add(Category(tenant_id=two.a.tenant_id, slug="x", name_vi="X"))
        with pytest.raises(TenantScopeError):
            session.flush()


# ---------------------------------------------------------------------------
# A commune's scope sees and changes only its own rows


def test_selects_and_get_see_only_own_commune(app, two):
    with database(app).session(Scope(two.a.tenant_id)) as session:
        assert sorted(session.scalars(select(Product.id))) == sorted(two.a.product_ids)
        assert session.scalar(select(func.count()).select_from(Product)) == 2
        assert session.get(Product, two.b.product_ids[0]) is None
        assert session.get(Seller, two.b.seller_id) is None
        assert session.get(Product, two.a.product_ids[0]) is not None
        # An explicit filter on the other commune's id finds nothing either.
        assert session.scalars(select(Product).where(Product.tenant_id == two.b.tenant_id)).all() == []
        # Joins and subqueries are filtered too.
        joined = session.scalars(select(Product.title_vi).join(Seller, Product.seller_id == Seller.id)
                                 .where(Seller.id == two.b.seller_id)).all()
        assert joined == []
        subquery = select(Seller.id).scalar_subquery()  # one seller in A: filtered inside the subquery too
        assert len(session.scalars(select(Product).where(Product.seller_id == subquery)).all()) == 2


def test_subquery_under_platform_model_is_filtered(app, two):
    with database(app).session(Scope(two.a.tenant_id)) as session:
        slugs = session.scalars(select(Tenant.slug).where(Tenant.id.in_(select(Product.tenant_id)))).all()
        assert slugs == ["cam-thanh"]


def test_bulk_update_and_delete_stay_in_own_commune(app, two):
    with database(app).session(Scope(two.a.tenant_id)) as session:
        result = session.execute(update(Product).values(stock=99))
        assert result.rowcount == 2
        session.commit()
    assert _stocks(app, two.a) == [99, 99]
    assert _stocks(app, two.b) == [5, 5, 5]

    with database(app).session(Scope(two.a.tenant_id)) as session:
        session.execute(update(Product).where(Product.id == two.b.product_ids[0]).values(stock=0))
        result = session.execute(delete(Product))
        assert result.rowcount == 2
        session.commit()
    assert _stocks(app, two.a) == []
    assert _stocks(app, two.b) == [5, 5, 5]


def test_insert_is_stamped_with_scope_tenant(app, two):
    with database(app).session(Scope(two.a.tenant_id)) as session:
        category = Category(slug="thu-cong", name_vi="Thủ công")
        session.add(category)
        session.flush()
        assert category.tenant_id == two.a.tenant_id
        product = catalog.create_product(session, SYSTEM, {"seller_id": two.a.seller_id, "title_vi": "Giỏ tre",
                                                           "price": 45_000})
        assert product.tenant_id == two.a.tenant_id
        session.commit()
    with database(app).session(Scope(two.b.tenant_id)) as session:
        assert session.scalar(select(Category).where(Category.slug == "thu-cong")) is None


def test_insert_for_other_commune_raises(app, two):
    with database(app).session(Scope(two.a.tenant_id)) as session:
        session.add(Category(tenant_id=two.b.tenant_id, slug="lua", name_vi="Lụa"))
        with pytest.raises(TenantScopeError):
            session.flush()
        session.rollback()
    with database(app).session(Scope(two.a.tenant_id)) as session:
        product = session.get(Product, two.a.product_ids[0])
        assert product is not None
        product.tenant_id = two.b.tenant_id  # moving a row to another commune
        with pytest.raises(TenantScopeError):
            session.flush()


def test_services_answer_not_found_across_communes(app, two):
    from service.core.errors import NotFound

    with database(app).session(Scope(two.a.tenant_id)) as session:
        with pytest.raises(NotFound):
            catalog.get_product(session, two.b.product_ids[0])
        with pytest.raises(NotFound):
            catalog.create_product(session, SYSTEM, {"seller_id": two.b.seller_id, "title_vi": "Lụa giả",
                                                     "price": 1})
        with pytest.raises(NotFound):
            catalog.create_product(session, SYSTEM, {"seller_id": two.a.seller_id, "title_vi": "Sai danh mục",
                                                     "category_id": two.b.category_id, "price": 1})


def test_relationship_loads_are_filtered(app, two):
    # A corrupt row, only possible at platform level: A's product pointing at B's seller and category.
    with database(app).session(PLATFORM) as session:
        rogue = Product(tenant_id=two.a.tenant_id, slug="rogue", seller_id=two.b.seller_id,
                        category_id=two.b.category_id, title_vi="Hàng lạ", price=1, status=ProductStatus.DRAFT)
        session.add(rogue)
        session.commit()
        rogue_id = rogue.id

    with database(app).session(Scope(two.a.tenant_id)) as session:
        product = session.get(Product, rogue_id)
        assert product is not None
        assert product.seller is None  # joined eager load: B's seller filtered out of the join
        assert product.category is None
    with database(app).session(Scope(two.a.tenant_id)) as session:
        product = session.scalars(select(Product).where(Product.id == rogue_id)
                                  .options(lazyload(Product.seller))).one()
        assert product.seller is None  # lazy load, a query of its own, filtered as well
    with database(app).session(PLATFORM) as session:
        product = session.get(Product, rogue_id)
        assert product is not None and product.seller is not None
        assert product.seller.tenant_id == two.b.tenant_id


def test_platform_scope_sees_every_commune(app, two):
    with database(app).session(PLATFORM) as session:
        tenants = set(session.scalars(select(Product.tenant_id)))
        assert tenants == {two.a.tenant_id, two.b.tenant_id}
        assert session.scalar(select(func.count()).select_from(Product)) == 5
        assert session.get(Product, two.b.product_ids[0]) is not None


def test_scoped_context_restores_previous_scope(app, two):
    with database(app).session(PLATFORM) as session:
        with scoped(session, Scope(two.b.tenant_id)):
            assert session.scalar(select(func.count()).select_from(Product)) == 3
        assert session.scalar(select(func.count()).select_from(Product)) == 5
    with database(app).session() as session:
        with scoped(session, Scope(two.a.tenant_id)):
            assert session.scalar(select(func.count()).select_from(Product)) == 2
        with pytest.raises(TenantScopeError):
            session.scalar(select(func.count()).select_from(Product))


# ---------------------------------------------------------------------------
# PostgreSQL: row-level security, the second wall


def _require_postgres(app) -> None:
    if database(app).engine.dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL only")


def test_every_tenant_table_has_forced_row_level_security(app):
    _require_postgres(app)
    tables = tenant_owned_tables()
    assert {"products", "sellers", "categories", "memberships", "audit_entries"} <= set(tables)
    with database(app).engine.connect() as conn:
        rows = dict(conn.execute(
            text("SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class "
                 "WHERE relkind = 'r' AND relname = ANY(:names) "
                 "AND relnamespace = 'public'::regnamespace"), {"names": tables}).all())
        policies = set(conn.execute(text("SELECT tablename FROM pg_policies WHERE schemaname = 'public'"))
                       .scalars())
    assert rows == dict.fromkeys(tables, True)
    assert set(tables) <= policies


def _ensure_probe_role(conn) -> None:
    conn.execute(text(f"""
        DO $$ BEGIN
            CREATE ROLE {RLS_PROBE_ROLE} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$"""))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {RLS_PROBE_ROLE}"))
    conn.execute(text(f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {RLS_PROBE_ROLE}"))
    conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {RLS_PROBE_ROLE}"))


INSERT_PRODUCT = text("""
    INSERT INTO products (tenant_id, slug, seller_id, title_vi, title_en, description_vi, description_en,
                          price, unit, stock, ocop_certificate_number, status, review_note, is_featured,
                          created_at, updated_at)
    VALUES (:tenant, :slug, :seller, 'Hàng thử', '', '', '', 1000, '', 0, '', 'draft', '', false, now(), now())
""")


def test_row_level_security_for_non_superuser(app, two):
    _require_postgres(app)
    engine = database(app).engine
    with engine.begin() as conn:
        _ensure_probe_role(conn)

    def visible(conn, setting: str) -> set[int]:
        conn.execute(text("SELECT set_config('app.tenant_id', :v, true)"), {"v": setting})
        return set(conn.execute(text("SELECT tenant_id FROM products")).scalars())

    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.execute(text(f"SET LOCAL ROLE {RLS_PROBE_ROLE}"))
            assert conn.execute(text("SELECT current_user")).scalar() == RLS_PROBE_ROLE
            assert visible(conn, str(two.a.tenant_id)) == {two.a.tenant_id}
            assert conn.execute(text("SELECT count(*) FROM products")).scalar() == 2
            assert visible(conn, str(two.b.tenant_id)) == {two.b.tenant_id}
            assert visible(conn, "") == set()
            assert visible(conn, "*") == {two.a.tenant_id, two.b.tenant_id}
            # Writing one's own commune's row is allowed...
            visible(conn, str(two.a.tenant_id))
            conn.execute(INSERT_PRODUCT, {"tenant": two.a.tenant_id, "slug": "rls-own", "seller": two.a.seller_id})
            assert conn.execute(text("SELECT count(*) FROM products")).scalar() == 3
            # ...another commune's row is not.
            with pytest.raises(DBAPIError, match="row-level security"), conn.begin_nested():
                conn.execute(INSERT_PRODUCT, {"tenant": two.b.tenant_id, "slug": "rls-other",
                                              "seller": two.b.seller_id})
            # A connection that never set the variable sees nothing.
            conn.execute(text("RESET app.tenant_id"))
            assert conn.execute(text("SELECT count(*) FROM products")).scalar() == 0
        finally:
            transaction.rollback()  # ends SET LOCAL ROLE and discards the probe's rows
            conn.execute(text("RESET ROLE"))
            assert conn.execute(text("SELECT current_user")).scalar() != RLS_PROBE_ROLE
            conn.rollback()

    # The superuser test connection bypasses RLS: nothing was committed by the probe.
    with database(app).session(PLATFORM) as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 5


def test_get_after_switching_scope_in_one_session(app, two):
    with database(app).session(PLATFORM) as session:
        held = session.get(Product, two.b.product_ids[0])  # kept alive in the identity map
        assert held is not None
        with scoped(session, Scope(two.a.tenant_id)):
            assert session.get(Product, two.b.product_ids[0]) is None
