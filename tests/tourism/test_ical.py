"""Channel sync: the export feed of closed nights, and importing Airbnb-style feeds tolerantly."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from icalendar import Calendar
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from service.core.errors import AppError
from service.db import Scope, database, utcnow
from service.tourism import ical, services
from service.tourism.models import (
    Booking,
    Homestay,
    ICalFeed,
    NightSource,
    PublishStatus,
    RoomType,
    Unit,
    UnitNight,
)

D = "%Y%m%d"


def make_room(app: Any, commune: Any, units: int = 1, slug: str = "nha-vuon") -> tuple[int, str]:
    with database(app).session(Scope(commune.id)) as session:
        homestay = Homestay(slug=slug, host_seller_id=commune.sellers["own"], name_vi="Nhà Vườn Dừa",
                            name_en="Coconut Garden House", status=PublishStatus.PUBLISHED, published_at=utcnow())
        room = RoomType(homestay=homestay, name_vi="Phòng đôi", name_en="Double room", capacity=2,
                        base_price=500_000, ical_token=services.new_room_type_token())
        room.units = [Unit(label=f"Phòng {n + 1}") for n in range(units)]
        session.add(homestay)
        session.commit()
        return room.id, room.ical_token


def day(offset: int) -> date:
    return services.today_local() + timedelta(days=offset)


def airbnb_feed(*events: tuple[date, date, str]) -> bytes:
    """A feed shaped like Airbnb's export: all-day DATE values, 'Reserved' and 'Not available' events."""
    lines = ["BEGIN:VCALENDAR", "PRODID:-//Airbnb Inc//Hosting Calendar//EN", "CALSCALE:GREGORIAN", "VERSION:2.0"]
    for start, end, uid in events:
        summary = "Reserved" if uid.startswith("r") else "Airbnb (Not available)"
        lines += ["BEGIN:VEVENT", f"DTEND;VALUE=DATE:{end:{D}}", f"DTSTART;VALUE=DATE:{start:{D}}",
                  f"UID:{uid}-1418fb94e984-{start:{D}}@airbnb.com", f"SUMMARY:{summary}"]
        if summary == "Reserved":
            lines += ["DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/"
                      "HMABCDEF12\\nPhone Number (Last 4 Digits): 1234"]
        lines += ["END:VEVENT"]
    lines += ["END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode()


def free(app: Any, commune: Any, room_id: int, start: date, days: int) -> dict[date, int]:
    with database(app).session(Scope(commune.id)) as session:
        room = session.get(RoomType, room_id)
        assert room is not None
        return services.availability(session, room, start, days)


def add_feed(app: Any, commune: Any, room_id: int, url: str = "https://www.airbnb.com/calendar/ical/1.ics") -> int:
    with database(app).session(Scope(commune.id)) as session:
        room = session.get(RoomType, room_id)
        assert room is not None
        feed = ical.add_feed(session, room, "Airbnb", url)
        session.commit()
        return feed.id


def sync(app: Any, commune: Any, feed_id: int, data: bytes) -> tuple[ical.SyncReport, str]:
    with database(app).session(Scope(commune.id)) as session:
        feed = session.get(ICalFeed, feed_id)
        assert feed is not None
        report = ical.sync_feed(session, feed, data)
        session.commit()
        return report, feed.last_error


def book_on_arrival(app: Any, commune: Any, room_id: int, check_in: date, check_out: date) -> int:
    with database(app).session(Scope(commune.id)) as session:
        room = session.get(RoomType, room_id)
        assert room is not None
        stay = services.check_stay(check_in, check_out, 2, room)
        booking = services.book(session, room, stay, services.Guest("Nguyễn Thị Lan", "0905123456"),
                                "on_arrival", "", {})
        session.commit()
        return booking.id


def booking_nights(app: Any, commune: Any, booking_id: int) -> list[date]:
    with database(app).session(Scope(commune.id)) as session:
        return sorted(session.scalars(select(UnitNight.night).where(UnitNight.booking_id == booking_id)))


# -- export ---------------------------------------------------------------------------------

def test_export_lists_runs_of_closed_nights_as_all_day_events(app, client, world):
    room_id, token = make_room(app, world.a, units=2)
    booking_id = book_on_arrival(app, world.a, room_id, day(5), day(8))  # unit 1: nights +5 +6 +7
    with database(app).session(Scope(world.a.id)) as session:
        room = session.get(RoomType, room_id)
        assert room is not None
        second = room.units[1]
        assert services.claim_nights(session, second, [day(6), day(7), day(8)], NightSource.HOST_BLOCK)
        services.block_nights(session, room.units[0], day(20), day(21))
        services.block_nights(session, second, day(20), day(21))
        session.commit()

    answer = client.get(f"/c/{world.a.slug}/stays/calendar/{token}.ics")

    assert answer.status_code == 200
    assert answer.mimetype == "text/calendar"
    assert "no-store" in answer.headers["Cache-Control"]
    calendar = Calendar.from_ical(answer.data)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["PRODID"]) == ical.PRODID
    assert "Coconut Garden House" in str(calendar["X-WR-CALNAME"])
    events = calendar.walk("VEVENT")
    # Only nights with no free unit: +6 and +7 (both units), then +20 alone; DTEND is the morning after.
    assert [(event.decoded("DTSTART"), event.decoded("DTEND")) for event in events] == [
        (day(6), day(8)), (day(20), day(21))]
    for event in events:
        assert type(event.decoded("DTSTART")) is date and event["DTSTART"].params.get("VALUE") == "DATE"
        assert str(event["SUMMARY"]) == "Not available"
        assert event.decoded("DTSTAMP").tzinfo is not None
    assert str(events[0]["UID"]) == f"{room_id}-{day(6):{D}}@xaso"
    assert b"Lan" not in answer.data and b"0905123456" not in answer.data  # privacy: no guest details
    assert booking_nights(app, world.a, booking_id) == [day(5), day(6), day(7)]


