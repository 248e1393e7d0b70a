"""The tourist's pages: homestays of a commune, one homestay with real availability and prices for chosen
dates, booking, and the booking page reached by its secret link. No JavaScript needed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urljoin

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from markupsafe import Markup
from sqlalchemy import select

from service.core.errors import AppError, Invalid, NotFound
from service.core.i18n import current_language, localized
from service.db import get_session
from service.feeds.seo import json_ld_markup
from service.media import services as media
from service.media.web import media_url
from service.tenants.models import Tenant
from service.tenants.web import require_tenant
from service.tourism import services
from service.tourism.homestays import AMENITIES
from service.tourism.models import Homestay, PublishStatus, RoomType

bp = Blueprint("tourism", __name__)

VNPAY_RETURN_PATH = "payments/vnpay/return"  # fixed by the public contract, as for orders
# VietQR pays a seller's bank account through a seller part of an order; bookings have none yet,
# so the public form offers VNPay and paying at the house.
BOOKING_METHODS = ("vnpay", "vietqr")
STAY_FIELDS = ("check_in", "check_out", "guests")
GUEST_FIELDS = ("name", "phone", "email", "note")
PROBLEMS = {
    "required": lazy_gettext("This field is required."),
    "date_in_past": lazy_gettext("The check-in date is in the past."),
    "check_out_before_check_in": lazy_gettext("Check-out must be after check-in."),
    "too_far_ahead": lazy_gettext("Bookings open one year ahead."),
    "over_capacity": lazy_gettext("Too many guests for this room."),
    "invalid_guests": lazy_gettext("At least one guest."),
    "invalid_date": lazy_gettext("Choose a date."),
    "invalid_phone": lazy_gettext("Enter a Vietnamese phone number, for example 0905 123 456."),
    "invalid_email": lazy_gettext("Enter a valid e-mail address, or leave it empty."),
    "invalid_payment_option": lazy_gettext("Choose how to pay."),
    "invalid_payment_method": lazy_gettext("Choose how to pay."),
    "not_available": lazy_gettext("Someone was quicker: these dates are no longer free. Choose other dates or "
                                  "another room."),
}


def _message(error: AppError) -> str:
    known = PROBLEMS.get(error.code)
    return str(known) if known is not None else error.message


def _date(source: Any, name: str) -> date | None:
    text = (source.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("Choose a date.", param=name, code="invalid_date") from None


def _int(source: Any, name: str) -> int | None:
    try:
        return int(source.get(name, ""))
    except (TypeError, ValueError):
        return None


def _published(slug: str) -> Homestay:
    require_tenant()
    homestay = get_session().scalars(select(Homestay).where(Homestay.slug == slug,
                                                            Homestay.status == PublishStatus.PUBLISHED)).first()
    if homestay is None:
        raise NotFound("No such homestay.", param="slug")
    return homestay


@dataclass
class RoomOffer:
    """A room type for the dates asked: how many of its rooms are free and what the stay costs."""

    room_type: RoomType
    free: int | None = None
    quote: services.Quote | None = None
    error: str = ""


def _offers(homestay: Homestay, source: Any) -> tuple[list[RoomOffer], dict[str, str], bool]:
    """Offers per active room type; errors by field when the dates are wrong for every room."""
    rooms = [room for room in homestay.room_types if room.is_active]
    offers = [RoomOffer(room) for room in rooms]
    if not any(source.get(name) for name in ("check_in", "check_out")):
        return offers, {}, False
    try:
        check_in, check_out = _date(source, "check_in"), _date(source, "check_out")
    except Invalid as error:
        return offers, {error.param or "_": _message(error)}, True
    guests = _int(source, "guests")
    errors: dict[str, str] = {}
    for offer in offers:
        try:
            stay = services.check_stay(check_in, check_out, guests, offer.room_type)
        except Invalid as error:
            offer.error = _message(error)
            errors.setdefault(error.param or "_", offer.error)
            continue
        offer.free = len(services.free_units(get_session(), offer.room_type, stay))
        offer.quote = services.quote(offer.room_type, stay)
    failed = bool(offers) and all(offer.error for offer in offers)
    return offers, errors if failed else {}, True


def _photo_keys(homestay: Homestay) -> list[str]:
    """The cover first, then the photos the host attached to the stay (media owner type "stay")."""
    keys = [homestay.cover_key] if homestay.cover_key else []
    attached = [a.asset.key for a in media.attachments(get_session(), "stay", homestay.id)]
    return keys + [key for key in attached if key not in keys]


def _json_ld(homestay: Homestay, tenant: Tenant) -> Markup:
    prices = [room.base_price for room in homestay.room_types if room.is_active]
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "LodgingBusiness", "name": localized(homestay, "name"),
        "description": localized(homestay, "description"),
        "address": {"@type": "PostalAddress", "streetAddress": homestay.address, "addressLocality": tenant.name,
                    "addressCountry": "VN"},
        "url": url_for("tourism.stay", slug=homestay.slug, _external=True),
        "checkinTime": homestay.check_in_time, "checkoutTime": homestay.check_out_time,
        "amenityFeature": [{"@type": "LocationFeatureSpecification", "name": AMENITIES[key][1], "value": True}
                           for key in homestay.amenities or [] if key in AMENITIES],
    }
    if homestay.latitude is not None and homestay.longitude is not None:
        data["geo"] = {"@type": "GeoCoordinates", "latitude": homestay.latitude, "longitude": homestay.longitude}
    if prices:
        low, high = (f"{price:,}".replace(",", ".") for price in (min(prices), max(prices)))
        data["priceRange"] = f"{low} VND" if low == high else f"{low}–{high} VND"
    images = [media_url(key) for key in _photo_keys(homestay)]
    if images:
        data["image"] = [urljoin(request.host_url, image) for image in images if image]
    return json_ld_markup(data)


@bp.get("/c/<commune>/stays")
def stays() -> Any:
    require_tenant()
    homestays = services.published_homestays(get_session())
    return render_template("tourism/stays.html", homestays=homestays, lowest_price=services.lowest_price)


def _stay_page(homestay: Homestay, values: dict[str, str], errors: dict[str, str], offers: list[RoomOffer],
               searched: bool, booking_errors: dict[str, str] | None = None, status: int = 200) -> Any:
    tenant = require_tenant()
    return render_template("tourism/stay.html", homestay=homestay, values=values, errors=errors, offers=offers,
                           searched=searched, booking_errors=booking_errors or {}, amenities=AMENITIES,
                           json_ld=_json_ld(homestay, tenant), photos=_photo_keys(homestay),
                           today=services.today_local(), methods=BOOKING_METHODS,
                           deposit_percent=services.DEPOSIT_PERCENT), status


@bp.get("/c/<commune>/stays/<slug>")
def stay(slug: str) -> Any:
    homestay = _published(slug)
    values = {name: request.args.get(name, "").strip() for name in STAY_FIELDS}
    values.setdefault("guests", "")
    offers, errors, searched = _offers(homestay, request.args)
    return _stay_page(homestay, values, errors, offers, searched, status=422 if errors else 200)


@bp.post("/c/<commune>/stays/<slug>/book")
def book(slug: str) -> Any:
    tenant = require_tenant()
    homestay = _published(slug)
    values = {name: request.form.get(name, "").strip()
              for name in (*STAY_FIELDS, *GUEST_FIELDS, "room_type_id", "payment_option", "payment_method")}
    db = get_session()
    room_id = _int(request.form, "room_type_id")
    room_type = next((room for room in homestay.room_types if room.id == room_id and room.is_active), None)
    if room_type is None:
        raise NotFound("No such room.", param="room_type_id")
    if values["payment_option"] == "on_arrival":
        values["payment_method"] = ""
    elif values["payment_method"] not in BOOKING_METHODS:
        values["payment_method"] = "invalid"
    try:
        stay_ = services.check_stay(_date(request.form, "check_in"), _date(request.form, "check_out"),
                                    _int(request.form, "guests"), room_type)
        guest = services.Guest(name=values["name"], phone=values["phone"], email=values["email"],
                               note=values["note"], language=current_language())
        context = {
            "return_url": request.host_url + VNPAY_RETURN_PATH,
            "ip_address": request.remote_addr or "127.0.0.1",
            "locale": "en" if current_language() == "en" else "vn",
            "commune_slug": tenant.slug,
            "booking_url": "",
        }
        booking = services.book(db, room_type, stay_, guest, values["payment_option"], values["payment_method"],
                                context)
        booking_url = url_for("tourism.booking_page", secret=booking.secret, _external=True)
        intent = services.booking_intent(db, booking)
        if intent is not None:
            intent.metadata_ = {**intent.metadata_, "order_url": booking_url}
        db.commit()
    except AppError as error:
        db.rollback()  # nothing of a failed booking stays: no booking, no nights held
        if error.status in (401, 403, 404):
            raise
        # "taken" concerns the whole stay, not one field: shown above the rooms
        field = error.param if error.param in values and error.code != "not_available" else "_"
        status = 409 if error.status == 409 else 422
        offers, _errors, searched = _offers(homestay, request.form)
        page_values = {**values, "room_type_id": str(room_id)}
        return _stay_page(homestay, page_values, {}, offers, searched,
                          booking_errors={field: _message(error), "room_type_id": str(room_id)}, status=status)
    action = (intent.next_action or {}) if intent is not None else {}
    if action.get("type") == "redirect_to_url":
        return redirect(action["redirect_to_url"]["url"], code=303)
    return redirect(url_for("tourism.booking_page", secret=booking.secret), code=303)


@bp.get("/c/<commune>/bookings/<secret>")
def booking_page(secret: str) -> Any:
    """The guest's page of a booking: whoever has the link sees it."""
    require_tenant()
    db = get_session()
    booking = services.get_booking_by_secret(db, secret)
    intent = services.booking_intent(db, booking)
    paid = max(0, intent.amount_received - intent.amount_refunded) if intent is not None else 0
    response = render_template("tourism/booking.html", booking=booking, homestay=booking.room_type.homestay,
                               intent=intent, paid=paid, due=max(0, booking.total - paid),
                               nights=(booking.check_out - booking.check_in).days,
                               hold_expires=services.local_datetime(booking.hold_expires_at)
                               if booking.hold_expires_at else None)
    return response, 200, {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


def blueprints() -> list[Blueprint]:
    return [bp]
