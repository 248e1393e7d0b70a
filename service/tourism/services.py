"""Homestay availability, prices and bookings.

Nights are dates in the commune's time zone (Asia/Ho_Chi_Minh): a stay from the 10th to the 12th
takes the nights of the 10th and the 11th. Booking claims one unit's nights by inserting their
``unit_nights`` rows in a savepoint; the unique (unit, night) index refuses a night already taken,
then the next unit is tried. Held bookings keep their nights until ``hold_expires_at``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core.contact import check_optional_email, check_phone, reference_number
from service.core.errors import Conflict, Invalid, NotFound
from service.db import current_tenant_id, utcnow
from service.payments import services as payments
from service.payments.models import IntentStatus, PaymentIntent
from service.tenants.models import Tenant
from service.tourism.models import (
    Booking,
    BookingStatus,
    Homestay,
    NightSource,
    PriceRule,
    PublishStatus,
    RoomType,
    Unit,
    UnitNight,
)

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_NIGHTS = 30
BOOKABLE_DAYS_AHEAD = 365
DEPOSIT_PERCENT = 30
PAYMENT_OPTIONS = ("deposit", "full", "on_arrival")
ONLINE_METHODS = ("vnpay", "vietqr")


def today_local() -> date:
    return utcnow().astimezone(LOCAL_TZ).date()


def nights_of(check_in: date, check_out: date) -> list[date]:
    return [check_in + timedelta(days=n) for n in range((check_out - check_in).days)]


# -- stay dates -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Stay:
    check_in: date
    check_out: date
    guests: int

    @property
    def nights(self) -> list[date]:
        return nights_of(self.check_in, self.check_out)


def check_stay(check_in: date | None, check_out: date | None, guests: int | None, room_type: RoomType) -> Stay:
    """The stay a tourist asked for, or a 422 naming the field that is wrong."""
    if check_in is None:
        raise Invalid("Choose the check-in date.", param="check_in", code="required")
    if check_out is None:
        raise Invalid("Choose the check-out date.", param="check_out", code="required")
    if check_in < today_local():
        raise Invalid("The check-in date is in the past.", param="check_in", code="date_in_past")
    if check_in > today_local() + timedelta(days=BOOKABLE_DAYS_AHEAD):
        raise Invalid("Bookings open one year ahead.", param="check_in", code="too_far_ahead")
    if check_out <= check_in:
        raise Invalid("Check-out must be after check-in.", param="check_out", code="check_out_before_check_in")
    if (check_out - check_in).days > MAX_NIGHTS:
        raise Invalid(f"At most {MAX_NIGHTS} nights per booking.", param="check_out", code="too_many_nights")
    if guests is None or guests < 1:
        raise Invalid("At least one guest.", param="guests", code="invalid_guests")
    if guests > room_type.capacity:
        raise Invalid(f"This room sleeps at most {room_type.capacity}.", param="guests", code="over_capacity")
    return Stay(check_in, check_out, guests)


# -- prices ---------------------------------------------------------------------------------

def night_price(room_type: RoomType, night: date, rules: Iterable[PriceRule] | None = None) -> int:
    """A season's price when one covers the night (the latest-starting wins), else the weekend price on
    Friday and Saturday nights, else the base price."""
    covering = [rule for rule in (room_type.price_rules if rules is None else rules)
                if rule.start_date <= night <= rule.end_date]
    if covering:
        return max(covering, key=lambda rule: (rule.start_date, rule.id or 0)).price
    if night.weekday() in (4, 5) and room_type.weekend_price is not None:
        return room_type.weekend_price
    return room_type.base_price


@dataclass(frozen=True)
class Quote:
    nights: list[tuple[date, int]]

    @property
    def total(self) -> int:
        return sum(price for _night, price in self.nights)

    def due_now(self, option: str) -> int:
        if option == "full":
            return self.total
        if option == "deposit":
            return max(1, -(-self.total * DEPOSIT_PERCENT // 100))  # rounded up to the đồng
        return 0


def quote(room_type: RoomType, stay: Stay) -> Quote:
    return Quote([(night, night_price(room_type, night)) for night in stay.nights])


# -- availability ---------------------------------------------------------------------------

def taken_nights(session: Session, unit_ids: list[int], start: date, end: date) -> dict[int, set[date]]:
    """Per unit, the nights taken between two dates (end excluded)."""
    taken: dict[int, set[date]] = {unit_id: set() for unit_id in unit_ids}
    if not unit_ids:
        return taken
    rows = session.execute(select(UnitNight.unit_id, UnitNight.night).where(
        UnitNight.unit_id.in_(unit_ids), UnitNight.night >= start, UnitNight.night < end))
    for unit_id, night in rows:
        taken[unit_id].add(night)
    return taken


def free_units(session: Session, room_type: RoomType, stay: Stay) -> list[Unit]:
    taken = taken_nights(session, [unit.id for unit in room_type.units], stay.check_in, stay.check_out)
    return [unit for unit in room_type.units if not taken[unit.id]]


def availability(session: Session, room_type: RoomType, start: date, days: int) -> dict[date, int]:
    """How many units are free each night from ``start``, for the calendar and the export feed."""
    end = start + timedelta(days=days)
    taken = taken_nights(session, [unit.id for unit in room_type.units], start, end)
    return {night: sum(1 for unit in room_type.units if night not in taken[unit.id])
            for night in nights_of(start, end)}


def claim_nights(session: Session, unit: Unit, nights: list[date], source: NightSource, *,
                 booking_id: int | None = None, feed_id: int | None = None, external_uid: str = "",
                 note: str = "") -> bool:
    """Take these nights of one unit, all or none (False when any is taken: the unique index decides)."""
    try:
        with session.begin_nested():
            session.add_all([UnitNight(unit_id=unit.id, night=night, source=source, booking_id=booking_id,
                                       feed_id=feed_id, external_uid=external_uid[:255], note=note[:200])
                             for night in nights])
            session.flush()
    except IntegrityError:
        return False
    return True


def release_booking_nights(session: Session, booking: Booking) -> None:
    session.execute(delete(UnitNight).where(UnitNight.booking_id == booking.id)
                    .execution_options(synchronize_session=False))


# -- booking --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Guest:
    name: str
    phone: str
    email: str = ""
    note: str = ""
    language: str = "vi"


def _check_guest(guest: Guest) -> None:
    if not guest.name.strip():
        raise Invalid("Your name is required.", param="name", code="required")
    check_phone(guest.phone)
    check_optional_email(guest.email)


def get_room_type(session: Session, room_type_id: int) -> RoomType:
    room_type = session.get(RoomType, room_type_id)
    if room_type is None or not room_type.is_active or room_type.homestay.status != PublishStatus.PUBLISHED:
        raise NotFound("No such room.", param="room_type_id")
    return room_type


def _booking_number(session: Session, tenant: Tenant) -> str:
    return reference_number(tenant.slug, today_local(),
                            lambda number: session.scalar(select(Booking.id).where(Booking.number == number))
                            is not None, marker="B")


def book(session: Session, room_type: RoomType, stay: Stay, guest: Guest, payment_option: str,
         payment_method: str, context: dict[str, Any]) -> Booking:
    """Hold a unit's nights for this stay and start its payment; the caller commits (or rolls back all)."""
    _check_guest(guest)
    if payment_option not in PAYMENT_OPTIONS:
        raise Invalid("Choose how to pay.", param="payment_option", code="invalid_payment_option")
    if payment_option != "on_arrival" and payment_method not in ONLINE_METHODS:
        raise Invalid("Choose VNPay or a VietQR transfer.", param="payment_method", code="invalid_payment_method")
    payments.expire_due(session)  # nights held by unpaid bookings whose time ran out go back first
    price = quote(room_type, stay)
    tenant = session.get(Tenant, current_tenant_id(session))
    assert tenant is not None
    booking = Booking(number=_booking_number(session, tenant), secret=secrets.token_urlsafe(32),
                      room_type_id=room_type.id, check_in=stay.check_in, check_out=stay.check_out,
                      guests=stay.guests, guest_name=guest.name.strip()[:120], guest_phone=guest.phone.strip()[:20],
                      guest_email=guest.email.strip(), note=guest.note.strip()[:2000], language=guest.language,
                      total=price.total, amount_due_now=price.due_now(payment_option), payment_option=payment_option,
                      payment_method=payment_method if payment_option != "on_arrival" else "",
                      status=BookingStatus.HELD)
    for unit in room_type.units:
        booking.unit_id = unit.id
        with session.begin_nested():
            session.add(booking)
            session.flush()
        if claim_nights(session, unit, stay.nights, NightSource.BOOKING, booking_id=booking.id,
                        note=booking.number):
            break
    else:
        raise Conflict("These dates are no longer available.", param="check_in", code="not_available")
    if payment_option == "on_arrival":
        booking.status = BookingStatus.CONFIRMED  # the host is told; the guest pays at the house
        return booking
    intent = payments.create_intent(
        session, amount=booking.amount_due_now, payment_method=payment_method, booking_id=booking.id,
        description=f"Booking {booking.number}",
        metadata={"booking_number": booking.number, "order_number": booking.number,
                  "order_url": context.get("booking_url", "")},
        context={**context, "order_number": booking.number})
    booking.hold_expires_at = intent.expires_at
    return booking


