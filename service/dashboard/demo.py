"""Past activity for a demo commune, so its dashboards have weeks to show: cash-on-delivery orders and
homestay stays over the last twelve weeks, made through the real services, then dated back.

Deterministic (no randomness): loading the demo twice gives the same figures.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.catalog.models import Product, ProductStatus
from service.core.clock import DISPLAY_ZONE, utcnow
from service.orders import services as orders
from service.orders.models import FulfilmentStatus
from service.tenants.services import SYSTEM
from service.tourism import services as stays
from service.tourism.models import Homestay, PublishStatus, RoomType

WEEKS = 12
BUYERS = ("Nguyễn Thị Lan", "Trần Văn Minh", "Lê Thị Hoa", "Phạm Quốc Bảo", "Võ Thị Mai", "Huỳnh Văn Tâm")
DELIVERY_STEPS = ("pack", "ship", "deliver")
KEEP_IN_STOCK = 3  # the demo shop must stay open: never sell a product out


def load_activity(session: Session, district: str, province: str, ward: str) -> None:
    """Orders and stays of the session's commune over the past weeks (its products and homestays must exist)."""
    _load_orders(session, district, province, ward)
    _load_stays(session)


def _load_orders(session: Session, district: str, province: str, ward: str) -> None:
    products = list(session.scalars(select(Product).where(Product.status == ProductStatus.PUBLISHED,
                                                          Product.stock > KEEP_IN_STOCK).order_by(Product.id)))
    if not products:
        return
    left = {product.id: product.stock for product in products}
    now = utcnow()
    serial = 0
    for weeks_ago in range(WEEKS - 1, -1, -1):
        for _ in range(1 + weeks_ago % 2):  # one or two orders a week
            serial += 1
            picks: dict[int, int] = {}
            for n in range(1 + serial % 2):
                product, quantity = products[(serial + n * 5) % len(products)], 1 + (serial + n) % 2
                if left[product.id] - quantity >= KEEP_IN_STOCK and product.id not in picks:
                    picks[product.id] = quantity
                    left[product.id] -= quantity
            if not picks:
                continue
            buyer = orders.Buyer(name=BUYERS[serial % len(BUYERS)], phone=f"0905 {123_000 + serial}",
                                 province=province, district=district, ward=ward,
                                 street=f"{serial} Thôn {serial % 5 + 1}")
            order = orders.checkout(session, picks, buyer, "cod", {})
            order.placed_at = now - timedelta(days=7 * weeks_ago + serial % 6, hours=serial % 9)
            if weeks_ago >= 1:  # older orders were delivered; this week's wait for their sellers
                for part in order.parts:
                    for step in DELIVERY_STEPS:
                        if part.status != FulfilmentStatus.CANCELED:
                            orders.advance(session, SYSTEM, part, step)
    session.flush()


def _load_stays(session: Session) -> None:
    rooms = list(session.scalars(select(RoomType).join(Homestay, Homestay.id == RoomType.homestay_id)
                                 .where(Homestay.status == PublishStatus.PUBLISHED, RoomType.is_active.is_(True))
                                 .order_by(RoomType.id)))
    today = utcnow().astimezone(DISPLAY_ZONE).date()
    guest = stays.Guest(name="Khách demo", phone="0905 000 111")
    for index, room in enumerate(rooms):
        for weeks_ago in range(1, WEEKS):
            check_in = today - timedelta(weeks=weeks_ago, days=(index + weeks_ago) % 5)
            nights = 1 + (index + weeks_ago) % 3
            stay = stays.Stay(check_in, check_in + timedelta(days=nights), 1)
            if stays.free_units(session, room, stay):
                stays.book(session, room, stay, guest, "on_arrival", "", {})
    session.flush()

