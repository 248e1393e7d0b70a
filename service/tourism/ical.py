"""Channel sync with iCalendar (RFC 5545): export a room type's closed nights, import other channels' feeds.

Export: one all-day VEVENT per run of consecutive nights on which no unit of the room type is free, with
DTEND the morning after the last night (exclusive). No guest names or numbers leave the house.

Import: Airbnb, Booking.com and friends publish a feed of their booked nights. ``sync_feed`` makes the
``unit_nights`` rows of that feed (source ICAL, this feed_id) match it: new nights are claimed on a free unit,
vanished nights are released. It only ever touches rows of this feed, so our own bookings and the host's
blocks are never deleted; a night the feed wants but that is already sold here is a double booking, and is
reported in ``last_error`` for the host to sort out.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import requests
from icalendar import Calendar, Event
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service.core.errors import Conflict, Invalid
from service.db import PLATFORM, Scope, scoped, utcnow
from service.tenants.models import Tenant
from service.tourism import services
from service.tourism.models import ICalFeed, NightSource, RoomType, UnitNight

EXPORT_DAYS = services.BOOKABLE_DAYS_AHEAD
IMPORT_DAYS = services.BOOKABLE_DAYS_AHEAD + 1  # nights beyond what we sell do not matter
PRODID = "-//XaSo//Homestay calendar//EN"
MAX_FEED_BYTES = 2 * 1024 * 1024
FETCH_TIMEOUT = (5, 20)  # seconds: connect, read
MAX_FEEDS_PER_ROOM_TYPE = 10
USER_AGENT = "XaSo-calendar-sync/1.0"
_UID_MAX = 255

logger = logging.getLogger(__name__)


class FeedError(Exception):
    """The feed could not be fetched or is not an iCalendar file; nothing was changed."""


# -- export ---------------------------------------------------------------------------------

def closed_runs(session: Session, room_type: RoomType, start: date, days: int) -> list[tuple[date, date]]:
    """Runs of consecutive nights with no free unit, as (first night, check-out morning)."""
    runs: list[tuple[date, date]] = []
    run_start: date | None = None
    free = services.availability(session, room_type, start, days)
    for night in sorted(free):
        if free[night] == 0 and run_start is None:
            run_start = night
        elif free[night] > 0 and run_start is not None:
            runs.append((run_start, night))
            run_start = None
    if run_start is not None:
        runs.append((run_start, start + timedelta(days=days)))
    return runs


def export_calendar(session: Session, room_type: RoomType) -> bytes:
    """The room type's feed for other channels: closed nights of the coming year, nothing about guests."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    homestay = room_type.homestay
    calendar.add("x-wr-calname", f"{homestay.name_en or homestay.name_vi} - {room_type.name_en or room_type.name_vi}")
    stamp = utcnow()
    for first_night, check_out in closed_runs(session, room_type, services.today_local(), EXPORT_DAYS):
        event = Event()
        event.add("uid", f"{room_type.id}-{first_night:%Y%m%d}@xaso")
        event.add("dtstamp", stamp)
        event.add("dtstart", first_night)  # a date: VALUE=DATE, all day
        event.add("dtend", check_out)
        event.add("summary", "Not available")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()


def room_type_by_token(session: Session, token: str) -> RoomType | None:
    """The room type whose export feed this secret names, in the session's commune."""
    if not token or len(token) > 64:
        return None
    return session.scalars(select(RoomType).where(RoomType.ical_token == token)).first()


# -- import: parsing ------------------------------------------------------------------------

@dataclass(frozen=True)
class Booked:
    """Nights another channel has sold: from ``start`` to ``end`` (the check-out date, excluded)."""

    uid: str
    start: date
    end: date

    @property
    def nights(self) -> list[date]:
        return services.nights_of(self.start, self.end)


@dataclass
class ParsedFeed:
    events: list[Booked] = field(default_factory=list)
    skipped: int = 0  # events we could not read (broken dates): the others still count


def local_date(value: date | datetime) -> date:
    """A DATE as is; a DATE-TIME as the date it is in the commune (floating times are local already)."""
    if isinstance(value, datetime):
        return value.astimezone(services.LOCAL_TZ).date() if value.tzinfo is not None else value.date()
    return value