def booking_intent(session: Session, booking: Booking) -> PaymentIntent | None:
    return session.scalars(select(PaymentIntent).where(PaymentIntent.booking_id == booking.id)
                           .order_by(PaymentIntent.id.desc())).first()


def _booking_for(session: Session, intent: PaymentIntent) -> Booking | None:
    return session.get(Booking, intent.booking_id) if intent.booking_id else None


@payments.on("payment_intent.succeeded")
def _paid(session: Session, intent: PaymentIntent) -> None:
    booking = _booking_for(session, intent)
    if booking is not None and booking.status == BookingStatus.HELD:
        booking.status = BookingStatus.CONFIRMED
        booking.hold_expires_at = None


@payments.on("payment_intent.canceled")
def _payment_canceled(session: Session, intent: PaymentIntent) -> None:
    booking = _booking_for(session, intent)
    if booking is not None and booking.status == BookingStatus.HELD:
        cancel_booking(session, booking, "payment_" + (intent.cancellation_reason or "canceled"))


def cancel_booking(session: Session, booking: Booking, reason: str) -> Booking:
    """Give the nights back; a paid deposit or payment is refunded."""
    if booking.status == BookingStatus.CANCELED:
        return booking
    booking.status = BookingStatus.CANCELED
    booking.canceled_at = utcnow()
    booking.cancel_reason = reason[:300]
    release_booking_nights(session, booking)
    intent = booking_intent(session, booking)
    if intent is not None:
        if intent.status == IntentStatus.SUCCEEDED and intent.amount_received > intent.amount_refunded:
            payments.create_refund(session, intent, reason="booking_canceled")
        elif intent.status != IntentStatus.CANCELED and intent.status != IntentStatus.SUCCEEDED:
            payments.cancel(session, intent, "abandoned")
    return booking