def test_export_answers_404_for_unknown_tokens_and_other_communes(app, client, world):
    _room_id, token = make_room(app, world.a)
    assert client.get(f"/c/{world.a.slug}/stays/calendar/{token}.ics").status_code == 200
    assert client.get(f"/c/{world.b.slug}/stays/calendar/{token}.ics").status_code == 404
    assert client.get(f"/c/{world.a.slug}/stays/calendar/not-the-token.ics").status_code == 404


# -- import ---------------------------------------------------------------------------------

def test_airbnb_feed_blocks_dates_and_a_resync_frees_what_left_the_feed(app, world):
    room_id, _token = make_room(app, world.a, units=1)
    feed_id = add_feed(app, world.a, room_id)
    feed = airbnb_feed((day(10), day(13), "r1"), (day(20), day(22), "b2"))

    report, error = sync(app, world.a, feed_id, feed)

    assert (report.claimed, report.released, report.conflicts, error) == (5, 0, [], "")
    nights = free(app, world.a, room_id, day(9), 14)
    assert [night for night, count in nights.items() if count == 0] == [day(10), day(11), day(12), day(20), day(21)]
    again, _error = sync(app, world.a, feed_id, feed)
    assert (again.claimed, again.released) == (0, 0)  # nothing moves when nothing changed

    # The guest cancels on Airbnb: the event leaves the feed and the nights are ours to sell again.
    report, _error = sync(app, world.a, feed_id, airbnb_feed((day(20), day(22), "b2")))

    assert (report.claimed, report.released) == (0, 3)
    assert free(app, world.a, room_id, day(10), 3) == {day(10): 1, day(11): 1, day(12): 1}
    assert free(app, world.a, room_id, day(20), 2) == {day(20): 0, day(21): 0}
    with database(app).session(Scope(world.a.id)) as session:
        synced = session.get(ICalFeed, feed_id)
        assert synced is not None and synced.last_synced_at is not None


def test_import_never_deletes_our_bookings_and_reports_the_double_booking(app, world):
    room_id, _token = make_room(app, world.a, units=1)
    booking_id = book_on_arrival(app, world.a, room_id, day(10), day(12))
    with database(app).session(Scope(world.a.id)) as session:
        room = session.get(RoomType, room_id)
        assert room is not None
        services.block_nights(session, room.units[0], day(30), day(31), note="family visit")
        session.commit()
    feed_id = add_feed(app, world.a, room_id)

    report, error = sync(app, world.a, feed_id, airbnb_feed((day(11), day(14), "r1"), (day(30), day(31), "b1")))

    assert report.conflicts == [day(11), day(30)]
    assert "Double booking" in error and f"{day(11):%Y-%m-%d}" in error
    assert report.claimed == 2  # +12 and +13 are still closed, so nobody books them here too
    assert free(app, world.a, room_id, day(12), 2) == {day(12): 0, day(13): 0}

    report, error = sync(app, world.a, feed_id, airbnb_feed())  # the feed empties: only its nights go

    assert (report.released, error) == (2, "")
    assert booking_nights(app, world.a, booking_id) == [day(10), day(11)]
    with database(app).session(Scope(world.a.id)) as session:
        sources = session.execute(select(UnitNight.night, UnitNight.source).order_by(UnitNight.night)).all()
        assert sources == [(day(10), NightSource.BOOKING), (day(11), NightSource.BOOKING),
                           (day(30), NightSource.HOST_BLOCK)]
        assert session.scalars(select(Booking.status)).one() == "confirmed"


