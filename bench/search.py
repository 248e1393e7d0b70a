"""Search latency on a large index: 100,000 generated products across 10 communes.

For each query (with and without marks, typos, partial and run-together words) the SQL backend
answers inside one commune's scope; the baseline is the same query as a plain ``LIKE '%word%'``
scan (every word, AND) over the same folded columns of the same rows, with the same tenant
filter and LIMIT. Prints p50/p95 per backend and the ratio to the baseline.
Set BENCH_DATABASE_URL to an empty PostgreSQL database to run there too.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable

from sqlalchemy import text

from bench import on_each_database

DOCUMENTS = int(os.environ.get("BENCH_SEARCH_DOCUMENTS", "100000"))
COMMUNES = 10
ROUNDS = 5
QUERIES = ["nuoc mam", "Nước mắm Tư Tài", "nươc mam", "nuoc mamm", "nuocmam", "bưởi tân triều", "buoi",
           "lụa mã châu", "lua ma chau", "ruou hong dao", "banh trang", "chom chom", "sau rieng ri6",
           "mat ong", "tra la dau", "gio tre", "thung chai", "muc kho", "tom kho", "ca com"]
PRODUCT_WORDS = ["Nước mắm", "Bưởi", "Lụa", "Rượu", "Bánh tráng", "Chôm chôm", "Sầu riêng", "Mật ong",
                 "Trà", "Giỏ tre", "Thúng chai", "Mực khô", "Tôm khô", "Cá cơm", "Mắm ruốc", "Dừa"]
QUALIFIERS = ["Tư Tài", "Tân Triều", "Mã Châu", "Hồng Đào", "Bảy Mẫu", "Cẩm Thanh", "Duy Xuyên",
              "Ri6", "lá dâu", "nhĩ", "40 độ đạm", "thượng hạng", "đặc biệt", "truyền thống", "hữu cơ"]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def _measure(fn: Callable[[str], object]) -> tuple[float, float]:
    for query in QUERIES:  # warm up
        fn(query)
    samples = []
    for _ in range(ROUNDS):
        for query in QUERIES:
            start = time.perf_counter()
            fn(query)
            samples.append(time.perf_counter() - start)
    return _percentiles(samples)


def _seed(app, url: str) -> list[int]:  # type: ignore[no-untyped-def]
    from service.db import PLATFORM, database
    from service.search.documents import SearchDocument
    from service.search.sql import SqlBackend
    from service.tenants.services import create_tenant

    rng = random.Random(2026)
    backend = SqlBackend()
    tenant_ids = []
    with app.app_context(), database(app).session(PLATFORM) as session:
        tenants = [create_tenant(session, slug=f"tim-{n}", name=f"Xã tìm {n}") for n in range(COMMUNES)]
        tenant_ids = [t.id for t in tenants]
        batch: list[SearchDocument] = []
        for i in range(DOCUMENTS):
            tenant = tenants[i % COMMUNES]
            title = f"{rng.choice(PRODUCT_WORDS)} {rng.choice(QUALIFIERS)} {i}"
            batch.append(SearchDocument(
                kind="product", tenant_id=tenant.id, object_id=i + 1, title=title,
                body=f"{title} đặc sản {tenant.name}, {rng.choice(QUALIFIERS)}", price=rng.randrange(20, 2000) * 1000,
                ocop_stars=rng.choice([None, 3, 4, 5]), category_slug="dac-san", category_name="Đặc sản",
                seller_slug="htx", seller_name="HTX", commune_slug=tenant.slug, commune_name=tenant.name,
                url=f"/c/{tenant.slug}/products/p-{i}"))
            if len(batch) == 2000:
                backend.index(session, batch)
                batch = []
        backend.index(session, batch)
        session.commit()
        backend.refresh_statistics(session)  # as `search reindex` does after a bulk load
        session.commit()
    return tenant_ids


def run(url: str) -> None:
    from service import create_app
    from service.db import Scope, database
    from service.migrate import upgrade
    from service.search.backend import SearchQuery
    from service.search.documents import terms
    from service.search.sql import SqlBackend

    upgrade(url)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp, "MEDIA_ROOT": tmp})
        start = time.perf_counter()
        tenant_ids = _seed(app, url)
        seeded = time.perf_counter() - start
        tenant_id = tenant_ids[3]
        backend = SqlBackend()
        db = database(app)

        def search(query: str) -> object:
            with app.app_context(), db.session(Scope(tenant_id)) as session:
                return backend.search(session, SearchQuery(q=query, per_page=20)).hits

        def like_scan(query: str) -> object:
            words = terms(query)
            where = " AND ".join(f"(title_folded LIKE :w{n} OR body_folded LIKE :w{n})" for n in range(len(words)))
            params: dict[str, object] = {f"w{n}": f"%{word}%" for n, word in enumerate(words)}
            sql = text(f"SELECT id, title FROM search_entries WHERE tenant_id = :tenant AND {where} "
                       "ORDER BY published_at DESC LIMIT 20")
            with db.engine.connect() as conn:
                return conn.execute(sql, {"tenant": tenant_id, **params}).all()

        base = _measure(like_scan)
        ours = _measure(search)
        db.engine.dispose()
    name = url.split(":", 1)[0]
    print(f"search on {name}: {DOCUMENTS:,} documents in {COMMUNES} communes (indexed in {seeded:.1f} s), "
          f"{len(QUERIES)} queries x {ROUNDS}")
    print(f"  {'':<22}{'p50 ms':>9}{'p95 ms':>9}{'p50 ratio':>11}{'p95 ratio':>11}")
    print(f"  {'LIKE scan (baseline)':<22}{base[0] * 1e3:9.2f}{base[1] * 1e3:9.2f}{1:11.2f}{1:11.2f}")
    print(f"  {'sql backend':<22}{ours[0] * 1e3:9.2f}{ours[1] * 1e3:9.2f}"
          f"{ours[0] / base[0]:11.2f}{ours[1] / base[1]:11.2f}")


def main() -> None:
    on_each_database(run, "search")


if __name__ == "__main__":
    main()
