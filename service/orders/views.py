"""The buyer's pages: cart, checkout and the order page (reached by its secret link). No JavaScript needed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext

from service.core.errors import AppError
from service.core.i18n import current_language
from service.db import get_session
from service.orders import services as orders
from service.orders.models import PaymentMethod
from service.tenants.web import require_tenant

bp = Blueprint("orders", __name__)

CART_KEY = "carts"
VNPAY_RETURN_PATH = "/payments/vnpay/return"  # fixed by the public contract (ARCHITECTURE.md)
PROBLEMS = {
    "sold_out": lazy_gettext("This product is sold out."),
    "too_few_left": lazy_gettext("Not enough left: lower the quantity."),
    "out_of_stock": lazy_gettext("Someone was quicker: there is not enough left of a product. Check your cart."),
    "cart_empty": lazy_gettext("Your cart is empty."),
    "invalid_quantity": lazy_gettext("Choose at least 1."),
    "cart_full": lazy_gettext("Your cart is full."),
    "required": lazy_gettext("This field is required."),
    "too_long": lazy_gettext("Too long: shorten it."),
    "invalid_phone": lazy_gettext("Enter a Vietnamese phone number, for example 0905 123 456."),
    "invalid_email": lazy_gettext("Enter a valid e-mail address, or leave it empty."),
    "invalid_payment_method": lazy_gettext("Choose how to pay."),
    "vietqr_unavailable": lazy_gettext("A seller in your cart cannot take bank transfers yet: choose another way."),
}
BUYER_FIELDS = ("name", "phone", "email", "province", "district", "ward", "street", "note")


def _message(error: AppError) -> str:
    known = PROBLEMS.get(error.code)
    return str(known) if known is not None else error.message


def _cart() -> dict[int, int]:
    tenant = require_tenant()
    return orders.clean_cart(session.get(CART_KEY, {}).get(str(tenant.id)))


def _save_cart(cart: dict[int, int]) -> None:
    tenant = require_tenant()
    carts = dict(session.get(CART_KEY, {}))
    carts[str(tenant.id)] = {str(product_id): quantity for product_id, quantity in cart.items()}
    session[CART_KEY] = carts


def cart_count() -> int:
    """For the header: how many items are in this commune's cart (no database query)."""
    tenant = require_tenant()
    return sum(orders.clean_cart(session.get(CART_KEY, {}).get(str(tenant.id))).values())


def _int_form(name: str, default: int = 0) -> int:
    try:
        return int(request.form.get(name, default))
    except (TypeError, ValueError):
        return default


@bp.get("/c/<commune>/cart")
def cart() -> Any:
    view = orders.view_cart(get_session(), _cart())
    return render_template("orders/cart.html", cart=view, problems=PROBLEMS)


@bp.post("/c/<commune>/cart/add")
def add() -> Any:
    try:
        _save_cart(orders.add_to_cart(get_session(), _cart(), _int_form("product_id"), _int_form("quantity", 1)))
    except AppError as error:
        if error.status == 404:
            raise
        flash(_message(error), "error")
        return redirect(request.referrer or url_for("orders.cart"), code=303)
    flash(gettext("Added to your cart."), "success")
    return redirect(url_for("orders.cart"), code=303)


@bp.post("/c/<commune>/cart/update")
def update() -> Any:
    current = _cart()
    removing = _int_form("remove", 0)
    for product_id in list(current):
        quantity = 0 if product_id == removing else _int_form(f"quantity_{product_id}", current[product_id])
        current = orders.set_quantity(current, product_id, quantity)
    _save_cart(current)
    flash(gettext("Cart updated."), "success")
    return redirect(url_for("orders.cart"), code=303)


def _checkout_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    view = orders.view_cart(get_session(), _cart())
    return render_template("orders/checkout.html", cart=view, values=values, errors=errors, problems=PROBLEMS,
                           methods=[method.value for method in PaymentMethod]), status


@bp.route("/c/<commune>/checkout", methods=["GET", "POST"])
def checkout() -> Any:
    tenant = require_tenant()
    if request.method == "GET":
        if not _cart():
            return redirect(url_for("orders.cart"), code=303)
        return _checkout_page({"payment_method": "cod"}, {})
    values = {name: request.form.get(name, "").strip() for name in (*BUYER_FIELDS, "payment_method")}
    buyer = orders.Buyer(**{name: values[name] for name in BUYER_FIELDS}, language=current_language())
    db = get_session()
    context = {
        "return_url": request.host_url.rstrip("/") + VNPAY_RETURN_PATH,
        "ip_address": request.remote_addr or "127.0.0.1",
        "locale": "en" if current_language() == "en" else "vn",
        "commune_slug": tenant.slug,
    }
    try:
        order = orders.checkout(db, _cart(), buyer, values["payment_method"], context)
        order_url = url_for("orders.order_page", secret=order.secret, _external=True)
        for intent in orders.intents_of(db, order):
            intent.metadata_ = {**intent.metadata_, "order_url": order_url}
        db.commit()
    except AppError as error:
        db.rollback()  # nothing of a failed checkout stays: no order, no stock held
        if error.status in (401, 403, 404) and error.param not in ("product_id",):
            raise
        field = (error.param or "").removeprefix("buyer_")
        return _checkout_page(values, {field if field in values else "_": _message(error)}, 422)
    _save_cart({})
    first = next(iter(orders.intents_of(db, order)), None)
    if first is not None and first.next_action and first.next_action.get("type") == "redirect_to_url":
        return redirect(first.next_action["redirect_to_url"]["url"], code=303)
    return redirect(url_for("orders.order_page", secret=order.secret), code=303)


@bp.get("/c/<commune>/orders/<secret>")
def order_page(secret: str) -> Any:
    """The buyer's page of an order: whoever has the link (sent by e-mail, shown after checkout) sees it."""
    require_tenant()
    db = get_session()
    order = orders.get_order_by_secret(db, secret)
    intents = orders.intents_of(db, order)
    response = render_template("orders/order.html", order=order, intents=intents,
                               intent_for_part={intent.seller_order_id: intent for intent in intents})
    return response, 200, {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


@bp.app_context_processor
def _cart_in_templates() -> dict[str, Any]:
    return {"cart_count": cart_count}