def test_overlapping_events_share_one_unit_and_a_second_unit_takes_a_parallel_booking(app, world):
    room_id, _token = make_room(app, world.a, units=2)
    feed_id = add_feed(app, world.a, room_id)
    # Airbnb lists a reservation and an overlapping block; Booking.com-like feeds repeat events too.
    overlapping = airbnb_feed((day(3), day(6), "r1"), (day(5), day(8), "b1"), (day(3), day(6), "r1dup"))

    report, error = sync(app, world.a, feed_id, overlapping)

    assert (report.claimed, report.conflicts, error) == (5, [], "")
    assert set(free(app, world.a, room_id, day(3), 5).values()) == {1}  # one unit for the merged run
    report, _error = sync(app, world.a, feed_id, overlapping)
    assert (report.claimed, report.released) == (0, 0)


def test_a_broken_event_is_skipped_and_a_feed_that_is_not_icalendar_changes_nothing(app, world):
    room_id, _token = make_room(app, world.a, units=1)
    feed_id = add_feed(app, world.a, room_id)
    good = airbnb_feed((day(4), day(6), "r1"))
    broken = good.replace(b"END:VCALENDAR", b"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:2026XX01\r\nUID:x@airbnb.com\r\n"
                          b"this line is garbage\r\nEND:VEVENT\r\nEND:VCALENDAR")

    report, error = sync(app, world.a, feed_id, broken)

    assert (report.claimed, report.skipped) == (2, 1) and "1 event(s)" in error
    for not_a_calendar in (b"<html><body>Service unavailable</body></html>", b"", b"BEGIN:VEVENT\r\nEND:VEVENT\r\n"):
        with database(app).session(Scope(world.a.id)) as session:
            feed = session.get(ICalFeed, feed_id)
            assert feed is not None
            with pytest.raises(ical.FeedError):
                ical.sync_feed(session, feed, not_a_calendar)
            session.commit()
            assert "not an iCalendar file" in feed.last_error
        assert free(app, world.a, room_id, day(4), 2) == {day(4): 0, day(5): 0}


def test_parse_feed_tolerates_the_quirks_of_real_feeds():
    data = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Booking.com//Booking.com Calendar//EN\r
