"""Twenty guests at once for the same nights of a one-room homestay: exactly one booking, the others refused,
every night sold once (PostgreSQL, real concurrent connections and transactions)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.core.errors import Conflict
from service.db import PLATFORM, Scope, database
from service.tourism import services
from service.tourism.models import Booking, BookingStatus, RoomType, UnitNight
from tests.tourism import make_listing, next_monday

GUESTS = 20


def test_twenty_guests_for_the_same_nights_of_one_room(app, world, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent writers are a PostgreSQL matter (SQLite serialises every writer)")
    listing = make_listing(app, world.a.id, world.a.sellers["own"], units=1)
    monday = next_monday()
    db = database(app)

    def book(n: int) -> str:
        with app.app_context(), db.session(Scope(world.a.id)) as session:
            room = session.get(RoomType, listing.room_type_id)
            stay = services.check_stay(monday, monday + timedelta(days=3), 2, room)
            guest = services.Guest(name=f"Khách {n}", phone="0905123456")
            try:
                services.book(session, room, stay, guest, "on_arrival", "", {"commune_slug": "cam-thanh"})
                session.commit()
                return "ok"
            except Conflict as error:
                session.rollback()
                return error.code or "conflict"

    with ThreadPoolExecutor(max_workers=GUESTS) as pool:
        results = list(pool.map(book, range(GUESTS)))

    assert results.count("ok") == 1
    assert results.count("not_available") == GUESTS - 1
    with db.session(PLATFORM) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
        assert session.scalars(select(Booking.status)).one() == BookingStatus.CONFIRMED
        assert sorted(session.scalars(select(UnitNight.night))) == [monday + timedelta(days=n) for n in range(3)]