def _derived_uid(event: Event) -> str:
    """Feeds without UIDs still need a stable identity per event, or every sync would move the nights."""
    parts = [str(event[name].to_ical()) if name in event and hasattr(event[name], "to_ical") else ""
             for name in ("DTSTART", "DTEND")]
    return "derived-" + _digest("|".join([*parts, str(event.get("SUMMARY", ""))]).encode())


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:32]


def _read_event(event: Event) -> Booked | None:
    """The nights of one VEVENT, or None when it is cancelled or its dates cannot be read."""
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    if any(name in {"DTSTART", "DTEND", "DURATION"} for name, _message in event.errors):
        return None
    try:
        start_value = event.decoded("DTSTART")
        end_value = event.decoded("DTEND") if "DTEND" in event else None
        duration = event.decoded("DURATION") if "DURATION" in event and end_value is None else None
    except (KeyError, ValueError, TypeError):
        return None
    if not isinstance(start_value, date):
        return None
    if end_value is None and isinstance(duration, timedelta):
        end_value = start_value + duration
    if end_value is not None and not isinstance(end_value, date):
        return None
    start = local_date(start_value)
    end = local_date(end_value) if end_value is not None else start + timedelta(days=1)
    if end <= start:
        end = start + timedelta(days=1)  # a same-day or inverted event still closes its night
    uid = str(event.get("UID", "")).strip() or _derived_uid(event)
    return Booked(uid=uid[:_UID_MAX], start=start, end=end)


def parse_feed(data: bytes) -> ParsedFeed:
    """Read a feed tolerantly; raise FeedError only when it is not an iCalendar file at all."""
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as error:
        raise FeedError(f"not an iCalendar file: {str(error)[:200]}") from error
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise FeedError("not an iCalendar file: no VCALENDAR")
    parsed = ParsedFeed()
    for component in calendar.walk("VEVENT"):
        booked = _read_event(component) if isinstance(component, Event) else None
        if booked is not None:
            parsed.events.append(booked)
        elif str(component.get("STATUS", "")).upper() != "CANCELLED":
            parsed.skipped += 1
    return parsed


def merged_runs(events: list[Booked], first: date, last: date) -> dict[str, list[date]]:
    """Overlapping events become one run (one unit for all of it); nights outside [first, last) are dropped.

    Feeds repeat themselves (a reservation and a block over the same nights): taken separately, the second
    would look like a double booking on a one-room homestay.
    """
    ordered = sorted(events, key=lambda booked: (booked.start, booked.end, booked.uid))
    groups: list[tuple[list[str], date, date]] = []
    for booked in ordered:
        if groups and booked.start < groups[-1][2]:
            uids, start, end = groups[-1]
            groups[-1] = (uids + [booked.uid], start, max(end, booked.end))
        else:
            groups.append(([booked.uid], booked.start, booked.end))
    runs: dict[str, list[date]] = {}
    for uids, start, end in groups:
        nights = services.nights_of(max(start, first), min(end, last))
        if not nights:
            continue
        uid = uids[0] if len(uids) == 1 else "merged-" + _digest("|".join(sorted(uids)).encode())
        runs.setdefault(uid, []).extend(nights)
    return runs


# -- import: applying -----------------------------------------------------------------------

@dataclass
class SyncReport:
    claimed: int = 0
    released: int = 0
    conflicts: list[date] = field(default_factory=list)  # nights the feed sold that are already sold here
    skipped: int = 0
    unchanged: bool = False  # 304 Not Modified


def _feed_rows(session: Session, feed: ICalFeed, first: date) -> list[UnitNight]:
    return list(session.scalars(select(UnitNight).where(
        UnitNight.feed_id == feed.id, UnitNight.source == NightSource.ICAL, UnitNight.night >= first)))


def _claim_run(session: Session, feed: ICalFeed, room_type: RoomType, uid: str, nights: list[date],
               preferred_unit_id: int | None) -> list[date]:
    """Take these nights on one unit (the run's unit first); failing that, night by night on any free unit.
    Returns the nights no unit could take: already sold here."""
    units = sorted(room_type.units, key=lambda unit: unit.id != preferred_unit_id)
    for unit in units:
        if services.claim_nights(session, unit, nights, NightSource.ICAL, feed_id=feed.id, external_uid=uid,
                                 note=feed.name):
            return []
    unplaced = []
    for night in nights:
        if not any(services.claim_nights(session, unit, [night], NightSource.ICAL, feed_id=feed.id,
                                         external_uid=uid, note=feed.name) for unit in units):
            unplaced.append(night)
    return unplaced


