"""Booking a homestay through the pages (no JavaScript): real availability and prices for the dates,
nights held once, paid or released, and the guest's page reached by its secret link."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import func, select

from service.db import PLATFORM, Scope, database
from service.payments import services as payments
from service.payments.models import IntentStatus
from service.tenants.services import SYSTEM
from service.tourism import homestays as hosting
from service.tourism import services
from service.tourism.models import Booking, BookingStatus, NightSource, RoomType, UnitNight
from tests.tourism import make_listing, next_monday

GUEST = {"name": "Trần Văn Minh", "phone": "0905 123 456", "email": "minh@example.vn", "note": "Đến muộn"}


def stay_url(listing):
    return f"/c/cam-thanh/stays/{listing.slug}"


def book(client, listing, check_in, nights=2, guests=2, option="on_arrival", method="vnpay", **changes):
    form = {**GUEST, "room_type_id": listing.room_type_id, "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=nights)).isoformat(), "guests": guests,
            "payment_option": option, "payment_method": method, **changes}
    return client.post(f"{stay_url(listing)}/book", data=form)


def nights_taken(app, unit_id=None):
    with database(app).session(PLATFORM) as session:
        query = select(func.count()).select_from(UnitNight)
        if unit_id is not None:
            query = query.where(UnitNight.unit_id == unit_id)
        return session.scalar(query)


def refused_booking_left_nothing(app, expected):
    """A refused booking leaves no row behind (its savepoints live inside the request's transaction)."""
    assert len(bookings(app)) == expected


def bookings(app):
    with database(app).session(PLATFORM) as session:
        return session.scalars(select(Booking).order_by(Booking.id)).all()


def test_list_and_stay_page_show_rooms_prices_and_structured_data(app, client, world):
    listing = make_listing(app, world.a.id, world.a.sellers["own"])
    make_listing(app, world.a.id, world.a.sellers["own"], name="Nhà nháp", publish=False)
    make_listing(app, world.b.id, world.b.sellers["own"], name="Nhà Nam Phước")
    page = client.get("/c/cam-thanh/stays").get_data(as_text=True)
    assert "Nhà Vườn Dừa" in page and "500.000 ₫" in page
    assert "Nhà nháp" not in page and "Nhà Nam Phước" not in page
    response = client.get(stay_url(listing))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Phòng đôi" in text and "Bữa sáng" in text and 'type="date"' in text
    [ld] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    data = json.loads(ld)
    assert data["@type"] == "LodgingBusiness" and data["name"] == "Nhà Vườn Dừa"
    assert data["geo"] == {"@type": "GeoCoordinates", "latitude": 15.8794, "longitude": 108.35}
    assert data["address"]["streetAddress"] == "Thôn 2, Cẩm Thanh" and data["priceRange"] == "500.000 VND"
    assert client.get("/c/cam-thanh/stays/nha-nhap").status_code == 404
    assert client.get("/c/nam-phuoc/stays/nha-nam-phuoc").status_code == 200
    assert client.get(f"/c/nam-phuoc/stays/{listing.slug}").status_code == 404  # another commune's homestay


def test_pay_on_arrival_takes_the_nights_once(app, client, world, database_url):
    listing = make_listing(app, world.a.id, world.a.sellers["own"])
    monday = next_monday()
    quote = client.get(stay_url(listing), query_string={"check_in": monday.isoformat(),
                                                        "check_out": (monday + timedelta(days=2)).isoformat(),
                                                        "guests": 2}).get_data(as_text=True)
    assert 'data-free="1"' in quote
    assert "1.000.000 ₫" in quote  # two weekday nights at 500.000
    response = book(client, listing, monday)
    assert response.status_code == 303
    booking_url = response.headers["Location"]
    assert re.match(r"^/c/cam-thanh/bookings/[A-Za-z0-9_-]{40,}$", booking_url)
    [booking] = bookings(app)
    assert (booking.status, booking.total, booking.amount_due_now, booking.payment_method) == (
        BookingStatus.CONFIRMED, 1_000_000, 0, "")
    assert nights_taken(app) == 2
    page = client.get(booking_url)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    text = page.get_data(as_text=True)
    assert booking.number in text and monday.strftime("%d/%m/%Y") in text and "1.000.000 ₫" in text
    assert "Trần Văn Minh" in text
    # the same nights again (and one overlapping night): the only room is taken
    again = book(client, listing, monday + timedelta(days=1), nights=1)
    assert again.status_code == 409
    assert 'id="booking-error"' in again.get_data(as_text=True)
    assert nights_taken(app) == 2
    # the next nights are free: check-out day is the next guest's check-in day
    assert book(client, listing, monday + timedelta(days=2)).status_code == 303
    assert nights_taken(app) == 4
    assert client.get("/c/cam-thanh/bookings/not-a-real-secret").status_code == 404
    refused_booking_left_nothing(app, 2)


def test_a_second_unit_takes_the_second_booking(app, client, world, database_url):
    listing = make_listing(app, world.a.id, world.a.sellers["own"], units=2)
    monday = next_monday()
    assert book(client, listing, monday).status_code == 303
    page = client.get(stay_url(listing), query_string={"check_in": monday.isoformat(),
                                                       "check_out": (monday + timedelta(days=2)).isoformat(),
                                                       "guests": 1}).get_data(as_text=True)
    assert 'data-free="1"' in page  # one of the two rooms left
    assert book(client, listing, monday).status_code == 303
    first, second = bookings(app)
    assert {first.unit_id, second.unit_id} == set(listing.unit_ids)
    assert nights_taken(app, listing.unit_ids[0]) == nights_taken(app, listing.unit_ids[1]) == 2
    assert book(client, listing, monday).status_code == 409
    assert nights_taken(app) == 4
    refused_booking_left_nothing(app, 2)


def test_vnpay_booking_is_held_until_paid(app, client, world):
    listing = make_listing(app, world.a.id, world.a.sellers["own"])
    monday = next_monday()
    response = book(client, listing, monday, option="deposit")
    assert response.status_code == 303
    assert "vnp_Amount=" in response.headers["Location"]  # to VNPay (the sandbox in tests)
    [booking] = bookings(app)
    assert booking.status == BookingStatus.HELD and booking.hold_expires_at is not None
    assert booking.amount_due_now == 300_000 and booking.payment_method == "vnpay"  # 30% of 1.000.000
    assert "300.000 ₫" in client.get(f"/c/cam-thanh/bookings/{booking.secret}").get_data(as_text=True)
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        held = session.get(Booking, booking.id)
        intent = services.booking_intent(session, held)
        assert intent.amount == 300_000 and intent.booking_id == held.id
        payments.succeed(session, intent, intent.amount, transaction_no="14000001")
        session.commit()
        assert held.status == BookingStatus.CONFIRMED and held.hold_expires_at is None
    text = client.get(f"/c/cam-thanh/bookings/{booking.secret}").get_data(as_text=True)
    assert "300.000 ₫" in text and "700.000 ₫" in text  # paid, and left to pay at the house
    assert nights_taken(app) == 2


def test_unpaid_hold_expires_and_gives_the_nights_back(app, client, world):
    listing = make_listing(app, world.a.id, world.a.sellers["own"])
    monday = next_monday()
    assert book(client, listing, monday, option="full").status_code == 303
    assert book(client, listing, monday, option="full").status_code == 409  # held meanwhile
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        booking = session.scalars(select(Booking).where(Booking.hold_expires_at.is_not(None))).one()
        intent = services.booking_intent(session, booking)
        intent.expires_at = intent.created_at  # as if the time to pay had run out
        session.commit()
        assert payments.expire_due(session) == 1
        session.commit()
        assert booking.status == BookingStatus.CANCELED and intent.status == IntentStatus.CANCELED
    assert nights_taken(app) == 0
    assert book(client, listing, monday).status_code == 303  # the nights are for sale again


def test_weekend_and_season_prices(app, client, world):
    listing = make_listing(app, world.a.id, world.a.sellers["own"], base_price=500_000, weekend_price=650_000)
    monday = next_monday()
    thursday, sunday = monday + timedelta(days=3), monday + timedelta(days=6)
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        room = session.get(RoomType, listing.room_type_id)
        stay = services.check_stay(thursday, sunday, 2, room)
        assert services.quote(room, stay).nights == [(thursday, 500_000), (thursday + timedelta(days=1), 650_000),
                                                      (thursday + timedelta(days=2), 650_000)]
        hosting.add_price_rule(session, SYSTEM, room, "Lễ hội đèn lồng", thursday + timedelta(days=2),
                               thursday + timedelta(days=10), 900_000)
        session.commit()
        assert [price for _night, price in services.quote(room, stay).nights] == [500_000, 650_000, 900_000]
    page = client.get(stay_url(listing), query_string={"check_in": thursday.isoformat(),
                                                       "check_out": sunday.isoformat(), "guests": 2})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "650.000 ₫" in text and "900.000 ₫" in text and "2.050.000 ₫" in text
    assert book(client, listing, thursday, nights=3).status_code == 303
    assert bookings(app)[0].total == 2_050_000


def test_bad_dates_answer_422_with_the_field_named(app, client, world):
    listing = make_listing(app, world.a.id, world.a.sellers["own"], capacity=2)
    monday = next_monday()
    today = services.today_local()
    cases = [
        ({"check_in": monday.isoformat(), "check_out": (monday - timedelta(days=1)).isoformat(), "guests": 2},
         "check_out"),
        ({"check_in": (today - timedelta(days=1)).isoformat(), "check_out": (today + timedelta(days=1)).isoformat(),
          "guests": 2}, "check_in"),
        ({"check_in": monday.isoformat(), "check_out": (monday + timedelta(days=1)).isoformat(), "guests": 3},
         "guests"),
        ({"check_in": "not-a-date", "check_out": (monday + timedelta(days=1)).isoformat(), "guests": 2},
         "check_in"),
    ]
    for query, field in cases:
        response = client.get(stay_url(listing), query_string=query)
        assert response.status_code == 422, query
        text = response.get_data(as_text=True)
        assert f'id="{field}-error"' in text and f'aria-describedby="{field}-error"' in text, field
    # posting bad dates straight to the booking form: nothing is booked
    assert book(client, listing, monday, nights=-1).status_code == 422
    assert book(client, listing, monday, guests=5).status_code == 422
    assert book(client, listing, today - timedelta(days=2)).status_code == 422
    assert book(client, listing, monday, phone="12").status_code == 422
    assert bookings(app) == [] and nights_taken(app) == 0


def test_host_blocks_close_the_dates(app, client, world):
    listing = make_listing(app, world.a.id, world.a.sellers["own"])
    monday = next_monday()
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        room = session.get(RoomType, listing.room_type_id)
        assert hosting.block(session, SYSTEM, room, room.units[0], monday + timedelta(days=1),
                             monday + timedelta(days=2), "Giỗ ông") == 1
        session.commit()
    query = {"check_in": monday.isoformat(), "check_out": (monday + timedelta(days=3)).isoformat(), "guests": 2}
    page = client.get(stay_url(listing), query_string=query).get_data(as_text=True)
    assert "1.000.000 ₫" not in page and "<form method=\"post\"" not in page  # no booking form: nothing free
    assert book(client, listing, monday, nights=3).status_code == 409
    assert book(client, listing, monday, nights=1).status_code == 303  # the night before is open
    assert [b.check_in for b in bookings(app) if b.status == BookingStatus.CONFIRMED] == [monday]
    with database(app).session(PLATFORM) as session:
        sources = sorted(source for (source,) in session.execute(select(UnitNight.source)))
    assert sources == [NightSource.BOOKING, NightSource.HOST_BLOCK]


def test_vietqr_deposit_shows_the_hosts_code_and_the_host_confirms_the_transfer(app, client, world):
    from service.catalog import services as catalog
    from tests.admin.helpers import sign_in

    listing = make_listing(app, world.a.id, world.a.sellers["own"])
    monday = next_monday()
    # without a bank account the host cannot take transfers: a clear 422, nothing held
    response = book(client, listing, monday, option="deposit", method="vietqr")
    assert response.status_code == 422 and bookings(app) == [] and nights_taken(app) == 0
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        host = catalog.get_seller(session, world.a.sellers["own"])
        catalog.update_seller(session, SYSTEM, host, {"bank_bin": "970405", "bank_account_number": "1234567890",
                                                      "bank_account_name": host.name})
        session.commit()
    response = book(client, listing, monday, option="deposit", method="vietqr")
    assert response.status_code == 303
    [booking] = bookings(app)
    assert (booking.status, booking.payment_method, booking.amount_due_now) == (BookingStatus.HELD, "vietqr", 300_000)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    code = re.search(r'<img src="(/c/cam-thanh/pay/pi_[0-9a-f]+/qr\.svg)"', page)
    assert code and booking.number in page and client.get(code.group(1)).mimetype == "image/svg+xml"
    host_client = app.test_client()
    with database(app).session(PLATFORM) as db_session:
        sign_in(host_client, db_session, world.a.users["seller"])
    url = f"/c/cam-thanh/admin/stays/{listing.homestay_id}/bookings/{booking.id}/transfer"
    assert host_client.post(url).status_code == 303
    assert bookings(app)[0].status == BookingStatus.CONFIRMED
    assert host_client.post(url).status_code == 409  # already confirmed: nothing changes
    outsider = app.test_client()
    with database(app).session(PLATFORM) as db_session:
        sign_in(outsider, db_session, world.b.users["admin"])
    assert outsider.post(url).status_code == 404
