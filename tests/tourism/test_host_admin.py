"""The host's back office: a seller builds its homestay (rooms, seasons), publishes it, closes nights on the
calendar and cancels a booking; staff see every homestay; nobody else sees any."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

from sqlalchemy import select

from service.audit.models import AuditEntry
from service.db import PLATFORM, database
from service.tourism import homestays as hosting
from service.tourism.models import Booking, BookingStatus, Homestay, PublishStatus, RoomType, UnitNight
from tests.admin.helpers import sign_in
from tests.media.imagegen import encode, photo
from tests.tourism import make_listing, next_monday

ADMIN = "/c/cam-thanh/admin/stays"


def signed_in(app, email):
    client = app.test_client()
    with database(app).session(PLATFORM) as session:
        sign_in(client, session, email)
    return client


def test_a_seller_builds_publishes_and_runs_its_homestay(app, world):
    host = signed_in(app, world.a.users["seller"])
    assert host.get(f"{ADMIN}/new").status_code == 200
    bad = host.post(f"{ADMIN}/new", data={"host_seller_id": world.a.sellers["own"], "name_vi": "",
                                          "check_in_time": "14:00", "check_out_time": "12:00"})
    assert bad.status_code == 422 and 'id="name_vi-error"' in bad.get_data(as_text=True)
    response = host.post(f"{ADMIN}/new", data={
        "host_seller_id": world.a.sellers["own"], "name_vi": "Nhà Cổ Bên Sông", "description_vi": "Nhà gỗ 100 năm",
        "amenities": ["wifi", "river_view", "not-an-amenity"], "latitude": "15,88", "longitude": "108.35",
        "check_in_time": "13:00", "check_out_time": "11:00", "address": "Thôn 1"})
    assert response.status_code == 303
    homestay_id = int(re.search(r"/stays/(\d+)$", response.headers["Location"]).group(1))
    with database(app).session(PLATFORM) as session:
        homestay = session.get(Homestay, homestay_id)
        assert (homestay.slug, homestay.amenities, homestay.latitude, homestay.status) == (
            "nha-co-ben-song", ["wifi", "river_view"], 15.88, PublishStatus.DRAFT)
    # nothing to sell yet: publishing is refused
    assert host.post(f"{ADMIN}/{homestay_id}/publish", data={"action": "publish"}).status_code == 409
    rooms = f"{ADMIN}/{homestay_id}/rooms"
    assert host.post(f"{rooms}/new", data={"name_vi": "Phòng gia đình", "capacity": "0", "units": "2",
                                           "base_price": "700000"}).status_code == 422
    response = host.post(f"{rooms}/new", data={"name_vi": "Phòng gia đình", "capacity": "4", "units": "2",
                                               "base_price": "700.000", "weekend_price": "900000",
                                               "is_active": "1"})
    assert response.status_code == 303
    room_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with database(app).session(PLATFORM) as session:
        room = session.get(RoomType, room_id)
        assert (room.capacity, room.base_price, room.weekend_price, len(room.units)) == (4, 700_000, 900_000, 2)
        assert len(room.ical_token) >= 30
    monday = next_monday()
    # seasons: dates checked
    bad = host.post(f"{rooms}/{room_id}/rules", data={"name": "Tết", "start_date": monday.isoformat(),
                                                     "end_date": (monday - timedelta(days=1)).isoformat(),
                                                     "price": "1200000"})
    assert bad.status_code == 422 and 'id="end_date-error"' in bad.get_data(as_text=True)
    assert host.post(f"{rooms}/{room_id}/rules", data={"name": "Tết", "start_date": monday.isoformat(),
                                                       "end_date": (monday + timedelta(days=6)).isoformat(),
                                                       "price": "1200000"}).status_code == 303
    assert "1.200.000 ₫" in host.get(f"{rooms}/{room_id}").get_data(as_text=True)
    assert host.post(f"{ADMIN}/{homestay_id}/publish", data={"action": "publish"}).status_code == 303
    public = app.test_client().get("/c/cam-thanh/stays/nha-co-ben-song", query_string={
        "check_in": monday.isoformat(), "check_out": (monday + timedelta(days=2)).isoformat(), "guests": 3})
    assert public.status_code == 200 and "2.400.000 ₫" in public.get_data(as_text=True)
    # the calendar: close the first night of one room, then book the other through the public page
    with database(app).session(PLATFORM) as session:
        first_unit, second_unit = [unit.id for unit in session.get(RoomType, room_id).units]
    calendar = f"{rooms}/{room_id}/calendar"
    assert host.post(calendar, data={"unit_id": first_unit, "start": monday.isoformat(),
                                     "end": monday.isoformat()}).status_code == 422  # end not after start
    assert host.post(calendar, data={"action": "block", "unit_id": first_unit, "start": monday.isoformat(),
                                     "end": (monday + timedelta(days=1)).isoformat(),
                                     "note": "Sửa mái"}).status_code == 303
    guest = app.test_client()
    booked = guest.post("/c/cam-thanh/stays/nha-co-ben-song/book", data={
        "room_type_id": room_id, "check_in": monday.isoformat(), "check_out": (monday + timedelta(days=2)).isoformat(),
        "guests": 3, "name": "Lê Thị Hoa", "phone": "0912345678", "payment_option": "on_arrival"})
    assert booked.status_code == 303
    page = host.get(calendar).get_data(as_text=True)
    assert "Lê Thị Hoa" in page and "Sửa mái" in page
    with database(app).session(PLATFORM) as session:
        booking = session.scalars(select(Booking)).one()
        assert booking.unit_id == second_unit
    # bookings: listed, cancelled by the host, nights free again
    assert "Lê Thị Hoa" in host.get(f"{ADMIN}/{homestay_id}/bookings").get_data(as_text=True)
    assert host.post(f"{ADMIN}/{homestay_id}/bookings/{booking.id}/cancel",
                     data={"reason": "Nhà có việc"}).status_code == 303
    assert host.post(calendar, data={"action": "unblock", "unit_id": first_unit, "start": monday.isoformat(),
                                     "end": (monday + timedelta(days=1)).isoformat()}).status_code == 303
    with database(app).session(PLATFORM) as session:
        assert session.get(Booking, booking.id).status == BookingStatus.CANCELED
        assert session.scalars(select(UnitNight.source)).all() == []
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("%.%"))))
    assert {"homestay.created", "room_type.created", "price_rule.created", "homestay.published", "unit.blocked",
            "unit.unblocked", "booking.canceled"} <= actions


def test_who_may_manage_a_homestay(app, world):
    own = make_listing(app, world.a.id, world.a.sellers["own"], name="Nhà của Tư Tài")
    other = make_listing(app, world.a.id, world.a.sellers["other"], name="Nhà HTX")
    host = signed_in(app, world.a.users["seller"])
    listing = host.get(ADMIN).get_data(as_text=True)
    assert "Nhà của Tư Tài" in listing and "Nhà HTX" not in listing
    assert host.get(f"{ADMIN}/{own.homestay_id}").status_code == 200
    assert host.get(f"{ADMIN}/{other.homestay_id}").status_code == 404
    assert host.get(f"{ADMIN}/{other.homestay_id}/rooms/{other.room_type_id}/calendar").status_code == 404
    assert host.get(f"{ADMIN}/{own.homestay_id}/rooms/{other.room_type_id}").status_code == 404  # wrong house
    assert host.post(f"{ADMIN}/{other.homestay_id}/publish", data={"action": "unpublish"}).status_code == 404
    # a seller cannot open a homestay for another seller
    refused = host.post(f"{ADMIN}/new", data={"host_seller_id": world.a.sellers["other"], "name_vi": "Không",
                                              "check_in_time": "14:00", "check_out_time": "12:00"})
    assert refused.status_code == 422 and 'id="host_seller_id-error"' in refused.get_data(as_text=True)
    # staff of the commune manage every homestay; another commune's staff see none of them
    staff = signed_in(app, world.a.users["admin"])
    page = staff.get(ADMIN).get_data(as_text=True)
    assert "Nhà của Tư Tài" in page and "Nhà HTX" in page
    outsider = signed_in(app, world.b.users["admin"])
    assert outsider.get(f"{ADMIN}/{own.homestay_id}").status_code == 404
    assert outsider.get(f"/c/nam-phuoc/admin/stays/{own.homestay_id}").status_code == 404
    assert "Nhà của Tư Tài" not in outsider.get("/c/nam-phuoc/admin/stays").get_data(as_text=True)
    assert app.test_client().get(ADMIN).status_code in (302, 303, 401, 404)  # signed out
    with database(app).session(PLATFORM) as session:
        assert session.get(Homestay, other.homestay_id).status == PublishStatus.PUBLISHED


def test_host_photos_become_the_cover_and_the_gallery(app, world):
    listing = make_listing(app, world.a.id, world.a.sellers["own"])
    host = signed_in(app, world.a.users["seller"])
    url = f"{ADMIN}/{listing.homestay_id}/photos"
    response = host.post(url, content_type="multipart/form-data", data={"file": [
        (BytesIO(encode(photo(1200, 800, seed=1), "JPEG")), "san-vuon.jpg"),
        (BytesIO(encode(photo(900, 1200, seed=2), "PNG")), "phong-doi.png"),
        (BytesIO(b"not an image at all"), "notes.txt")]})
    assert response.status_code == 422  # the text file is refused, the two photos are kept
    assert "notes.txt" in response.get_data(as_text=True)
    with database(app).session(PLATFORM) as session:
        homestay = session.get(Homestay, listing.homestay_id)
        attached = hosting.photos(session, homestay)
        assert len(attached) == 2 and homestay.cover_key == attached[0].asset.key
        second = attached[1].asset
    assert host.post(f"{url}/{second.id}", data={"op": "cover"}).status_code == 303
    with database(app).session(PLATFORM) as session:
        assert session.get(Homestay, listing.homestay_id).cover_key == second.key
    public = app.test_client().get(f"/c/cam-thanh/stays/{listing.slug}").get_data(as_text=True)
    assert public.count("<picture") == 2 and second.key in public
    assert second.key in app.test_client().get("/c/cam-thanh/stays").get_data(as_text=True)
    # another seller's account cannot touch them
    outsider = signed_in(app, world.b.users["seller"])
    assert outsider.post(f"{url}/{second.id}", data={"op": "remove"}).status_code == 404
    assert host.post(f"{url}/{second.id}", data={"op": "remove"}).status_code == 303
    with database(app).session(PLATFORM) as session:
        homestay = session.get(Homestay, listing.homestay_id)
        assert homestay.cover_key != second.key and homestay.cover_key is not None
