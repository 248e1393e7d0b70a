"""What does tenant scoping and the ORM cost on the hottest read, a commune's product list?

Baseline: the same page of products fetched with one hand-written SQL query (tenant filter
written by hand, no ORM). Measured against it, in the same run and on the same data:
  * orm       - ``list_public_products`` in a commune's scope (automatic tenant criteria,
                count query for paging, joined seller and category);
  * page      - the whole ``GET /c/<slug>/products`` page through the Flask test client
                (tenant resolution, query, Jinja rendering).
Set BENCH_DATABASE_URL to an empty PostgreSQL database to run there instead of a temporary SQLite file.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

COMMUNES = 5
PRODUCTS_PER_COMMUNE = 2_000
ROUNDS = 300


def _timed(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    for _ in range(20):  # warm caches, compiled statements, templates
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _seed(app) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    from service.catalog import services as catalog
    from service.catalog.models import Product, ProductStatus
    from service.db import PLATFORM, Scope, database, scoped, utcnow
    from service.tenants.services import SYSTEM, create_tenant

    communes = []
    with app.app_context(), database(app).session(PLATFORM) as session:
        for n in range(COMMUNES):
            tenant = create_tenant(session, slug=f"xa-{n}", name=f"Xã {n}")
            with scoped(session, Scope(tenant.id)):
                seller = catalog.create_seller(session, SYSTEM, {"name": f"HTX {n}"})
                category = catalog.create_category(session, SYSTEM, {"name_vi": "Đặc sản"})
                session.add_all(
                    Product(slug=f"san-pham-{i}", seller_id=seller.id, category_id=category.id,
                            title_vi=f"Sản phẩm {i}", price=50_000 + i * 1_000, stock=i % 50,
                            status=ProductStatus.PUBLISHED if i % 4 else ProductStatus.DRAFT,
                            published_at=utcnow())
                    for i in range(PRODUCTS_PER_COMMUNE)
                )
                session.flush()
            communes.append((tenant.id, tenant.slug))
        session.commit()
    return communes


def main() -> None:
    from service import create_app
    from service.catalog.services import ProductFilters, list_public_products
    from service.db import Scope, database
    from service.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp,
                          "MEDIA_ROOT": tmp, "TESTING": True})
        communes = _seed(app)
        tenant_id, slug = communes[COMMUNES // 2]
        engine = database(app).engine
        raw_sql = text(
            "SELECT p.id, p.slug, p.title_vi, p.price, s.name, c.name_vi FROM products p "
            "JOIN sellers s ON s.id = p.seller_id LEFT JOIN categories c ON c.id = p.category_id "
            "WHERE p.tenant_id = :tenant AND p.status = 'published' "
            "ORDER BY p.published_at DESC, p.id DESC LIMIT 24"
        )

        def baseline() -> object:
            with engine.connect() as conn:
                return conn.execute(raw_sql, {"tenant": tenant_id}).all()

        def orm() -> object:
            with database(app).session(Scope(tenant_id)) as session:
                return list_public_products(session, ProductFilters(), 1, 24).items

        client = app.test_client()

        def page() -> object:
            response = client.get(f"/c/{slug}/products")
            assert response.status_code == 200, response.status_code
            return response.data

        base = _timed(baseline)
        results = {"orm": _timed(orm), "page": _timed(page, rounds=ROUNDS // 3)}
        engine.dispose()

    dialect = url.split(":", 1)[0]
    print(f"catalog listing on {dialect}: {COMMUNES} communes x {PRODUCTS_PER_COMMUNE} products, median of runs")
    print(f"  baseline raw SQL page of 24   {base * 1e3:8.3f} ms   1.00x")
    for name, seconds in results.items():
        print(f"  {name:<29} {seconds * 1e3:8.3f} ms   {seconds / base:5.2f}x")


if __name__ == "__main__":
    main()
