"""The staff dashboard at /c/<commune>/admin/ and the CSV export of each of its tables.

``tenant_admin.home`` renders ``staff_dashboard`` for staff; every table of the page can be downloaded at
``/c/<commune>/admin/dashboard/<table>.csv`` (same period, ``?weeks=4|12|26``), for staff only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from flask import Blueprint, Response, render_template
from flask_babel import gettext, lazy_gettext

from service.core.clock import DISPLAY_ZONE, utcnow
from service.core.errors import NotFound
from service.core.money import format_vnd
from service.core.spreadsheet import csv_document
from service.dashboard import charts, services
from service.dashboard.services import Period
from service.db import Scope, database, get_session
from service.engagement.labels import report_status_label
from service.feeds.admin import MARKETPLACE_LABELS, problem_text
from service.media.storage import get_storage
from service.tenants.admin import ADMIN_PREFIX, admin_labels, int_arg, product_counts
from service.tenants.web import commune_member_required, current_actor, require_tenant

bp = Blueprint("dashboard", __name__, url_prefix=ADMIN_PREFIX)
bp.context_processor(admin_labels)

PERIOD_LABELS = {4: lazy_gettext("Last 4 weeks"), 12: lazy_gettext("Last 12 weeks"),
                 26: lazy_gettext("Last 26 weeks")}


def _require_staff() -> None:
    actor = current_actor()
    actor.require(actor.is_staff, gettext("Only commune staff can open this page."))


def _period() -> Period:
    return services.period_of(int_arg("weeks"))


def day(value: Any) -> str:
    return value.strftime("%d/%m/%Y")


def percent(value: int) -> str:
    return f"{value} %"


# -- the figures, read once per request -------------------------------------------------------------

class Figures:
    """The page's figures for one period, each read from the database when first asked for (a CSV needs one)."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.session = get_session()

    @cached_property
    def sales(self) -> list[services.WeekSales]:
        return services.orders_by_week(self.session, self.period)

    @cached_property
    def products(self) -> list[services.ProductSales]:
        return services.top_products(self.session, self.period)

    @cached_property
    def products_by_quantity(self) -> list[services.ProductSales]:
        return services.top_products(self.session, self.period, by="quantity")

    @cached_property
    def sellers(self) -> list[services.SellerSales]:
        return services.top_sellers(self.session, self.period)

    @cached_property
    def stays(self) -> list[services.WeekStays]:
        return services.occupancy_by_week(self.session, self.period)

    @cached_property
    def reports(self) -> services.ReportCounts:
        return services.report_counts(self.session)

    @cached_property
    def feeds(self) -> list[services.FeedHealth]:
        """Read in a session of its own: the feed's item stream empties its session's identity map as it goes."""
        tenant = require_tenant()
        session = database().session(Scope(tenant.id))
        try:
            return services.feed_health(session, get_storage(), tenant)
        finally:
            session.close()


# -- tables: one definition serves the page's CSV links and the downloads ---------------------------

@dataclass(frozen=True)
class Table:
    filename: str
    headers: Callable[[], list[str]]
    rows: Callable[[Figures], Sequence[Sequence[Any]]]
    dated: bool = True  # the period's figures (else a snapshot of now)


def _reasons(health: services.FeedHealth) -> str:
    return "; ".join(f"{problem_text(problem)} ({count})" for problem, count in health.top_reasons)


