"""A commune with known orders, bookings, field reports and feed items, for the staff dashboard tests.

Everything is made through the real services; only the moments are moved into the past afterwards
(``placed_at``, ``due_at``), as time would have done. ``M0`` is the Monday of the current week in
Asia/Ho_Chi_Minh; with the default 12-week period, week index 11 is the current week.

Commune A (cam-thanh) ends up with, in the 12-week period:

* week 4: one order, 2 × sauce (150.000) + 1 × basket (45.000) = 345.000 ₫;
* week 11: two orders, 150.000 ₫ each in the end (the second one's basket part was cancelled by its seller);
* an order waiting for its VNPay payment and a cancelled one, which do not count;
* week 10: on a homestay of 2 rooms, one confirmed 3-night booking, a cancelled booking, 2 nights blocked by
  the host: 3 nights booked of 12 available (25 %);
* field reports: 2 submitted (one of them overdue), 1 resolved.

Commune B (nam-phuoc) has an order, a booking and a report of its own in the same weeks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from service.core.clock import DISPLAY_ZONE
from service.db import Scope, database
from service.engagement.models import FieldReport, ReportStatus
from service.orders import services as orders
from service.orders.models import Order
from service.tenants.services import SYSTEM
from service.tourism import services as stays
from service.tourism.models import Booking, RoomType
from tests.engagement.report_helpers import file_report, setup_categories
from tests.factories import Commune, World
from tests.tourism import Listing, make_listing

BUYER = orders.Buyer(name="Nguyễn Thị Lan", phone="0905 123 456", province="Quảng Nam", district="Hội An",
                     ward="Cẩm Thanh", street="12 Thôn 2")
GUEST = stays.Guest(name="Trần Văn Minh", phone="0905 123 456")


def this_monday() -> date:
    today = datetime.now(DISPLAY_ZONE).date()
    return today - timedelta(days=today.weekday())


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), DISPLAY_ZONE)


def week(index: int, weeks: int = 12) -> date:
    """The Monday of week ``index`` of a period of ``weeks`` weeks ending with this one."""
    return this_monday() - timedelta(weeks=weeks - 1 - index)


def _order(session: Any, commune: Commune, cart: dict[str, int], placed: datetime | None,
           method: str = "cod") -> Order:
    order = orders.checkout(session, {commune.products[key]: qty for key, qty in cart.items()}, BUYER, method, {})
    if placed is not None:
        order.placed_at = placed
    session.flush()
    return order


def build_sales(app: Flask, world: World) -> None:
    a, b, m0 = world.a, world.b, this_monday()
    with app.app_context():
        with database(app).session(Scope(a.id)) as session:
            _order(session, a, {"published": 2, "cheap": 1}, local(week(4) + timedelta(days=2), 10))
            # Monday 00:30 in Hội An is still Sunday in UTC: it belongs to this week, not the last
            _order(session, a, {"published": 1}, local(m0, 0, 30))
            third = _order(session, a, {"published": 1, "cheap": 2}, local(m0, 9))
            [basket_part] = [part for part in third.parts if part.seller_id == a.sellers["other"]]
            orders.advance(session, SYSTEM, basket_part, "cancel")
            _order(session, a, {"published": 3}, None, method="vnpay")  # waiting for the payment
            orders.cancel_order(session, _order(session, a, {"cheap": 1}, None, method="vnpay"), "changed_mind")
            session.commit()
        with database(app).session(Scope(b.id)) as session:
            _order(session, b, {"published": 5}, local(m0, 12))
            session.commit()


def _book(app: Flask, commune: Commune, listing: Listing, check_in: date, nights: int) -> int:
    with app.app_context(), database(app).session(Scope(commune.id)) as session:
        room_type = session.get(RoomType, listing.room_type_id)
        booking = stays.book(session, room_type, stays.Stay(check_in, check_in + timedelta(days=nights), 2), GUEST,
                             "on_arrival", "", {})
        session.commit()
        return booking.id


def build_stays(app: Flask, world: World) -> None:
    a, b = world.a, world.b
    listing = make_listing(app, a.id, a.sellers["own"], units=2)
    _book(app, a, listing, week(10), 3)
    cancelled = _book(app, a, listing, week(10) + timedelta(days=1), 2)
    with app.app_context(), database(app).session(Scope(a.id)) as session:
        stays.cancel_booking(session, session.get(Booking, cancelled), "guest_cancelled")
        room_type = session.get(RoomType, listing.room_type_id)
        stays.block_nights(session, room_type.units[1], week(10) + timedelta(days=4), week(10) + timedelta(days=6))
        session.commit()
    other = make_listing(app, b.id, b.sellers["own"], units=1, name="Nhà Nam Phước")
    _book(app, b, other, week(10), 5)


def build_reports(app: Flask, world: World) -> None:
    for commune in (world.a, world.b):
        setup_categories(app, commune)
    file_report(app, world.a, description="Đèn đường không sáng ở thôn 2", category="den-duong",
                attributes={"loai-su-co": "khong-sang"})
    late = file_report(app, world.a, description="Nước ngập sâu trước chợ")
    file_report(app, world.a, description="Rác thải ven sông chưa thu gom", category="rac-thai",
                steps=((ReportStatus.RESOLVED, "Đã thu gom", ""),))
    file_report(app, world.b, description="Nước ngập ở Nam Phước")
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        report = session.scalars(select(FieldReport).where(FieldReport.code == late)).one()
        report.due_at = datetime.now(DISPLAY_ZONE) - timedelta(days=2)  # the deadline passed two days ago
        session.commit()


def build_all(app: Flask, world: World) -> None:
    build_sales(app, world)
    build_stays(app, world)
    build_reports(app, world)


@dataclass(frozen=True)
class Staff:
    """E-mails of commune A's people by role (see tests.factories)."""

    admin: str = "admin@cam-thanh.test"
    editor: str = "editor@cam-thanh.test"
    volunteer: str = "volunteer@cam-thanh.test"
    seller: str = "seller@cam-thanh.test"
    other_commune_admin: str = "admin@nam-phuoc.test"