def _conflict_message(feed: ICalFeed, nights: list[date]) -> str:
    shown = ", ".join(f"{night:%Y-%m-%d}" for night in nights[:10]) + (" ..." if len(nights) > 10 else "")
    return f"Double booking: {feed.name} sold {len(nights)} night(s) already sold here: {shown}"


def apply_feed(session: Session, feed: ICalFeed, parsed: ParsedFeed) -> SyncReport:
    """Make this feed's nights match ``parsed``; only rows of this feed are ever deleted."""
    room_type = session.get(RoomType, feed.room_type_id)
    assert room_type is not None  # the foreign key cascades: a feed always has its room type
    first = services.today_local()
    runs = merged_runs(parsed.events, first, first + timedelta(days=IMPORT_DAYS))
    wanted = {(uid, night) for uid, nights in runs.items() for night in nights}
    rows = _feed_rows(session, feed, first)
    stale = [row for row in rows if (row.external_uid, row.night) not in wanted]
    report = SyncReport(skipped=parsed.skipped, released=len(stale))
    for row in stale:
        session.delete(row)
    session.flush()  # released before claiming, so a reservation that moved can take the nights it left
    kept = {(row.external_uid, row.night): row.unit_id for row in rows if row not in stale}
    for uid, nights in runs.items():
        missing = sorted(night for night in set(nights) if (uid, night) not in kept)
        if not missing:
            continue
        units_of_run = Counter(unit_id for (kept_uid, _night), unit_id in kept.items() if kept_uid == uid)
        preferred = units_of_run.most_common(1)[0][0] if units_of_run else None
        unplaced = _claim_run(session, feed, room_type, uid, missing, preferred)
        report.claimed += len(missing) - len(unplaced)
        report.conflicts.extend(unplaced)
    return report


def sync_feed(session: Session, feed: ICalFeed, fetched_bytes: bytes) -> SyncReport:
    """Apply fetched feed bytes and record the outcome on the feed; the caller commits."""
    try:
        parsed = parse_feed(fetched_bytes)
    except FeedError as error:
        feed.last_error = str(error)[:500]  # nothing changed: a broken download must not free every night
        raise
    report = apply_feed(session, feed, parsed)
    feed.last_synced_at = utcnow()
    problems = []
    if report.conflicts:
        problems.append(_conflict_message(feed, sorted(report.conflicts)))
    if report.skipped:
        problems.append(f"{report.skipped} event(s) with unreadable dates were skipped")
    feed.last_error = "; ".join(problems)[:500]
    return report


# -- fetching -------------------------------------------------------------------------------

def check_feed_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("Paste the calendar's http(s) address (it ends in .ics on most sites).", param="url",
                      code="invalid_url")
    if len(url) > 1000:
        raise Invalid("That address is too long.", param="url", code="invalid_url")
    return url


@dataclass(frozen=True)
class Fetched:
    body: bytes | None  # None: not modified since the ETag we sent
    etag: str


def fetch_feed(url: str, etag: str = "") -> Fetched:
    """Download a feed (http(s) only, at most MAX_FEED_BYTES, with a timeout), asking for changes only."""
    try:
        check_feed_url(url)
    except Invalid as error:
        raise FeedError(error.message) from error
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    try:
        with requests.get(url, headers=headers, timeout=FETCH_TIMEOUT, stream=True, allow_redirects=True) as answer:
            if answer.status_code == 304:
                return Fetched(None, etag)
            if answer.status_code != 200:
                raise FeedError(f"the calendar answered HTTP {answer.status_code}")
            declared = answer.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_FEED_BYTES:
                raise FeedError("the calendar is larger than 2 MB")
            body = bytearray()
            for chunk in answer.iter_content(64 * 1024):
                body.extend(chunk)
                if len(body) > MAX_FEED_BYTES:
                    raise FeedError("the calendar is larger than 2 MB")
            return Fetched(bytes(body), answer.headers.get("ETag", "")[:200])
    except requests.RequestException as error:
        raise FeedError(f"could not download the calendar: {type(error).__name__}") from error


def download(url: str, etag: str) -> Fetched | FeedError:
    try:
        return fetch_feed(url, etag)
    except FeedError as error:
        return error


