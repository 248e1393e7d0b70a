"""Homestay tests: a published homestay built through the host's services, and dates that stay in the future."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask

from service.db import Scope, database
from service.tenants.services import SYSTEM
from service.tourism import homestays as hosting
from service.tourism import services


@dataclass
class Listing:
    homestay_id: int
    slug: str
    room_type_id: int
    unit_ids: list[int]


def next_monday(weeks_ahead: int = 3) -> date:
    """A Monday some weeks ahead: Monday to Thursday nights are weekday nights, Friday and Saturday weekend."""
    today = services.today_local()
    return today + timedelta(days=(7 - today.weekday()) % 7 + 7 * weeks_ahead)


def make_listing(app: Flask, commune_id: int, seller_id: int, *, units: int = 1, capacity: int = 2,
                 base_price: int = 500_000, weekend_price: int | None = 650_000, name: str = "Nhà Vườn Dừa",
                 publish: bool = True) -> Listing:
    with app.app_context(), database(app).session(Scope(commune_id)) as session:
        homestay = hosting.create_homestay(session, SYSTEM, {
            "host_seller_id": seller_id, "name_vi": name, "name_en": "Coconut Garden House",
            "description_vi": "Nhà vườn bên rừng dừa Bảy Mẫu.", "address": "Thôn 2, Cẩm Thanh",
            "amenities": ["wifi", "breakfast"], "latitude": 15.8794, "longitude": 108.35})
        room = hosting.create_room_type(session, SYSTEM, homestay, {
            "name_vi": "Phòng đôi", "name_en": "Double room", "capacity": capacity, "base_price": base_price,
            "weekend_price": weekend_price}, units)
        if publish:
            hosting.set_published(session, SYSTEM, homestay, True)
        session.commit()
        return Listing(homestay.id, homestay.slug, room.id, [unit.id for unit in room.units])