BEGIN:VEVENT\r
UID:utc@example.com\r
DTSTART:20270110T070000Z\r
DTEND:20270112T050000Z\r
SUMMARY:CLOSED - Not available\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:midnight@example.com\r
DTSTART;TZID=Asia/Ho_Chi_Minh:20270120T140000\r
DTEND;TZID=Asia/Ho_Chi_Minh:20270122T000000\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20270201\r
SUMMARY:No UID and no DTEND\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:late-utc@example.com\r
DTSTART:20270301T180000Z\r
DURATION:P2D\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:cancelled@example.com\r
STATUS:CANCELLED\r
DTSTART;VALUE=DATE:20270305\r
DTEND;VALUE=DATE:20270307\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:broken@example.com\r
DTSTART;VALUE=DATE:20270399\r
DTEND;VALUE=DATE:20270402\r
END:VEVENT\r
END:VCALENDAR\r
"""
    parsed = ical.parse_feed(data)

    by_uid = {event.uid: (event.start, event.end) for event in parsed.events}
    derived = [uid for uid in by_uid if uid.startswith("derived-")]
    assert by_uid["utc@example.com"] == (date(2027, 1, 10), date(2027, 1, 12))  # 14:00 to 12:00 in Vietnam
    assert by_uid["midnight@example.com"] == (date(2027, 1, 20), date(2027, 1, 22))  # ends at midnight: that date
    assert by_uid[derived[0]] == (date(2027, 2, 1), date(2027, 2, 2))  # no DTEND: one night
    assert by_uid["late-utc@example.com"] == (date(2027, 3, 2), date(2027, 3, 4))  # 01:00 local on the 2nd
    assert "cancelled@example.com" not in by_uid and parsed.skipped == 1
    assert ical.parse_feed(data).events[2].uid == derived[0]  # derived UIDs are stable
    runs = ical.merged_runs([ical.Booked("a", date(2027, 1, 1), date(2027, 1, 4)),
                             ical.Booked("b", date(2027, 1, 3), date(2027, 1, 6)),
                             ical.Booked("c", date(2027, 1, 6), date(2027, 1, 7))], date(2027, 1, 2), date(2028, 1, 1))
    merged = next(uid for uid in runs if uid.startswith("merged-"))
    assert runs[merged] == [date(2027, 1, day) for day in (2, 3, 4, 5)]  # clipped to the window
    assert runs["c"] == [date(2027, 1, 6)]  # back-to-back stays stay separate


def test_feeds_are_added_checked_and_removed_with_only_their_nights(app, world):
    room_id, _token = make_room(app, world.a, units=1)
    feed_id = add_feed(app, world.a, room_id)
    sync(app, world.a, feed_id, airbnb_feed((day(2), day(4), "r1")))
    booking_id = book_on_arrival(app, world.a, room_id, day(4), day(5))
    with database(app).session(Scope(world.a.id)) as session:
        room = session.get(RoomType, room_id)
        assert room is not None
        for url, code in (("file:///etc/passwd", "invalid_url"), ("ftp://x.test/a.ics", "invalid_url"),
                          ("https://www.airbnb.com/calendar/ical/1.ics", "duplicate_feed")):
            with pytest.raises(AppError) as raised:
                ical.add_feed(session, room, "Other", url)
            assert raised.value.code == code
        feed = session.get(ICalFeed, feed_id)
        assert feed is not None
        assert ical.remove_feed(session, feed) == 2
        session.commit()
    assert free(app, world.a, room_id, day(2), 3) == {day(2): 1, day(3): 1, day(4): 0}
    assert booking_nights(app, world.a, booking_id) == [day(4)]


# -- fetching over HTTP, sync_all and the CLI ------------------------------------------------

class FeedServer:
    """A tiny channel: serves feeds by path with an ETag, answers 304 to a matching If-None-Match."""

    def __init__(self) -> None:
        self.feeds: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []  # (path, If-None-Match)
        self.server = make_server("127.0.0.1", 0, self.wsgi)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append((request.path, request.headers.get("If-None-Match", "")))
        body = self.feeds.get(request.path)
        if body is None:
            return Response("not found", status=404)(environ, start_response)
        etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})(environ, start_response)
        return Response(body, mimetype="text/calendar", headers={"ETag": etag})(environ, start_response)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.thread.join(5)


def feed_state(app: Any, commune: Any, feed_id: int) -> tuple[str, str, bool]:
    with database(app).session(Scope(commune.id)) as session:
        feed = session.get(ICalFeed, feed_id)
        assert feed is not None
        return feed.last_error, feed.etag, feed.last_synced_at is not None


def test_sync_all_fetches_every_communes_feeds_over_http_with_etags(app, world, feed_server):
    room_a, _ = make_room(app, world.a, units=1)
    room_b, _ = make_room(app, world.b, units=1)
    feed_server.feeds["/a.ics"] = airbnb_feed((day(7), day(9), "r1"))
    feed_server.feeds["/huge.ics"] = b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"x" * (ical.MAX_FEED_BYTES + 10)
    feed_a = add_feed(app, world.a, room_a, feed_server.url("/a.ics"))
    feed_missing = add_feed(app, world.b, room_b, feed_server.url("/gone.ics"))
    feed_huge = add_feed(app, world.b, room_b, feed_server.url("/huge.ics"))

    with database(app).session() as session:
        report = ical.sync_all(session)

    assert (report.feeds, report.failed, report.claimed) == (3, 2, 2)
    assert free(app, world.a, room_a, day(7), 2) == {day(7): 0, day(8): 0}
    error, etag, synced = feed_state(app, world.a, feed_a)
    assert (error, synced) == ("", True) and etag
    assert "HTTP 404" in feed_state(app, world.b, feed_missing)[0]
    assert "larger than 2 MB" in feed_state(app, world.b, feed_huge)[0]

    with database(app).session() as session:
        assert ical.sync_all(session).claimed == 0
    assert ("/a.ics", etag) in feed_server.requests  # asked for changes only, and got a 304

    feed_server.feeds["/a.ics"] = airbnb_feed()  # the reservation is cancelled on the other channel
    with database(app).session() as session:
        assert ical.sync_all(session).released == 2
    assert free(app, world.a, room_a, day(7), 2) == {day(7): 1, day(8): 1}


def test_cli_sync_calendars(app, world, feed_server, database_url, tmp_path):
    from service.cli import main

    room_id, _ = make_room(app, world.a, units=1)
    feed_server.feeds["/airbnb.ics"] = airbnb_feed((day(1), day(4), "r1"))
    add_feed(app, world.a, room_id, feed_server.url("/airbnb.ics"))
    env = {"DATABASE_URL": database_url, "XASO_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "test-secret"}

    result = CliRunner().invoke(main, ["stays", "sync-calendars"], env=env, catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert "synced 1 calendars (0 failed): claimed 3 nights, released 0, double-booked 0" in result.output
    assert free(app, world.a, room_id, day(1), 3) == {day(1): 0, day(2): 0, day(3): 0}