TABLES: dict[str, Table] = {
    "orders_by_week": Table(
        "orders-by-week",
        lambda: [gettext("Week starting"), gettext("Orders"), gettext("Revenue (đồng)")],
        lambda f: [(day(w.week), w.orders, w.revenue) for w in f.sales]),
    "top_products": Table(
        "top-products",
        lambda: [gettext("Product"), gettext("Quantity sold"), gettext("Revenue (đồng)"), gettext("Orders")],
        lambda f: [(p.title, p.quantity, p.revenue, p.orders) for p in f.products]),
    "top_sellers": Table(
        "top-sellers",
        lambda: [gettext("Seller"), gettext("Orders"), gettext("Revenue (đồng)")],
        lambda f: [(s.name, s.orders, s.revenue) for s in f.sellers]),
    "occupancy": Table(
        "homestay-occupancy",
        lambda: [gettext("Week starting"), gettext("Bookings"), gettext("Nights booked"),
                 gettext("Nights available"), gettext("Occupancy (%)")],
        lambda f: [(day(w.week), w.bookings, w.nights_booked, w.nights_available, w.occupancy) for w in f.stays]),
    "reports_by_status": Table(
        "field-reports-by-status",
        lambda: [gettext("Status"), gettext("Reports")],
        lambda f: [*[(str(report_status_label(status)), count) for status, count in f.reports.by_status.items()],
                   (gettext("Overdue (open, past the deadline)"), f.reports.overdue)],
        dated=False),
    "feed_health": Table(
        "feed-health",
        lambda: [gettext("Marketplace"), gettext("Products in the feed"), gettext("Products left out"),
                 gettext("Commonest reasons")],
        lambda f: [(str(MARKETPLACE_LABELS.get(h.marketplace, h.marketplace)), h.included, h.left_out, _reasons(h))
                   for h in f.feeds],
        dated=False),
}


def staff_dashboard() -> Any:
    """Rendered by ``tenant_admin.home`` for commune staff."""
    period = _period()
    figures = Figures(period)
    counts = product_counts(get_session(), current_actor())
    sales_labels = [w.week.strftime("%d/%m") for w in figures.sales]
    chart = {
        "orders": charts.bar_chart(gettext("Orders by week"),
                                   list(zip(sales_labels, [w.orders for w in figures.sales], strict=True))),
        "revenue": charts.bar_chart(gettext("Revenue by week"),
                                    list(zip(sales_labels, [w.revenue for w in figures.sales], strict=True)),
                                    value_text=format_vnd),
        "products": charts.bar_chart(gettext("Top products by revenue"),
                                     [(p.title, p.revenue) for p in figures.products],
                                     value_text=format_vnd, horizontal=True),
        "products_by_quantity": charts.bar_chart(gettext("Top products by quantity"),
                                                 [(p.title, p.quantity) for p in figures.products_by_quantity],
                                                 horizontal=True),
        "sellers": charts.bar_chart(gettext("Top sellers by revenue"), [(s.name, s.revenue) for s in figures.sellers],
                                    value_text=format_vnd, horizontal=True),
        "occupancy": charts.bar_chart(gettext("Homestay occupancy by week"),
                                      [(w.week.strftime("%d/%m"), w.occupancy) for w in figures.stays],
                                      value_text=percent, max_value=100),
        "reports": charts.bar_chart(gettext("Field reports by status"),
                                    [(str(report_status_label(status)), count)
                                     for status, count in figures.reports.by_status.items()], horizontal=True),
    }
    return render_template(
        "admin/dashboard/staff.html", f=figures, chart=chart, counts=counts, total=sum(counts.values()),
        periods=PERIOD_LABELS, day=day, percent=percent, marketplace_label=MARKETPLACE_LABELS.get,
        problem_text=problem_text,
    )


@bp.get("/dashboard/<table>.csv")
@commune_member_required
def export(table: str) -> Any:
    _require_staff()
    spec = TABLES.get(table)
    if spec is None:
        raise NotFound("No such table.", param="table")
    period = _period()
    figures = Figures(period)
    tenant = require_tenant()
    if spec.dated:
        stamp = f"{period.start.isoformat()}_{period.last_day.isoformat()}"
    else:
        stamp = utcnow().astimezone(DISPLAY_ZONE).date().isoformat()
    response = Response(csv_document([spec.headers(), *spec.rows(figures)]), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{tenant.slug}-{spec.filename}-{stamp}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response