def apply_download(session: Session, feed: ICalFeed, outcome: Fetched | FeedError) -> SyncReport | None:
    """Apply a download to its feed; a failure is recorded on the feed (None returned), nothing else changes."""
    try:
        if isinstance(outcome, FeedError):
            raise outcome
        if outcome.body is None:
            feed.last_synced_at = utcnow()
            return SyncReport(unchanged=True)
        report = sync_feed(session, feed, outcome.body)
    except FeedError as error:
        feed.last_error = str(error)[:500]
        feed.etag = ""  # the next try downloads it whole
        return None
    feed.etag = outcome.etag
    return report


def refresh_feed(session: Session, feed: ICalFeed) -> SyncReport | None:
    """Fetch and apply one feed now (the host's "sync now" button); the caller commits."""
    return apply_download(session, feed, download(feed.url, feed.etag))


@dataclass
class SyncAllReport:
    feeds: int = 0
    failed: int = 0
    claimed: int = 0
    released: int = 0
    conflicts: int = 0

    def add(self, report: SyncReport | None) -> None:
        self.feeds += 1
        if report is None:
            self.failed += 1
            return
        self.claimed += report.claimed
        self.released += report.released
        self.conflicts += len(report.conflicts)


def _sync_one(session: Session, feed_id: int) -> SyncReport | None:
    feed = session.get(ICalFeed, feed_id)
    if feed is None:
        return None
    url, etag = feed.url, feed.etag
    session.rollback()  # no transaction stays open while the other channel takes its time to answer
    outcome = download(url, etag)
    feed = session.get(ICalFeed, feed_id)
    if feed is None:  # unlinked meanwhile
        return None
    report = apply_download(session, feed, outcome)
    session.commit()
    return report


def sync_all(session: Session) -> SyncAllReport:
    """Refresh every feed of every commune, each in its commune's scope, committing feed by feed."""
    with scoped(session, PLATFORM):
        tenant_ids = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    session.rollback()
    total = SyncAllReport()
    for tenant_id in tenant_ids:
        with scoped(session, Scope(tenant_id)):
            feed_ids = list(session.scalars(select(ICalFeed.id).order_by(ICalFeed.id)))
            for feed_id in feed_ids:
                try:
                    total.add(_sync_one(session, feed_id))
                except SQLAlchemyError:
                    # One commune's trouble must not stop the others' calendars; the next run retries.
                    session.rollback()
                    logger.exception("calendar feed %s of commune %s failed", feed_id, tenant_id)
                    total.add(None)
    return total


# -- feeds of a room type (for the host's back office) --------------------------------------

def add_feed(session: Session, room_type: RoomType, name: str, url: str) -> ICalFeed:
    """Another channel's calendar for this room type; synced by the next ``sync_all`` (or ``refresh_feed``)."""
    name = name.strip()
    if not name or len(name) > 60:
        raise Invalid("Name the channel (Airbnb, Booking.com), at most 60 characters.", param="name",
                      code="invalid_name")
    url = check_feed_url(url)
    feeds = list(session.scalars(select(ICalFeed).where(ICalFeed.room_type_id == room_type.id)))
    if any(feed.url == url for feed in feeds):
        raise Conflict("This calendar is already linked to the room.", param="url", code="duplicate_feed")
    if len(feeds) >= MAX_FEEDS_PER_ROOM_TYPE:
        raise Invalid(f"At most {MAX_FEEDS_PER_ROOM_TYPE} calendars per room.", param="url", code="too_many_feeds")
    feed = ICalFeed(room_type_id=room_type.id, name=name, url=url, last_error="", etag="")
    session.add(feed)
    session.flush()
    return feed


def remove_feed(session: Session, feed: ICalFeed) -> int:
    """Unlink a channel: its imported nights are released (and only those). Returns how many."""
    result = session.execute(delete(UnitNight).where(UnitNight.feed_id == feed.id, UnitNight.source == NightSource.ICAL)
                             .execution_options(synchronize_session=False))
    session.delete(feed)
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def feeds_of(session: Session, room_type: RoomType) -> list[ICalFeed]:
    return list(session.scalars(select(ICalFeed).where(ICalFeed.room_type_id == room_type.id)
                                .order_by(ICalFeed.id)))

