"""The host's side of homestays: the house, its room types and units, seasons, publishing, bookings.

Staff manage every homestay of their commune; a host seller (or whoever may act for it, see
``catalog.services.can_act_for``) manages its own. Others get a 404, as for products.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.services import record
from service.catalog import services as catalog
from service.catalog.models import Seller
from service.core.errors import Conflict, Invalid, NotFound
from service.core.money import MAX_PRICE_VND
from service.core.text import slugify
from service.db import utcnow
from service.media import services as media
from service.media.models import MediaAttachment
from service.media.services import UploadPolicy
from service.media.storage import Storage
from service.tenants.services import Actor
from service.tourism import services
from service.tourism.models import Booking, Homestay, PriceRule, PublishStatus, RoomType, Unit, UnitNight

# key -> (Vietnamese, English)
AMENITIES: dict[str, tuple[str, str]] = {
    "wifi": ("Wi-Fi", "Wi-Fi"),
    "air_conditioning": ("Điều hoà", "Air conditioning"),
    "fan": ("Quạt", "Fan"),
    "hot_water": ("Nước nóng", "Hot water"),
    "breakfast": ("Bữa sáng", "Breakfast"),
    "private_bathroom": ("Phòng tắm riêng", "Private bathroom"),
    "kitchen": ("Bếp chung", "Shared kitchen"),
    "parking": ("Chỗ đậu xe", "Parking"),
    "bicycles": ("Xe đạp", "Bicycles"),
    "garden": ("Vườn", "Garden"),
    "river_view": ("View sông", "River view"),
    "airport_pickup": ("Đón sân bay", "Airport pick-up"),
}
HOMESTAY_FIELDS = ("host_seller_id", "name_vi", "name_en", "description_vi", "description_en", "house_rules_vi",
                   "house_rules_en", "amenities", "address", "latitude", "longitude", "check_in_time",
                   "check_out_time")
ROOM_TYPE_FIELDS = ("name_vi", "name_en", "capacity", "base_price", "weekend_price", "is_active")
MAX_UNITS = 50
MAX_CAPACITY = 30
CALENDAR_DAYS = 60
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _apply(obj: Any, data: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for name, value in data.items():
        if name in allowed and getattr(obj, name, None) != value:
            changes[name] = [getattr(obj, name, None), value]
            setattr(obj, name, value)
    return changes


def _on_behalf(actor: Actor, seller: Seller) -> int | None:
    return None if actor.user is not None and seller.user_id == actor.user.id else seller.id


def _unique_slug(session: Session, text: str, exclude_id: int | None = None) -> str:
    base = slugify(text)
    taken = set(session.scalars(select(Homestay.slug).where(Homestay.slug.like(f"{base}%"),
                                                              Homestay.id != (exclude_id or 0))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


# -- permissions ----------------------------------------------------------------------------

def can_manage(actor: Actor, homestay: Homestay) -> bool:
    return catalog.can_act_for(actor, homestay.host)


def hosts_for(session: Session, actor: Actor) -> list[Seller]:
    """The sellers this actor may open a homestay for."""
    return catalog.sellers_actor_can_list_for(session, actor)


def homestays_for(session: Session, actor: Actor) -> list[Homestay]:
    stays = session.scalars(select(Homestay).order_by(Homestay.name_vi, Homestay.id))
    return [stay for stay in stays if can_manage(actor, stay)]


def get_homestay(session: Session, actor: Actor, homestay_id: int) -> Homestay:
    homestay = session.get(Homestay, homestay_id)
    if homestay is None or not can_manage(actor, homestay):
        raise NotFound("No such homestay.", param="homestay_id")
    return homestay


def get_room_type(session: Session, actor: Actor, room_type_id: int) -> RoomType:
    room_type = session.get(RoomType, room_type_id)
    if room_type is None or not can_manage(actor, room_type.homestay):
        raise NotFound("No such room type.", param="room_type_id")
    return room_type


# -- homestays ------------------------------------------------------------------------------

def _validate_homestay(homestay: Homestay) -> None:
    if not (homestay.name_vi or "").strip():
        raise Invalid("The name is required.", param="name_vi", code="required")
    unknown = [key for key in homestay.amenities or [] if key not in AMENITIES]
    if unknown:
        raise Invalid(f"Unknown amenity: {unknown[0]}.", param="amenities")
    if homestay.latitude is not None and not -90 <= homestay.latitude <= 90:
        raise Invalid("The latitude is between -90 and 90.", param="latitude")
    if homestay.longitude is not None and not -180 <= homestay.longitude <= 180:
        raise Invalid("The longitude is between -180 and 180.", param="longitude")
    for name in ("check_in_time", "check_out_time"):
        if not _TIME.match(getattr(homestay, name) or ""):
            raise Invalid("Write the time as HH:MM, for example 14:00.", param=name)


def create_homestay(session: Session, actor: Actor, data: dict[str, Any]) -> Homestay:
    actor.require(actor.is_authenticated)
    host = session.get(Seller, data.get("host_seller_id") or 0)
    if host is None or not catalog.can_act_for(actor, host):
        raise NotFound("No such host.", param="host_seller_id")
    homestay = Homestay(status=PublishStatus.DRAFT, amenities=[], check_in_time="14:00", check_out_time="12:00")
    _apply(homestay, data, HOMESTAY_FIELDS)
    homestay.host = host
    _validate_homestay(homestay)
    homestay.slug = _unique_slug(session, homestay.name_vi)
    session.add(homestay)
    session.flush()
    record(session, actor, "homestay.created", homestay, {k: v for k, v in data.items() if k in HOMESTAY_FIELDS},
           on_behalf_of_seller_id=_on_behalf(actor, host))
    return homestay


def update_homestay(session: Session, actor: Actor, homestay: Homestay, data: dict[str, Any]) -> Homestay:
    if not can_manage(actor, homestay):
        raise NotFound("No such homestay.", param="homestay_id")
    if "host_seller_id" in data and data["host_seller_id"] != homestay.host_seller_id:
        actor.require(actor.is_staff, "Only staff can give a homestay to another host.")
        host = session.get(Seller, data["host_seller_id"] or 0)
        if host is None:
            raise NotFound("No such host.", param="host_seller_id")
        homestay.host = host
    with session.no_autoflush:
        changes = _apply(homestay, data, HOMESTAY_FIELDS)
        _validate_homestay(homestay)
    if changes:
        record(session, actor, "homestay.updated", homestay, changes,
               on_behalf_of_seller_id=_on_behalf(actor, homestay.host))
    return homestay


def set_published(session: Session, actor: Actor, homestay: Homestay, published: bool) -> Homestay:
    if not can_manage(actor, homestay):
        raise NotFound("No such homestay.", param="homestay_id")
    if published:
        if not any(room.is_active and room.units for room in homestay.room_types):
            raise Conflict("Add a room type with at least one room before publishing.", param="status",
                           code="no_rooms")
        homestay.status = PublishStatus.PUBLISHED
        homestay.published_at = homestay.published_at or utcnow()
    else:
        homestay.status = PublishStatus.DRAFT
    record(session, actor, "homestay.published" if published else "homestay.unpublished", homestay,
           on_behalf_of_seller_id=_on_behalf(actor, homestay.host))
    return homestay


# -- room types and units -------------------------------------------------------------------

def _validate_room_type(room_type: RoomType) -> None:
    if not (room_type.name_vi or "").strip():
        raise Invalid("The name is required.", param="name_vi", code="required")
    if not 1 <= (room_type.capacity or 0) <= MAX_CAPACITY:
        raise Invalid(f"Between 1 and {MAX_CAPACITY} guests.", param="capacity")
    if not 0 <= (room_type.base_price if room_type.base_price is not None else -1) <= MAX_PRICE_VND:
        raise Invalid("Enter the price per night in đồng.", param="base_price")
    if room_type.weekend_price is not None and not 0 <= room_type.weekend_price <= MAX_PRICE_VND:
        raise Invalid("Enter the weekend price in đồng, or leave it empty.", param="weekend_price")


def _check_unit_count(units: int) -> None:
    if not 1 <= units <= MAX_UNITS:
        raise Invalid(f"Between 1 and {MAX_UNITS} rooms.", param="units")


def create_room_type(session: Session, actor: Actor, homestay: Homestay, data: dict[str, Any],
                     units: int) -> RoomType:
    """A kind of room ("Double room by the river") and its ``units`` identical rooms, each sold per night."""
    if not can_manage(actor, homestay):
        raise NotFound("No such homestay.", param="homestay_id")
    _check_unit_count(units)
    room_type = RoomType(homestay_id=homestay.id, ical_token=services.new_room_type_token(), is_active=True)
    _apply(room_type, data, ROOM_TYPE_FIELDS)
    _validate_room_type(room_type)
    room_type.units = [Unit(label=f"{room_type.name_vi} {n}") for n in range(1, units + 1)]
    homestay.room_types.append(room_type)
    session.flush()
    record(session, actor, "room_type.created", room_type, {**{k: v for k, v in data.items()
                                                               if k in ROOM_TYPE_FIELDS}, "units": units},
           on_behalf_of_seller_id=_on_behalf(actor, homestay.host))
    return room_type


def update_room_type(session: Session, actor: Actor, room_type: RoomType, data: dict[str, Any],
                     units: int) -> RoomType:
    """Change a room type; more units are added, fewer remove the last ones only when they have no nights."""
    if not can_manage(actor, room_type.homestay):
        raise NotFound("No such room type.", param="room_type_id")
    _check_unit_count(units)
    with session.no_autoflush:
        changes = _apply(room_type, data, ROOM_TYPE_FIELDS)
        _validate_room_type(room_type)
    current = len(room_type.units)
    for n in range(current + 1, units + 1):
        room_type.units.append(Unit(label=f"{room_type.name_vi} {n}"))
    if units < current:
        removed = room_type.units[units:]
        used = session.scalar(select(UnitNight.id).where(UnitNight.unit_id.in_([u.id for u in removed])).limit(1))
        booked = session.scalar(select(Booking.id).where(Booking.unit_id.in_([u.id for u in removed])).limit(1))
        if used is not None or booked is not None:
            raise Conflict("A room you would remove has bookings or blocked nights.", param="units",
                           code="unit_in_use")
        del room_type.units[units:]
    if units != current:
        changes["units"] = [current, units]
    session.flush()
    if changes:
        record(session, actor, "room_type.updated", room_type, changes,
               on_behalf_of_seller_id=_on_behalf(actor, room_type.homestay.host))
    return room_type


# -- seasons --------------------------------------------------------------------------------

def add_price_rule(session: Session, actor: Actor, room_type: RoomType, name: str, start: date | None,
                   end: date | None, price: int | None) -> PriceRule:
    if not can_manage(actor, room_type.homestay):
        raise NotFound("No such room type.", param="room_type_id")
    if not name.strip():
        raise Invalid("Name the season, for example Tết.", param="name", code="required")
    if start is None:
        raise Invalid("Choose the first night.", param="start_date", code="required")
    if end is None:
        raise Invalid("Choose the last night.", param="end_date", code="required")
    if end < start:
        raise Invalid("The last night cannot be before the first.", param="end_date", code="end_before_start")
    if (end - start).days > services.BOOKABLE_DAYS_AHEAD:
        raise Invalid("A season lasts at most a year.", param="end_date")
    if price is None or not 0 <= price <= MAX_PRICE_VND:
        raise Invalid("Enter the price per night in đồng.", param="price")
    rule = PriceRule(room_type_id=room_type.id, name=name.strip()[:80], start_date=start, end_date=end, price=price)
    room_type.price_rules.append(rule)
    session.flush()
    record(session, actor, "price_rule.created", rule,
           {"room_type_id": room_type.id, "name": rule.name, "start_date": start, "end_date": end, "price": price},
           on_behalf_of_seller_id=_on_behalf(actor, room_type.homestay.host))
    return rule


def delete_price_rule(session: Session, actor: Actor, room_type: RoomType, rule_id: int) -> None:
    if not can_manage(actor, room_type.homestay):
        raise NotFound("No such room type.", param="room_type_id")
    rule = next((rule for rule in room_type.price_rules if rule.id == rule_id), None)
    if rule is None:
        raise NotFound("No such season.", param="rule_id")
    record(session, actor, "price_rule.deleted", rule, {"name": rule.name, "price": rule.price},
           on_behalf_of_seller_id=_on_behalf(actor, room_type.homestay.host))
    room_type.price_rules.remove(rule)
    session.flush()


# -- calendar and bookings ------------------------------------------------------------------

@dataclass
class CalendarNight:
    night: date
    free: int
    price: int
    bookings: list[Booking] = field(default_factory=list)
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (unit label, note)
    external: list[tuple[str, str]] = field(default_factory=list)  # other channels: (unit label, note)


def calendar(session: Session, room_type: RoomType, start: date, days: int = CALENDAR_DAYS) -> list[CalendarNight]:
    """Per night: free units, the price, who sleeps there and what the host closed."""
    end = start + timedelta(days=days)
    free = services.availability(session, room_type, start, days)
    labels = {unit.id: unit.label for unit in room_type.units}
    rows = session.execute(select(UnitNight, Booking).outerjoin(Booking, Booking.id == UnitNight.booking_id).where(
        UnitNight.unit_id.in_(list(labels) or [0]), UnitNight.night >= start, UnitNight.night < end))
    nights = {night: CalendarNight(night, count, services.night_price(room_type, night))
              for night, count in free.items()}
    for taken, booking in rows:
        day = nights[taken.night]
        if booking is not None:
            day.bookings.append(booking)
        elif taken.source.value == "host_block":
            day.blocks.append((labels[taken.unit_id], taken.note))
        else:
            day.external.append((labels[taken.unit_id], taken.note))
    return list(nights.values())


def unit_of(room_type: RoomType, unit_id: int) -> Unit:
    unit = next((unit for unit in room_type.units if unit.id == unit_id), None)
    if unit is None:
        raise Invalid("Choose a room.", param="unit_id", code="required")
    return unit


def block(session: Session, actor: Actor, room_type: RoomType, unit: Unit, start: date, end: date,
          note: str = "") -> int:
    if not can_manage(actor, room_type.homestay):
        raise NotFound("No such room type.", param="room_type_id")
    blocked = services.block_nights(session, unit, start, end, note)
    record(session, actor, "unit.blocked", unit, {"start": start, "end": end, "nights": blocked, "note": note},
           on_behalf_of_seller_id=_on_behalf(actor, room_type.homestay.host))
    return blocked


def unblock(session: Session, actor: Actor, room_type: RoomType, unit: Unit, start: date, end: date) -> int:
    if not can_manage(actor, room_type.homestay):
        raise NotFound("No such room type.", param="room_type_id")
    if end <= start:
        raise Invalid("The end must be after the start.", param="end", code="end_before_start")
    freed = services.unblock_nights(session, unit, start, end)
    record(session, actor, "unit.unblocked", unit, {"start": start, "end": end, "nights": freed},
           on_behalf_of_seller_id=_on_behalf(actor, room_type.homestay.host))
    return freed


def bookings_of(session: Session, homestay: Homestay) -> list[Booking]:
    room_ids = [room.id for room in homestay.room_types] or [0]
    return list(session.scalars(select(Booking).where(Booking.room_type_id.in_(room_ids))
                                .order_by(Booking.check_in.desc(), Booking.id.desc())))


def cancel(session: Session, actor: Actor, homestay: Homestay, booking_id: int, reason: str) -> Booking:
    if not can_manage(actor, homestay):
        raise NotFound("No such homestay.", param="homestay_id")
    booking = session.get(Booking, booking_id)
    if booking is None or booking.room_type.homestay_id != homestay.id:
        raise NotFound("No such booking.", param="booking_id")
    services.cancel_booking(session, booking, "host: " + (reason.strip() or "canceled"))
    record(session, actor, "booking.canceled", booking, {"reason": reason},
           on_behalf_of_seller_id=_on_behalf(actor, homestay.host))
    return booking


def confirm_transfer(session: Session, actor: Actor, homestay: Homestay, booking_id: int) -> Booking:
    if not can_manage(actor, homestay):
        raise NotFound("No such homestay.", param="homestay_id")
    booking = session.get(Booking, booking_id)
    if booking is None or booking.room_type.homestay_id != homestay.id:
        raise NotFound("No such booking.", param="booking_id")
    services.confirm_transfer(session, booking)
    record(session, actor, "booking.transfer_confirmed", booking, {"amount": booking.amount_due_now},
           on_behalf_of_seller_id=_on_behalf(actor, homestay.host))
    return booking


# -- photos ---------------------------------------------------------------------------------

STAY_PHOTOS = "stay"  # media owner type: the first photo is the cover


def photos(session: Session, homestay: Homestay) -> list[MediaAttachment]:
    return media.attachments(session, STAY_PHOTOS, homestay.id)


def add_photo(session: Session, actor: Actor, storage: Storage, policy: UploadPolicy, homestay: Homestay,
              data: bytes, filename: str = "") -> MediaAttachment:
    if not can_manage(actor, homestay):
        raise NotFound("No such homestay.", param="homestay_id")
    media.check_room(session, policy, STAY_PHOTOS, homestay.id)  # before the work of processing it
    asset = media.upload(session, storage, policy, data, filename, actor.user.id if actor.user else None)
    attachment = media.attach(session, policy, STAY_PHOTOS, homestay.id, asset)
    _sync_cover(session, homestay)
    record(session, actor, "homestay.photo_added", homestay, {"image": [None, asset.id]},
           on_behalf_of_seller_id=_on_behalf(actor, homestay.host))
    return attachment


def change_photo(session: Session, actor: Actor, homestay: Homestay, asset_id: int, operation: str) -> None:
    """``cover`` puts a photo first; ``remove`` takes it off the homestay."""
    if not can_manage(actor, homestay):
        raise NotFound("No such homestay.", param="homestay_id")
    if operation == "remove":
        media.detach(session, STAY_PHOTOS, homestay.id, asset_id)
    elif operation == "cover":
        media.move(session, STAY_PHOTOS, homestay.id, asset_id, 0)
    else:
        raise Invalid("Unknown photo action.", param="op", code="unknown_action")
    _sync_cover(session, homestay)
    record(session, actor, f"homestay.photo_{operation}", homestay, {"image": asset_id},
           on_behalf_of_seller_id=_on_behalf(actor, homestay.host))


def _sync_cover(session: Session, homestay: Homestay) -> None:
    """Lists and search show ``cover_key``: keep it the first photo's."""
    session.flush()
    homestay.cover_key = media.cover_key(session, STAY_PHOTOS, homestay.id)
