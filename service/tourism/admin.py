"""The host's back office for homestays: the house, room types, seasons, the calendar and bookings.

Staff see every homestay of the commune; a host seller only its own (others answer 404).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, current_app, flash, render_template, request
from flask_babel import gettext

from service.core.errors import AppError, Invalid, NotFound
from service.db import get_session
from service.media.services import UploadPolicy
from service.media.storage import get_storage
from service.media.web import upload_each
from service.tenants.admin import ADMIN_PREFIX, admin_labels, form_failed, saved
from service.tenants.web import commune_member_required, current_actor
from service.tourism import homestays as hosting
from service.tourism import services
from service.tourism.models import Homestay, RoomType

stays_admin = Blueprint("stays_admin", __name__, url_prefix=ADMIN_PREFIX)
stays_admin.context_processor(admin_labels)

TEXT_FIELDS = ("name_vi", "name_en", "description_vi", "description_en", "house_rules_vi", "house_rules_en",
               "address", "check_in_time", "check_out_time")
ROOM_TEXT_FIELDS = ("name_vi", "name_en")


def _failed(error: AppError) -> int:
    """Roll the form back; 401/403/404 go to the error pages, the rest are shown next to the field."""
    form_failed()
    if error.status in (401, 403, 404):
        raise error
    return 409 if error.status == 409 else 422


def _errors(error: AppError, fields: tuple[str, ...] | set[str]) -> dict[str, str]:
    return {error.param if error.param and error.param in fields else "_": error.message}


def _number(name: str, kind: type = int, required: bool = True) -> Any:
    text = request.form.get(name, "").strip().replace(" ", "")
    if not text:
        if required:
            raise Invalid("This field is required.", param=name, code="required")
        return None
    try:
        return kind(text.replace(",", ".") if kind is float else text.replace(".", ""))
    except ValueError:
        raise Invalid("Enter a number.", param=name, code="invalid_number") from None


def _date(name: str) -> date | None:
    text = request.form.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("Choose a date.", param=name, code="invalid_date") from None


def _homestay_values(homestay: Homestay | None) -> dict[str, Any]:
    if homestay is None:
        return {"check_in_time": "14:00", "check_out_time": "12:00", "amenities": []}
    values: dict[str, Any] = {name: getattr(homestay, name) for name in TEXT_FIELDS}
    values |= {"host_seller_id": homestay.host_seller_id, "amenities": list(homestay.amenities or []),
               "latitude": "" if homestay.latitude is None else homestay.latitude,
               "longitude": "" if homestay.longitude is None else homestay.longitude}
    return values


def _homestay_form() -> dict[str, Any]:
    data: dict[str, Any] = {name: request.form.get(name, "").strip() for name in TEXT_FIELDS}
    data["amenities"] = [key for key in hosting.AMENITIES if key in request.form.getlist("amenities")]
    data["latitude"] = _number("latitude", float, required=False)
    data["longitude"] = _number("longitude", float, required=False)
    if request.form.get("host_seller_id"):
        data["host_seller_id"] = _number("host_seller_id")
    return data


def _homestay_page(homestay: Homestay | None, values: dict[str, Any], errors: dict[str, str],
                   status: int = 200, photo_problems: list[str] | None = None) -> Any:
    session = get_session()
    return render_template("admin/stays/form.html", homestay=homestay, values=values, errors=errors,
                           amenities=hosting.AMENITIES, hosts=hosting.hosts_for(session, current_actor()),
                           photos=hosting.photos(session, homestay) if homestay else [],
                           photo_problems=photo_problems or []), status


@stays_admin.get("/stays", endpoint="homestays")
@commune_member_required
def homestays_list() -> Any:
    return render_template("admin/stays/list.html",
                           homestays=hosting.homestays_for(get_session(), current_actor()))


@stays_admin.route("/stays/new", methods=["GET", "POST"])
@commune_member_required
def homestay_new() -> Any:
    if request.method == "GET":
        return _homestay_page(None, _homestay_values(None), {})
    values = {**request.form.to_dict(), "amenities": request.form.getlist("amenities")}
    try:
        homestay = hosting.create_homestay(get_session(), current_actor(), _homestay_form())
    except AppError as error:
        unknown_host = error.status == 404 and error.param == "host_seller_id"  # a field error, not a 404 page
        status = 422 if unknown_host else _failed(error)
        form_failed()
        return _homestay_page(None, values, _errors(error, set(values) | {"host_seller_id"}), status)
    return saved(gettext("Homestay created. Add its rooms, then publish it."), "stays_admin.homestay_edit",
                 homestay_id=homestay.id)


@stays_admin.route("/stays/<int:homestay_id>", methods=["GET", "POST"])
@commune_member_required
def homestay_edit(homestay_id: int) -> Any:
    session = get_session()
    actor = current_actor()
    homestay = hosting.get_homestay(session, actor, homestay_id)
    if request.method == "GET":
        return _homestay_page(homestay, _homestay_values(homestay), {})
    values = {**request.form.to_dict(), "amenities": request.form.getlist("amenities")}
    try:
        hosting.update_homestay(session, actor, homestay, _homestay_form())
    except AppError as error:
        status = _failed(error)
        homestay = hosting.get_homestay(session, actor, homestay_id)
        return _homestay_page(homestay, values, _errors(error, set(values)), status)
    return saved(gettext("Saved."), "stays_admin.homestay_edit", homestay_id=homestay_id)


@stays_admin.post("/stays/<int:homestay_id>/publish")
@commune_member_required
def homestay_publish(homestay_id: int) -> Any:
    session = get_session()
    actor = current_actor()
    homestay = hosting.get_homestay(session, actor, homestay_id)
    publish = request.form.get("action") == "publish"
    try:
        hosting.set_published(session, actor, homestay, publish)
    except AppError as error:
        status = _failed(error)
        homestay = hosting.get_homestay(session, actor, homestay_id)
        return _homestay_page(homestay, _homestay_values(homestay), {"_": error.message}, status)
    return saved(gettext("Published.") if publish else gettext("Unpublished."), "stays_admin.homestay_edit",
                 homestay_id=homestay_id)


@stays_admin.post("/stays/<int:homestay_id>/photos")
@commune_member_required
def photos_upload(homestay_id: int) -> Any:
    """Several photos at once from a phone: each good one is kept even when another is refused."""
    session = get_session()
    actor = current_actor()
    homestay = hosting.get_homestay(session, actor, homestay_id)
    policy = UploadPolicy.from_config(current_app.config)
    storage = get_storage()
    added, problems = upload_each(policy, lambda data, name: hosting.add_photo(
        session, actor, storage, policy, homestay, data, name))
    if not problems:
        return saved(gettext("Photos added: %(num)d.", num=added), "stays_admin.homestay_edit",
                     homestay_id=homestay_id)
    session.commit()  # the good photos stay
    if added:
        flash(gettext("Photos added: %(num)d.", num=added), "success")
    return _homestay_page(homestay, _homestay_values(homestay), {}, 422, photo_problems=problems)


@stays_admin.post("/stays/<int:homestay_id>/photos/<int:asset_id>")
@commune_member_required
def photo_change(homestay_id: int, asset_id: int) -> Any:
    session = get_session()
    actor = current_actor()
    homestay = hosting.get_homestay(session, actor, homestay_id)
    hosting.change_photo(session, actor, homestay, asset_id, request.form.get("op", ""))
    return saved(gettext("Saved."), "stays_admin.homestay_edit", homestay_id=homestay_id)


# -- room types -----------------------------------------------------------------------------

def _room(homestay_id: int, room_type_id: int) -> RoomType:
    room_type = hosting.get_room_type(get_session(), current_actor(), room_type_id)
    if room_type.homestay_id != homestay_id:
        raise NotFound("No such room type.", param="room_type_id")
    return room_type


def _room_values(room_type: RoomType | None) -> dict[str, Any]:
    if room_type is None:
        return {"capacity": 2, "units": 1}
    return {"name_vi": room_type.name_vi, "name_en": room_type.name_en, "capacity": room_type.capacity,
            "base_price": room_type.base_price, "units": len(room_type.units), "is_active": room_type.is_active,
            "weekend_price": "" if room_type.weekend_price is None else room_type.weekend_price}


def _room_form() -> tuple[dict[str, Any], int]:
    data: dict[str, Any] = {name: request.form.get(name, "").strip() for name in ROOM_TEXT_FIELDS}
    data["capacity"] = _number("capacity")
    data["base_price"] = _number("base_price")
    data["weekend_price"] = _number("weekend_price", required=False)
    data["is_active"] = bool(request.form.get("is_active"))
    return data, _number("units")


def _room_page(homestay: Homestay, room_type: RoomType | None, values: dict[str, Any], errors: dict[str, str],
               rule_values: dict[str, Any] | None = None, rule_errors: dict[str, str] | None = None,
               status: int = 200) -> Any:
    return render_template("admin/stays/room.html", homestay=homestay, room=room_type, values=values,
                           errors=errors, rule_values=rule_values or {}, rule_errors=rule_errors or {}), status


@stays_admin.route("/stays/<int:homestay_id>/rooms/new", methods=["GET", "POST"])
@commune_member_required
def room_new(homestay_id: int) -> Any:
    session = get_session()
    actor = current_actor()
    homestay = hosting.get_homestay(session, actor, homestay_id)
    if request.method == "GET":
        return _room_page(homestay, None, _room_values(None), {})
    values = request.form.to_dict()
    try:
        data, units = _room_form()
        room_type = hosting.create_room_type(session, actor, homestay, data, units)
    except AppError as error:
        status = _failed(error)
        homestay = hosting.get_homestay(session, actor, homestay_id)
        return _room_page(homestay, None, values, _errors(error, set(values) | {"units"}), status=status)
    return saved(gettext("Room type created."), "stays_admin.room_edit", homestay_id=homestay_id,
                 room_type_id=room_type.id)


@stays_admin.route("/stays/<int:homestay_id>/rooms/<int:room_type_id>", methods=["GET", "POST"])
@commune_member_required
def room_edit(homestay_id: int, room_type_id: int) -> Any:
    session = get_session()
    room_type = _room(homestay_id, room_type_id)
    if request.method == "GET":
        return _room_page(room_type.homestay, room_type, _room_values(room_type), {})
    values = request.form.to_dict()
    try:
        data, units = _room_form()
        hosting.update_room_type(session, current_actor(), room_type, data, units)
    except AppError as error:
        status = _failed(error)
        room_type = _room(homestay_id, room_type_id)
        return _room_page(room_type.homestay, room_type, values, _errors(error, set(values) | {"units"}),
                          status=status)
    return saved(gettext("Saved."), "stays_admin.room_edit", homestay_id=homestay_id, room_type_id=room_type_id)


@stays_admin.post("/stays/<int:homestay_id>/rooms/<int:room_type_id>/rules")
@commune_member_required
def rule_add(homestay_id: int, room_type_id: int) -> Any:
    session = get_session()
    room_type = _room(homestay_id, room_type_id)
    values = request.form.to_dict()
    try:
        hosting.add_price_rule(session, current_actor(), room_type, values.get("name", ""), _date("start_date"),
                               _date("end_date"), _number("price"))
    except AppError as error:
        status = _failed(error)
        room_type = _room(homestay_id, room_type_id)
        return _room_page(room_type.homestay, room_type, _room_values(room_type), {}, values,
                          _errors(error, set(values)), status)
    return saved(gettext("Season added."), "stays_admin.room_edit", homestay_id=homestay_id,
                 room_type_id=room_type_id)


@stays_admin.post("/stays/<int:homestay_id>/rooms/<int:room_type_id>/rules/<int:rule_id>/delete")
@commune_member_required
def rule_delete(homestay_id: int, room_type_id: int, rule_id: int) -> Any:
    room_type = _room(homestay_id, room_type_id)
    hosting.delete_price_rule(get_session(), current_actor(), room_type, rule_id)
    return saved(gettext("Season removed."), "stays_admin.room_edit", homestay_id=homestay_id,
                 room_type_id=room_type_id)


# -- calendar and bookings ------------------------------------------------------------------

def _calendar_page(room_type: RoomType, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    start = services.today_local()
    nights = hosting.calendar(get_session(), room_type, start, hosting.CALENDAR_DAYS)
    return render_template("admin/stays/calendar.html", homestay=room_type.homestay, room=room_type, nights=nights,
                           values=values, errors=errors), status


@stays_admin.route("/stays/<int:homestay_id>/rooms/<int:room_type_id>/calendar", methods=["GET", "POST"])
@commune_member_required
def room_calendar(homestay_id: int, room_type_id: int) -> Any:
    session = get_session()
    actor = current_actor()
    room_type = _room(homestay_id, room_type_id)
    if request.method == "GET":
        today = services.today_local()
        return _calendar_page(room_type, {"start": today.isoformat(), "end": (today + timedelta(days=1)).isoformat(),
                                          "unit_id": room_type.units[0].id if room_type.units else ""}, {})
    values = request.form.to_dict()
    action = request.form.get("action", "block")
    try:
        unit = hosting.unit_of(room_type, _number("unit_id"))
        start, end = _date("start"), _date("end")
        if start is None:
            raise Invalid("Choose the first night.", param="start", code="required")
        if end is None:
            raise Invalid("Choose the day after the last night.", param="end", code="required")
        if action == "unblock":
            count = hosting.unblock(session, actor, room_type, unit, start, end)
        else:
            count = hosting.block(session, actor, room_type, unit, start, end, request.form.get("note", "").strip())
    except AppError as error:
        status = _failed(error)
        room_type = _room(homestay_id, room_type_id)
        return _calendar_page(room_type, values, _errors(error, set(values)), status)
    message = gettext("%(num)d nights opened again.", num=count) if action == "unblock" \
        else gettext("%(num)d nights closed.", num=count)
    return saved(message, "stays_admin.room_calendar", homestay_id=homestay_id, room_type_id=room_type_id)


@stays_admin.get("/stays/<int:homestay_id>/bookings")
@commune_member_required
def bookings(homestay_id: int) -> Any:
    session = get_session()
    homestay = hosting.get_homestay(session, current_actor(), homestay_id)
    return render_template("admin/stays/bookings.html", homestay=homestay,
                           bookings=hosting.bookings_of(session, homestay))


@stays_admin.post("/stays/<int:homestay_id>/bookings/<int:booking_id>/cancel")
@commune_member_required
def booking_cancel(homestay_id: int, booking_id: int) -> Any:
    session = get_session()
    actor = current_actor()
    homestay = hosting.get_homestay(session, actor, homestay_id)
    hosting.cancel(session, actor, homestay, booking_id, request.form.get("reason", ""))
    return saved(gettext("Booking cancelled: the nights are free again and any payment is refunded."),
                 "stays_admin.bookings", homestay_id=homestay_id)


@stays_admin.post("/stays/<int:homestay_id>/bookings/<int:booking_id>/transfer")
@commune_member_required
def booking_transfer(homestay_id: int, booking_id: int) -> Any:
    session = get_session()
    actor = current_actor()
    homestay = hosting.get_homestay(session, actor, homestay_id)
    hosting.confirm_transfer(session, actor, homestay, booking_id)
    return saved(gettext("Transfer confirmed: the booking is confirmed."), "stays_admin.bookings",
                 homestay_id=homestay_id)


def blueprints() -> list[Blueprint]:
    return [stays_admin]