def confirm_transfer(session: Session, booking: Booking) -> Booking:
    """The host saw the VietQR transfer (deposit or full) arrive in the bank account."""
    intent = booking_intent(session, booking)
    if intent is None or intent.payment_method != "vietqr":
        raise Conflict("This booking is not paid by bank transfer.", code="not_a_transfer")
    if intent.status != IntentStatus.REQUIRES_ACTION:
        raise Conflict("This transfer is already confirmed or cancelled.", code="payment_intent_unexpected_state")
    payments.succeed(session, intent, intent.amount)  # the booking is confirmed by the success listener
    return booking


def get_booking_by_secret(session: Session, secret: str) -> Booking:
    booking = session.scalars(select(Booking).where(Booking.secret == secret)).first() if len(secret) <= 64 \
        else None
    if booking is None:
        raise NotFound("No such booking.", param="booking")
    return booking


# -- host tools -----------------------------------------------------------------------------

def block_nights(session: Session, unit: Unit, start: date, end: date, note: str = "") -> int:
    """The host closes a unit for these nights (family visit, repairs); nights already taken stay as they are."""
    if end <= start:
        raise Invalid("The end must be after the start.", param="end", code="end_before_start")
    if (end - start).days > BOOKABLE_DAYS_AHEAD:
        raise Invalid("Block at most a year at a time.", param="end")
    blocked = 0
    for night in nights_of(start, end):
        if claim_nights(session, unit, [night], NightSource.HOST_BLOCK, note=note):
            blocked += 1
    return blocked


def unblock_nights(session: Session, unit: Unit, start: date, end: date) -> int:
    result = session.execute(delete(UnitNight).where(
        UnitNight.unit_id == unit.id, UnitNight.source == NightSource.HOST_BLOCK,
        UnitNight.night >= start, UnitNight.night < end).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def new_room_type_token() -> str:
    return secrets.token_urlsafe(24)


def published_homestays(session: Session) -> list[Homestay]:
    return list(session.scalars(select(Homestay).where(Homestay.status == PublishStatus.PUBLISHED)
                                .order_by(Homestay.published_at.desc(), Homestay.id.desc())))


def lowest_price(homestay: Homestay) -> int | None:
    prices = [room.base_price for room in homestay.room_types if room.is_active]
    return min(prices) if prices else None


def count_bookings(session: Session, room_type: RoomType) -> int:
    return int(session.scalar(select(func.count(Booking.id)).where(Booking.room_type_id == room_type.id)) or 0)


def local_datetime(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_TZ)
