"""The staff dashboard's figures on a large commune: what do they cost next to a bare scan of its orders?

One commune gets ORDERS orders (their seller parts and lines) spread over the last 25 weeks, a few hundred
products, homestays with bookings and taken nights, and a few thousand field reports; a second commune gets
a fifth of that, which must not count. Everything is bulk-inserted with SQLAlchemy core (seconds, not the
services' minutes). Each figure of ``service.dashboard.services`` is timed (median of ROUNDS) for 12 and
26 weeks, alone and all together, as the page computes them; the baseline is a bare
``SELECT count(*), sum(total) FROM orders WHERE tenant_id = ...`` over the same commune, in the same run.
Set BENCH_DASHBOARD_ORDERS for another size, BENCH_DATABASE_URL to a scratch PostgreSQL to run there too.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench import on_each_database

ORDERS = int(os.environ.get("BENCH_DASHBOARD_ORDERS", "50000"))
ROUNDS = 3
DAYS = 25 * 7  # inside the 26-week period whatever the weekday (it starts on the Monday 25 weeks back)
OTHER_COMMUNE_SHARE = 5  # the second commune gets 1/5 of the data
PERIODS = (12, 26)


@dataclass(frozen=True)
class Sizes:
    orders: int
    products: int
    homestays: int
    reports: int

    @classmethod
    def for_orders(cls, orders: int) -> Sizes:
        return cls(orders=orders, products=max(10, min(400, orders // 100)), homestays=max(2, min(20, orders // 2500)),
                   reports=max(20, min(5000, orders // 15)))


@dataclass(frozen=True)
class Seeded:
    tenant_id: int
    counted_orders: int  # placed or completed, in the 26-week period: what the dashboard must add up
    rows: dict[str, int]  # table: rows inserted for the measured commune


def _returning_ids(session: Any, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    from sqlalchemy import insert

    if not rows:
        return []
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, rows).all())


def _fill(session: Any, tenant_id: int, sizes: Sizes, rng: random.Random, now: datetime) -> Seeded:
    """Bulk-insert one commune's activity; returns what the dashboard should find."""
    from sqlalchemy import insert

    from service.catalog.models import Product, ProductStatus, Seller
    from service.engagement.models import FieldReport, ReportCategory, ReportStatus
    from service.orders.models import FulfilmentStatus, Order, OrderLine, OrderStatus, PaymentMethod, SellerOrder
    from service.tourism.models import (
        Booking,
        BookingStatus,
        Homestay,
        NightSource,
        PublishStatus,
        RoomType,
        Unit,
        UnitNight,
    )

    t = tenant_id
    sellers = _returning_ids(session, Seller, [{"tenant_id": t, "slug": f"htx-{n}", "name": f"HTX Cẩm Thanh {n}"}
                                               for n in range(max(3, sizes.products // 10))])
    product_rows: list[dict[str, Any]] = [
        {"tenant_id": t, "slug": f"p-{n}", "seller_id": rng.choice(sellers), "title_vi": f"Đặc sản {n}",
         "price": rng.randrange(20, 900) * 1000, "stock": 10,
         "status": ProductStatus.PUBLISHED if n % 5 else ProductStatus.DRAFT, "published_at": now}
        for n in range(sizes.products)]
    products = list(zip(_returning_ids(session, Product, product_rows), product_rows, strict=True))
    by_seller: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for product in products:
        by_seller.setdefault(product[1]["seller_id"], []).append(product)
    selling = list(by_seller)

    statuses = [OrderStatus.PLACED] * 5 + [OrderStatus.COMPLETED] * 3 + [OrderStatus.AWAITING_PAYMENT,
                                                                           OrderStatus.CANCELED]
    counted = 0
    batch = 5000
    rows = {"orders": 0, "seller_orders": 0, "order_lines": 0}
    for start in range(0, sizes.orders, batch):
        plans = []  # per order: its row and its parts [(seller, [(product, qty)])]
        for n in range(start, min(start + batch, sizes.orders)):
            parts = [(seller, [(rng.choice(by_seller[seller]), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))])
                     for seller in rng.sample(selling, rng.randint(1, min(3, len(selling))))]
            subtotal = sum(p[1]["price"] * q for _, lines in parts for p, q in lines)
            status = rng.choice(statuses)
            placed = now - timedelta(seconds=rng.randrange(60, DAYS * 86400))
            counted += status in (OrderStatus.PLACED, OrderStatus.COMPLETED)
            plans.append(({"tenant_id": t, "number": f"DH{n:08d}", "secret": f"{t}-{n}-{rng.getrandbits(64):x}",
                           "payment_method": PaymentMethod.COD, "buyer_name": "Nguyễn Văn A",
                           "buyer_phone": "0905000000", "province": "Quảng Nam", "district": "Hội An",
                           "ward": "Cẩm Thanh", "street": "Thôn 1", "subtotal": subtotal, "total": subtotal,
                           "status": status, "placed_at": placed, "created_at": placed}, parts))
        order_ids = _returning_ids(session, Order, [row for row, _ in plans])
        part_rows, part_lines = [], []
        for order_id, (_, parts) in zip(order_ids, plans, strict=True):
            for seller, lines in parts:
                part_rows.append({"tenant_id": t, "order_id": order_id, "seller_id": seller,
                                  "subtotal": sum(p[1]["price"] * q for p, q in lines),
                                  "status": FulfilmentStatus.CANCELED if rng.random() < 0.05
                                  else FulfilmentStatus.DELIVERED})
                part_lines.append(lines)
        part_ids = _returning_ids(session, SellerOrder, part_rows)
        line_rows = [{"tenant_id": t, "seller_order_id": part_id, "product_id": product_id,
                      "title": product["title_vi"], "unit_price": product["price"], "quantity": quantity,
                      "line_total": product["price"] * quantity}
                     for part_id, lines in zip(part_ids, part_lines, strict=True)
                     for (product_id, product), quantity in lines]
        session.execute(insert(OrderLine), line_rows)
        rows["orders"] += len(plans)
        rows["seller_orders"] += len(part_rows)
        rows["order_lines"] += len(line_rows)

    homestays = _returning_ids(session, Homestay, [
        {"tenant_id": t, "slug": f"homestay-{n}", "host_seller_id": rng.choice(sellers), "name_vi": f"Nhà dừa {n}",
         "status": PublishStatus.PUBLISHED if n % 4 else PublishStatus.DRAFT} for n in range(sizes.homestays)])
    room_types = _returning_ids(session, RoomType, [
        {"tenant_id": t, "homestay_id": homestay, "name_vi": f"Phòng {k}", "capacity": 2, "base_price": 400_000,
         "ical_token": f"{t}-{homestay}-{k}-{rng.getrandbits(64):x}", "is_active": True}
        for homestay in homestays for k in range(2)])
    unit_rows = [{"tenant_id": t, "room_type_id": room_type, "label": f"P{k}"} for room_type in room_types
                 for k in range(3)]
    units = list(zip(_returning_ids(session, Unit, unit_rows), unit_rows, strict=True))
    today = now.date()
    bookings: list[dict[str, Any]] = []
    nights: list[list[date]] = []  # the nights of each booking
    other_nights: list[dict[str, Any]] = []  # host blocks and iCal imports
    for unit_id, unit in units:
        day = today - timedelta(days=DAYS)
        while day < today:
            length = rng.randint(1, 4)
            stay = [day + timedelta(days=k) for k in range(length)]
            kind = rng.random()
            if kind < 0.6:
                booking_status = BookingStatus.CONFIRMED if kind < 0.5 else BookingStatus.CANCELED
                n = len(bookings)
                bookings.append({"tenant_id": t, "number": f"DP{n:08d}", "secret": f"{t}-b{n}-{rng.getrandbits(64):x}",
                                 "room_type_id": unit["room_type_id"], "unit_id": unit_id, "check_in": day,
                                 "check_out": day + timedelta(days=length), "guests": 2, "guest_name": "Trần Thị B",
                                 "guest_phone": "0905111111", "total": 400_000 * length, "amount_due_now": 0,
                                 "payment_option": "on_arrival", "status": booking_status})
                # a cancelled stay freed its nights
                nights.append(stay if booking_status == BookingStatus.CONFIRMED else [])
            elif kind < 0.75:
                source = NightSource.HOST_BLOCK if kind < 0.67 else NightSource.ICAL
                other_nights += [{"tenant_id": t, "unit_id": unit_id, "night": night, "source": source}
                                 for night in stay]
            day += timedelta(days=length + rng.randint(0, 2))
    night_rows = [{"tenant_id": t, "unit_id": booking["unit_id"], "night": night, "source": NightSource.BOOKING,
                   "booking_id": booking_id}
                  for booking_id, booking, stay in zip(_returning_ids(session, Booking, bookings), bookings, nights,
                                                       strict=True)
                  for night in stay]
    if night_rows + other_nights:
        session.execute(insert(UnitNight), night_rows + other_nights)

    category = _returning_ids(session, ReportCategory, [{"tenant_id": t, "code": "moi-truong",
                                                        "name_vi": "Môi trường"}])[0]
    report_statuses = list(ReportStatus)
    session.execute(insert(FieldReport), [
        {"tenant_id": t, "code": f"PA{n:07d}", "open311_token": f"{t}-r{n}-{rng.getrandbits(64):x}",
         "category_id": category, "status": rng.choice(report_statuses),
         "due_at": now + timedelta(days=rng.randint(-60, 30))} for n in range(sizes.reports)])
    rows.update(products=len(products), bookings=len(bookings), unit_nights=len(night_rows) + len(other_nights),
                field_reports=sizes.reports)
    return Seeded(tenant_id, counted, rows)


def seed(app: Any, orders: int) -> Seeded:
    """The measured commune, then a smaller one whose data the dashboard must leave out."""
    from sqlalchemy import text

    from service.db import PLATFORM, Scope, database, scoped
    from service.tenants.services import create_tenant

    rng = random.Random(2026)
    now = datetime.now(UTC)
    stamp = time.time_ns()  # a scratch database may hold earlier runs
    with app.app_context(), database(app).session(PLATFORM) as session:
        measured = create_tenant(session, slug=f"dashboard-bench-{stamp}", name="Xã Cẩm Thanh", province="Quảng Nam")
        other = create_tenant(session, slug=f"dashboard-other-{stamp}", name="Xã Cẩm Kim", province="Quảng Nam")
        with scoped(session, Scope(measured.id)):
            seeded = _fill(session, measured.id, Sizes.for_orders(orders), rng, now)
        with scoped(session, Scope(other.id)):
            _fill(session, other.id, Sizes.for_orders(max(1, orders // OTHER_COMMUNE_SHARE)), rng, now)
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            # What autovacuum does on a live database: without statistics the planner expects one row per
            # table and nests loops over all of them (one top-products query then takes minutes).
            session.execute(text("ANALYZE"))
            session.commit()
    return seeded


def _median_seconds(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm: compiled statements, the database's caches
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


@dataclass(frozen=True)
class Result:
    backend: str
    seeded: Seeded
    seed_seconds: float
    baseline: float
    timings: list[tuple[str, float]]  # label, seconds
    orders_26_weeks: int  # what the dashboard counted over 26 weeks (a check that the other commune stayed out)


def measure(url: str, orders: int = ORDERS, rounds: int = ROUNDS) -> Result:
    from sqlalchemy import text

    from service import create_app
    from service.dashboard import services
    from service.db import Scope, database
    from service.media.storage import get_storage
    from service.migrate import upgrade
    from service.tenants.models import Tenant

    upgrade(url)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp, "MEDIA_ROOT": tmp,
                          "PUBLIC_BASE_URL": "https://xaso.vn"})
        start = time.perf_counter()
        seeded = seed(app, orders)
        seed_seconds = time.perf_counter() - start
        db = database(app)
        scope = Scope(seeded.tenant_id)

        def in_session(figure: Callable[[Any], object]) -> Callable[[], object]:
            def call() -> object:
                with app.app_context(), db.session(scope) as session:
                    return figure(session)
            return call

        def bare_scan(session: Any) -> object:
            return session.execute(text("SELECT count(*), sum(total) FROM orders WHERE tenant_id = :tenant"),
                                   {"tenant": seeded.tenant_id}).one()

        def feeds(session: Any) -> object:
            tenant = session.get(Tenant, seeded.tenant_id)
            return services.feed_health(session, get_storage(), tenant)

        def figures_of(period: services.Period) -> list[tuple[str, Callable[[Any], object]]]:
            return [
                ("orders_by_week", lambda s: services.orders_by_week(s, period)),
                ("top_products (revenue)", lambda s: services.top_products(s, period)),
                ("top_products (quantity)", lambda s: services.top_products(s, period, by="quantity")),
                ("top_sellers", lambda s: services.top_sellers(s, period)),
                ("occupancy_by_week", lambda s: services.occupancy_by_week(s, period)),
            ]

        def whole_page(period: services.Period) -> Callable[[Any], object]:
            def everything(session: Any) -> object:  # as the page computes them (feeds in a session of their own)
                figures = [figure(session) for _, figure in figures_of(period)]
                figures.append(services.report_counts(session))
                return figures + [in_session(feeds)()]
            return everything

        baseline = _median_seconds(in_session(bare_scan), rounds)
        timings = [("report_counts", _median_seconds(in_session(services.report_counts), rounds)),
                   ("feed_health", _median_seconds(in_session(feeds), rounds))]
        for weeks in PERIODS:
            period = services.period_of(weeks)
            timings += [(f"{label}, {weeks} wk", _median_seconds(in_session(figure), rounds))
                        for label, figure in figures_of(period)]
            timings.append((f"all figures, {weeks} wk", _median_seconds(in_session(whole_page(period)), rounds)))
        with app.app_context(), db.session(scope) as session:
            counted = sum(week.orders for week in services.orders_by_week(session, services.period_of(26)))
        db.engine.dispose()
    return Result(url.split(":", 1)[0], seeded, seed_seconds, baseline, timings, counted)


def report(result: Result) -> None:
    rows = ", ".join(f"{count:,} {table}" for table, count in result.seeded.rows.items())
    print(f"dashboard on {result.backend}: one commune with {rows} (+1/{OTHER_COMMUNE_SHARE} as much in another; "
          f"inserted in {result.seed_seconds:.1f} s)")
    print(f"  {'':<36}{'time s':>9}{'x':>8}")
    print(f"  {'bare count/sum of orders (baseline)':<36}{result.baseline:9.4f}{1:8.1f}")
    for label, seconds in result.timings:
        print(f"  {label:<36}{seconds:9.4f}{seconds / result.baseline:8.1f}")


def run(url: str) -> None:
    report(measure(url))


def main() -> None:
    on_each_database(run, "dashboard")


if __name__ == "__main__":
    main()
