"""The staff dashboard's figures for the session's commune (the data layer scopes every query).

Definitions, so the numbers mean one thing everywhere (page, CSV, tests):

* A **week** starts on Monday in Asia/Ho_Chi_Minh. A period is the last N weeks, the current one included.
* An **order counts** when it is placed or completed (paid, or cash on delivery); orders awaiting payment
  and cancelled orders do not. It falls in the week of its ``placed_at``.
* **Revenue** is integer đồng: the subtotals of those orders' seller parts, less the parts a seller
  cancelled (their money is refunded). Shipping is not charged today, so this is also what buyers paid.
* **Occupancy** of a week = nights booked / nights available, over the units of active room types of
  published homestays: booked nights are those of confirmed bookings and of other channels' bookings
  (iCal); nights the host blocked are neither booked nor available. Bookings are counted in the week of
  their check-in.

Aggregation happens in SQL (GROUP BY over a week number computed with CASE on boundaries worked out
here, which reads the same on SQLite and PostgreSQL); only the small grouped rows come back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from service.catalog.models import Seller
from service.core.clock import DISPLAY_ZONE, utcnow
from service.engagement.models import ReportStatus
from service.engagement.services import overdue_count, status_counts
from service.feeds.items import iter_items
from service.feeds.rules import MARKETPLACES, Problem, blocking, problems
from service.media.storage import Storage
from service.orders.models import FulfilmentStatus, Order, OrderLine, OrderStatus, SellerOrder
from service.tenants.models import Tenant
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

PERIOD_WEEKS = (4, 12, 26)
DEFAULT_WEEKS = 12
TOP_LIMIT = 10
REASON_LIMIT = 5
COUNTED_ORDERS = (OrderStatus.PLACED, OrderStatus.COMPLETED)


@dataclass(frozen=True)
class Period:
    """Whole weeks, Monday to Sunday in the commune's time zone: ``start`` included, ``end`` excluded."""

    start: date
    weeks: int

    @property
    def end(self) -> date:
        return self.start + timedelta(weeks=self.weeks)

    @property
    def week_starts(self) -> list[date]:
        return [self.start + timedelta(weeks=n) for n in range(self.weeks)]

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def period_of(weeks: int | None, today: date | None = None) -> Period:
    """The last ``weeks`` weeks up to this one (an unknown length falls back to the default)."""
    weeks = weeks if weeks in PERIOD_WEEKS else DEFAULT_WEEKS
    today = today or utcnow().astimezone(DISPLAY_ZONE).date()
    monday = today - timedelta(days=today.weekday())
    return Period(start=monday - timedelta(weeks=weeks - 1), weeks=weeks)


def local_midnight(day: date) -> datetime:
    """The UTC moment a local day begins (what stored timestamps compare with)."""
    return datetime.combine(day, time(), DISPLAY_ZONE)


def _week_index(column: Any, period: Period, *, moments: bool) -> ColumnElement[Any]:
    """0 for the period's first week, 1 for the next... for a column already limited to the period."""
    bounds = [local_midnight(monday) if moments else monday for monday in period.week_starts[1:]]
    if not bounds:
        return literal(0)
    return case(*[(column < bound, index) for index, bound in enumerate(bounds)], else_=len(bounds))


def _by_week(session: Session, rows: Any, value: ColumnElement[Any]) -> dict[int, int]:
    """``value`` aggregated per week of a subquery with a ``week`` column: {week index: whole number}."""
    grouped = session.execute(select(rows.c.week, value).group_by(rows.c.week)).tuples()
    return {int(week): int(total or 0) for week, total in grouped}


def _in_period(column: Any, period: Period, *, moments: bool) -> ColumnElement[bool]:
    if moments:
        return and_(column >= local_midnight(period.start), column < local_midnight(period.end))
    return and_(column >= period.start, column < period.end)


# -- orders and revenue ----------------------------------------------------------------------------

@dataclass(frozen=True)
class WeekSales:
    week: date  # the Monday
    orders: int
    revenue: int  # đồng


def _counted_parts() -> ColumnElement[bool]:
    return and_(Order.status.in_(COUNTED_ORDERS), SellerOrder.status != FulfilmentStatus.CANCELED)


def orders_by_week(session: Session, period: Period) -> list[WeekSales]:
    """Orders placed and their revenue, week by week (every week present, zero when quiet)."""
    orders = (select(_week_index(Order.placed_at, period, moments=True).label("week"), Order.id.label("id"))
              .where(Order.status.in_(COUNTED_ORDERS), _in_period(Order.placed_at, period, moments=True))
              .subquery())
    counts = _by_week(session, orders, func.count())
    parts = (select(_week_index(Order.placed_at, period, moments=True).label("week"),
                    SellerOrder.subtotal.label("subtotal"))
             .join(Order, Order.id == SellerOrder.order_id)
             .where(_counted_parts(), _in_period(Order.placed_at, period, moments=True))
             .subquery())
    revenue = _by_week(session, parts, func.sum(parts.c.subtotal))
    return [WeekSales(monday, counts.get(index, 0), revenue.get(index, 0))
            for index, monday in enumerate(period.week_starts)]


@dataclass(frozen=True)
class ProductSales:
    title: str
    product_id: int | None  # None: the product was deleted since
    quantity: int
    revenue: int
    orders: int


