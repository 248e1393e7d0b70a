"""Feed export of a large catalog: 100,000 published products of one commune, in every format.

Each format (google-merchant, csv, json) streams the whole feed to nowhere; the baseline is a bare
SELECT of the same rows: the published products read as ORM rows with the same ``yield_per`` batches
(and the same identity-map pruning) the feeds use, without photos, items or formatting. Time is
measured in one pass, peak Python memory (tracemalloc) in another, so tracing does not slow the timing.
Prints time and peak memory per format and their ratios to the baseline.
Set BENCH_DATABASE_URL to a scratch PostgreSQL database to run there too.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import on_each_database

PRODUCTS = int(os.environ.get("BENCH_FEEDS_PRODUCTS", "100000"))
PHOTOS = 3000  # attachment rows, spread over the first products, pointing at a handful of assets
ASSETS = 6
INSERT_BATCH = 5000
WORDS = ["Nước mắm", "Bưởi", "Lụa", "Rượu", "Bánh tráng", "Chôm chôm", "Mật ong", "Trà", "Giỏ tre", "Mực khô"]
QUALIFIERS = ["Tư Tài", "Tân Triều", "Mã Châu", "Hồng Đào", "Cẩm Thanh", "thượng hạng", "đặc biệt", "hữu cơ"]


def _seed(app: Any) -> int:
    """A commune with PRODUCTS published products, bulk-inserted; returns the tenant id."""
    from sqlalchemy import insert

    from service.catalog import services as catalog
    from service.catalog.models import Product, ProductStatus
    from service.catalog.services import PRODUCT_IMAGES
    from service.db import PLATFORM, Scope, database, scoped
    from service.media.models import AssetStatus, MediaAsset, MediaAttachment
    from service.tenants.services import SYSTEM, create_tenant

    rng = random.Random(2026)
    now = datetime.now(UTC)
    with app.app_context(), database(app).session(PLATFORM) as session:
        slug = f"feeds-bench-{int(time.time())}"  # a scratch database may hold earlier runs
        tenant = create_tenant(session, slug=slug, name="Xã Cẩm Thanh", province="Quảng Nam")
        with scoped(session, Scope(tenant.id)):
            sellers = [catalog.create_seller(session, SYSTEM, {"name": f"HTX {q}"}) for q in QUALIFIERS]
            categories = [catalog.create_category(session, SYSTEM, {"name_vi": w}) for w in WORDS]
            assets = [MediaAsset(key=f"bench/{n}.jpg", content_hash=f"{n:064d}", status=AssetStatus.READY,
                                 original_format="jpeg", bytes=200_000, width=2000, height=1500,
                                 variants=[{"format": "jpeg", "width": w, "key": f"bench/{n}-{w}.jpg"}
                                           for w in (400, 800, 1600)])
                      for n in range(ASSETS)]
            session.add_all(assets)
            session.flush()
            first_id = None
            for start in range(0, PRODUCTS, INSERT_BATCH):
                rows = []
                for i in range(start, min(start + INSERT_BATCH, PRODUCTS)):
                    title = f"{rng.choice(WORDS)} {rng.choice(QUALIFIERS)} {i}"
                    rows.append({
                        "tenant_id": tenant.id, "slug": f"p-{i}", "seller_id": rng.choice(sellers).id,
                        "category_id": rng.choice(categories).id, "title_vi": title, "title_en": "",
                        "description_vi": f"{title}: đặc sản làng nghề, đóng gói cẩn thận, giao toàn quốc.",
                        "description_en": "", "price": rng.randrange(20, 2000) * 1000, "unit": "chai",
                        "stock": rng.choice([0, 5, 20]), "ocop_stars": rng.choice([None, 3, 4, 5]),
                        "ocop_certificate_number": "OCOP-2024", "status": ProductStatus.PUBLISHED,
                        "published_at": now, "brand": "", "gtin": "", "weight_grams": rng.choice([None, 500, 750]),
                    })
                ids = session.scalars(insert(Product).returning(Product.id), rows).all()
                first_id = first_id if first_id is not None else min(ids)
            assert first_id is not None
            session.execute(insert(MediaAttachment), [
                {"tenant_id": tenant.id, "owner_type": PRODUCT_IMAGES, "owner_id": first_id + n // 3,
                 "asset_id": assets[n % ASSETS].id, "position": n % 3}
                for n in range(PHOTOS)])
        session.commit()
        return tenant.id


def _timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    size = fn()
    return time.perf_counter() - start, size


def _peak(fn: Callable[[], int]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(url: str) -> None:
    from service import create_app
    from service.db import Scope, database
    from service.feeds.access import settings_for
    from service.feeds.formats import FeedContext, load_formats
    from service.feeds.items import BATCH, iter_items, published_products
    from service.media.storage import get_storage
    from service.migrate import upgrade
    from service.tenants.models import Tenant

    upgrade(url)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp, "MEDIA_ROOT": tmp,
                          "PUBLIC_BASE_URL": "https://xaso.vn"})
        start = time.perf_counter()
        tenant_id = _seed(app)
        seeded = time.perf_counter() - start
        db = database(app)

        def bare_select() -> int:
            with app.app_context(), db.session(Scope(tenant_id)) as session:
                rows = 0
                stmt = published_products(tenant_id).execution_options(yield_per=BATCH)
                for partition in session.scalars(stmt).partitions(BATCH):
                    rows += len(partition)
                    for product in partition:  # as the feeds do: the identity map must not grow
                        session.expunge(product)
                return rows

        def export(name: str) -> Callable[[], int]:
            def write() -> int:
                with app.app_context(), db.session(Scope(tenant_id)) as session:
                    tenant = session.get(Tenant, tenant_id)
                    assert tenant is not None
                    fmt = load_formats()[name]
                    context = FeedContext(tenant=tenant, settings=settings_for(session), language="vi",
                                          link=f"https://xaso.vn/c/{tenant.slug}")
                    return sum(len(chunk) for chunk in fmt.render(
                        iter_items(session, get_storage(), tenant), context))
            return write

        base_time, rows = _timed(bare_select)
        base_peak = _peak(bare_select)
        results = []
        for name in ("google-merchant", "csv", "json"):
            seconds, size = _timed(export(name))
            results.append((name, seconds, _peak(export(name)), size))
        db.engine.dispose()
    backend = url.split(":", 1)[0]
    print(f"feeds on {backend}: {rows:,} published products of one commune, {PHOTOS:,} photos "
          f"(inserted in {seeded:.1f} s)")
    print(f"  {'':<24}{'time s':>8}{'peak MiB':>10}{'MB out':>8}{'time x':>8}{'memory x':>10}")
    print(f"  {'bare SELECT (baseline)':<24}{base_time:8.2f}{base_peak / 2**20:10.2f}{'':>8}{1:8.2f}{1:10.2f}")
    for name, seconds, peak, size in results:
        print(f"  {name:<24}{seconds:8.2f}{peak / 2**20:10.2f}{size / 1e6:8.1f}"
              f"{seconds / base_time:8.2f}{peak / base_peak:10.2f}")


def main() -> None:
    on_each_database(run, "feeds")


if __name__ == "__main__":
    main()
