"""Fulfilment in the back office: each seller sees its own parts of orders, staff see all."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext, lazy_gettext

from service.core.errors import AppError
from service.db import get_session
from service.orders import services as orders
from service.orders.models import FulfilmentStatus
from service.tenants.admin import ADMIN_PREFIX, admin_labels, form_failed, saved
from service.tenants.web import commune_member_required, current_actor

orders_admin = Blueprint("orders_admin", __name__, url_prefix=ADMIN_PREFIX)
orders_admin.context_processor(admin_labels)

STEP_LABELS = {
    "confirm_transfer": lazy_gettext("The transfer arrived"),
    "pack": lazy_gettext("Packed"),
    "ship": lazy_gettext("Handed to the courier"),
    "deliver": lazy_gettext("Delivered"),
    "cancel": lazy_gettext("Cancel this part"),
}
STEP_DONE = {
    "confirm_transfer": lazy_gettext("Payment confirmed: prepare the order."),
    "pack": lazy_gettext("Marked as packed."),
    "ship": lazy_gettext("Marked as shipped; the buyer is told."),
    "deliver": lazy_gettext("Marked as delivered."),
    "cancel": lazy_gettext("Cancelled: the stock is back and the buyer is refunded."),
}


@orders_admin.get("/orders", endpoint="orders")
@commune_member_required
def orders_list() -> Any:
    status = request.args.get("status", "")
    if status not in {s.value for s in FulfilmentStatus}:
        status = ""
    parts = orders.parts_for(get_session(), current_actor(), status or None)
    return render_template("admin/orders/list.html", parts=parts, status=status)


def _detail(part_id: int, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    session = get_session()
    part = orders.get_part(session, current_actor(), part_id)
    return render_template("admin/orders/detail.html", part=part, order=part.order,
                           intent=orders.part_intent(session, part), steps=orders.available_steps(part),
                           step_labels=STEP_LABELS, errors=errors or {}), status


@orders_admin.get("/orders/<int:part_id>")
@commune_member_required
def order_detail(part_id: int) -> Any:
    return _detail(part_id)


@orders_admin.post("/orders/<int:part_id>")
@commune_member_required
def order_step(part_id: int) -> Any:
    session = get_session()
    actor = current_actor()
    part = orders.get_part(session, actor, part_id)
    step = request.form.get("step", "")
    try:
        orders.advance(session, actor, part, step, request.form.get("note", ""))
    except AppError as error:
        if error.status in (401, 403, 404):
            raise
        form_failed()
        return _detail(part_id, {"step": error.message}, 409 if error.status == 409 else 422)
    return saved(str(STEP_DONE.get(step, gettext("Saved."))), "orders_admin.order_detail", part_id=part_id)