def top_products(session: Session, period: Period, *, by: str = "revenue",
                 limit: int = TOP_LIMIT) -> list[ProductSales]:
    """The best-selling products of the period, by ``revenue`` or by ``quantity``."""
    quantity, revenue = func.sum(OrderLine.quantity), func.sum(OrderLine.line_total)
    first, second = (quantity, revenue) if by == "quantity" else (revenue, quantity)
    rows = session.execute(
        select(func.max(OrderLine.title), OrderLine.product_id, quantity, revenue,
               func.count(func.distinct(Order.id)))
        .join(SellerOrder, SellerOrder.id == OrderLine.seller_order_id)
        .join(Order, Order.id == SellerOrder.order_id)
        .where(_counted_parts(), _in_period(Order.placed_at, period, moments=True))
        .group_by(OrderLine.product_id)
        .order_by(first.desc(), second.desc(), func.max(OrderLine.title))
        .limit(limit)).tuples().all()
    return [ProductSales(title, product_id, int(qty or 0), int(money or 0), int(count))
            for title, product_id, qty, money, count in rows]


@dataclass(frozen=True)
class SellerSales:
    name: str
    seller_id: int
    orders: int
    revenue: int


def top_sellers(session: Session, period: Period, *, limit: int = TOP_LIMIT) -> list[SellerSales]:
    """The sellers who sold most in the period (their parts of counted orders), by revenue."""
    revenue = func.sum(SellerOrder.subtotal)
    rows = session.execute(
        select(Seller.name, Seller.id, func.count(SellerOrder.id), revenue)
        .join(SellerOrder, SellerOrder.seller_id == Seller.id)
        .join(Order, Order.id == SellerOrder.order_id)
        .where(_counted_parts(), _in_period(Order.placed_at, period, moments=True))
        .group_by(Seller.id, Seller.name)
        .order_by(revenue.desc(), func.count(SellerOrder.id).desc(), Seller.name)
        .limit(limit)).tuples().all()
    return [SellerSales(name, seller_id, int(count), int(money or 0)) for name, seller_id, count, money in rows]


# -- homestays -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeekStays:
    week: date
    bookings: int
    nights_booked: int
    nights_available: int

    @property
    def occupancy(self) -> int:
        """Whole percent of the available nights that were booked."""
        return round(100 * self.nights_booked / self.nights_available) if self.nights_available else 0


def _units_on_sale() -> Any:
    return (select(Unit.id).join(RoomType, RoomType.id == Unit.room_type_id)
            .join(Homestay, Homestay.id == RoomType.homestay_id)
            .where(RoomType.is_active.is_(True), Homestay.status == PublishStatus.PUBLISHED))


def occupancy_by_week(session: Session, period: Period) -> list[WeekStays]:
    """Bookings and nights booked / available, week by week."""
    units = session.scalar(select(func.count()).select_from(_units_on_sale().subquery())) or 0
    nights = (select(_week_index(UnitNight.night, period, moments=False).label("week"),
                     UnitNight.source.label("source"))
              .outerjoin(Booking, Booking.id == UnitNight.booking_id)
              .where(UnitNight.unit_id.in_(_units_on_sale()), _in_period(UnitNight.night, period, moments=False),
                     or_(UnitNight.source != NightSource.BOOKING, Booking.status == BookingStatus.CONFIRMED))
              .subquery())
    taken = session.execute(select(nights.c.week, nights.c.source, func.count())
                            .group_by(nights.c.week, nights.c.source)).tuples().all()
    booked: Counter[int] = Counter()
    blocked: Counter[int] = Counter()
    for week, source, count in taken:
        (blocked if source == NightSource.HOST_BLOCK else booked)[week] += count
    stays = (select(_week_index(Booking.check_in, period, moments=False).label("week"))
             .where(Booking.status == BookingStatus.CONFIRMED, _in_period(Booking.check_in, period, moments=False))
             .subquery())
    bookings = _by_week(session, stays, func.count())
    return [WeekStays(monday, bookings.get(index, 0), booked[index], units * 7 - blocked[index])
            for index, monday in enumerate(period.week_starts)]


# -- field reports ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportCounts:
    by_status: dict[ReportStatus, int]
    overdue: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def report_counts(session: Session) -> ReportCounts:
    """Every report by status now, and the open ones past their category's deadline (the triage page's rule)."""
    return ReportCounts(status_counts(session), overdue_count(session))


# -- marketplace feeds -----------------------------------------------------------------------------

@dataclass
class FeedHealth:
    marketplace: str
    included: int = 0
    left_out: int = 0
    reasons: Counter[Problem] = field(default_factory=Counter)  # blocking problems, one per product each

    @property
    def top_reasons(self) -> list[tuple[Problem, int]]:
        return self.reasons.most_common(REASON_LIMIT)


def feed_health(session: Session, storage: Storage, tenant: Tenant,
                marketplaces: Sequence[str] = MARKETPLACES) -> list[FeedHealth]:
    """Per marketplace: published products its feed carries, those it leaves out, and the commonest reasons.

    The feed's own rules decide (``service.feeds.rules``). The item stream empties ``session``'s identity map
    batch after batch, so give it a session of its own.
    """
    health = {marketplace: FeedHealth(marketplace) for marketplace in marketplaces}
    for item in iter_items(session, storage, tenant):
        for marketplace, result in health.items():
            found = problems(item, marketplace)
            if blocking(found):
                result.left_out += 1
                result.reasons.update({problem for problem in found if problem.blocking})
            else:
                result.included += 1
    return list(health.values())
