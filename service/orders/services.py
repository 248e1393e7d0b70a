"""Cart, checkout and fulfilment.

The cart is a plain ``{product_id: quantity}`` (kept in the buyer's signed session cookie by the
views: it works without JavaScript and costs no database write while browsing). Checkout reads
every price from the database, reserves stock with one conditional UPDATE per product (so stock
never goes negative, whatever runs at the same time), splits the order per seller and creates
its payment intents, all in the caller's transaction: it commits whole or not at all.

VNPay pays the whole order (one intent); VietQR and cash on delivery pay each seller (one intent
per seller part: the QR carries that seller's account, the cash goes to that seller's courier).
Unpaid orders are cancelled when their intents expire, and their stock goes back.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.catalog.models import Product, ProductStatus, Seller
from service.catalog.services import can_act_for
from service.core.contact import check_optional_email, check_phone, reference_number
from service.core.errors import Conflict, Invalid, NotFound
from service.db import current_tenant_id, utcnow
from service.notifications.email import order_email, queue_email
from service.orders.models import FulfilmentStatus, Order, OrderLine, OrderStatus, PaymentMethod, SellerOrder
from service.payments import services as payments
from service.payments.models import IntentStatus, PaymentIntent
from service.tenants.models import Tenant
from service.tenants.services import Actor

MAX_QUANTITY = 99
MAX_CART_LINES = 50


# -- the cart -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def line_total(self) -> int:
        return self.product.price * self.quantity

    @property
    def problem(self) -> str | None:
        """Why this line cannot be bought as it is (shown next to it): sold out, or too few left."""
        if self.product.status != ProductStatus.PUBLISHED or self.product.stock <= 0:
            return "sold_out"
        if self.quantity > self.product.stock:
            return "too_few_left"
        return None


@dataclass
class CartView:
    lines: list[CartLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(line.line_total for line in self.lines)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def buyable(self) -> bool:
        return bool(self.lines) and all(line.problem is None for line in self.lines)

    def by_seller(self) -> list[tuple[Seller, list[CartLine]]]:
        groups: dict[int, tuple[Seller, list[CartLine]]] = {}
        for line in self.lines:
            groups.setdefault(line.product.seller_id, (line.product.seller, []))[1].append(line)
        return list(groups.values())


def clean_cart(raw: Mapping[Any, Any] | None) -> dict[int, int]:
    """A cart from a cookie: integer ids and quantities within bounds, nothing else."""
    cart: dict[int, int] = {}
    for key, value in (raw or {}).items():
        try:
            product_id, quantity = int(key), int(value)
        except (TypeError, ValueError):
            continue
        if product_id > 0 and quantity > 0:
            cart[product_id] = min(quantity, MAX_QUANTITY)
    return dict(list(cart.items())[:MAX_CART_LINES])


def view_cart(session: Session, cart: Mapping[int, int]) -> CartView:
    """The cart's lines with today's products (prices from the database); vanished products drop out."""
    if not cart:
        return CartView()
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(list(cart))))}
    return CartView([CartLine(products[pid], qty) for pid, qty in cart.items() if pid in products])


def add_to_cart(session: Session, cart: dict[int, int], product_id: int, quantity: int) -> dict[int, int]:
    product = session.get(Product, product_id)
    if product is None or product.status != ProductStatus.PUBLISHED:
        raise NotFound("No such product.", param="product_id")
    if quantity < 1:
        raise Invalid("Choose at least 1.", param="quantity", code="invalid_quantity")
    wanted = min(cart.get(product_id, 0) + quantity, MAX_QUANTITY)
    if product.stock <= 0:
        raise Conflict("This product is sold out.", param="product_id", code="sold_out")
    if wanted > product.stock:
        raise Conflict(f"Only {product.stock} left.", param="quantity", code="too_few_left")
    if product_id not in cart and len(cart) >= MAX_CART_LINES:
        raise Invalid("Your cart is full.", param="product_id", code="cart_full")
    return {**cart, product_id: wanted}


def set_quantity(cart: dict[int, int], product_id: int, quantity: int) -> dict[int, int]:
    updated = dict(cart)
    if quantity <= 0:
        updated.pop(product_id, None)
    elif product_id in updated:
        updated[product_id] = min(quantity, MAX_QUANTITY)
    return updated


# -- checkout -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Buyer:
    name: str
    phone: str
    province: str
    district: str
    ward: str
    street: str
    email: str = ""
    note: str = ""
    language: str = "vi"


def _check_buyer(buyer: Buyer) -> None:
    for name, value, longest in (("name", buyer.name, 120), ("province", buyer.province, 80),
                                 ("district", buyer.district, 80), ("ward", buyer.ward, 80),
                                 ("street", buyer.street, 200)):
        if not value.strip():
            raise Invalid("This field is required.", param=name, code="required")
        if len(value) > longest:
            raise Invalid(f"At most {longest} characters.", param=name, code="too_long")
    check_phone(buyer.phone)
    check_optional_email(buyer.email)


def reserve(session: Session, product_id: int, quantity: int) -> bool:
    """Take ``quantity`` from the stock if that many are left: one atomic statement, never negative."""
    result = session.execute(
        update(Product)
        .where(Product.id == product_id, Product.status == ProductStatus.PUBLISHED, Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, lines: list[OrderLine]) -> None:
    for line in lines:
        if line.product_id is not None:
            session.execute(update(Product).where(Product.id == line.product_id)
                            .values(stock=Product.stock + line.quantity)
                            .execution_options(synchronize_session=False))


def _order_number(session: Session, tenant: Tenant) -> str:
    return reference_number(tenant.slug, utcnow().date(),
                            lambda number: session.scalar(select(Order.id).where(Order.number == number)) is not None)


def checkout(session: Session, cart: Mapping[int, int], buyer: Buyer, payment_method: str,
             context: dict[str, Any]) -> Order:
    """Turn the cart into an order, its seller parts and payment intents, holding the stock."""
    try:
        method = PaymentMethod(payment_method)
    except ValueError as error:
        raise Invalid("Choose how to pay.", param="payment_method", code="invalid_payment_method") from error
    _check_buyer(buyer)
    payments.expire_due(session)  # stale holds of unpaid orders go back on sale first
    view = view_cart(session, cart)
    if not view.lines:
        raise Invalid("Your cart is empty.", param="cart", code="cart_empty")
    # Lock rows in one order (by id) so concurrent checkouts of overlapping carts cannot deadlock.
    for line in sorted(view.lines, key=lambda each: each.product.id):
        if not reserve(session, line.product.id, line.quantity):
            raise Conflict(f"Not enough left of {line.product.title_vi}.", param=f"product_{line.product.id}",
                           code="out_of_stock")
    tenant = session.get(Tenant, current_tenant_id(session))
    assert tenant is not None
    order = Order(number=_order_number(session, tenant), secret=secrets.token_urlsafe(32), payment_method=method,
                  buyer_name=buyer.name.strip(), buyer_phone=buyer.phone.strip(), buyer_email=buyer.email.strip(),
                  province=buyer.province.strip(), district=buyer.district.strip(), ward=buyer.ward.strip(),
                  street=buyer.street.strip(), note=buyer.note.strip()[:2000], language=buyer.language,
                  subtotal=view.total, shipping_fee=0, total=view.total, status=OrderStatus.AWAITING_PAYMENT)
    for seller, lines in view.by_seller():
        part = SellerOrder(seller_id=seller.id, subtotal=sum(line.line_total for line in lines),
                           status=FulfilmentStatus.AWAITING_PAYMENT)
        part.lines = [OrderLine(product_id=line.product.id, title=line.product.title_vi, unit=line.product.unit,
                                unit_price=line.product.price, quantity=line.quantity, line_total=line.line_total)
                      for line in lines]
        order.parts.append(part)
    session.add(order)
    session.flush()
    _start_payment(session, order, {**context, "order_number": order.number})
    _notify(session, order, "placed")
    return order


def _start_payment(session: Session, order: Order, context: dict[str, Any]) -> None:
    metadata = {"order_number": order.number, "order_url": context.get("order_url", "")}
    if order.payment_method == PaymentMethod.VNPAY:
        intent = payments.create_intent(session, amount=order.total, payment_method="vnpay", order_id=order.id,
                                        description=f"Order {order.number}", metadata=metadata, context=context)
        order.expires_at = intent.expires_at
        return
    for part in order.parts:
        intent = payments.create_intent(session, amount=part.subtotal, payment_method=order.payment_method.value,
                                        order_id=order.id, seller_order_id=part.id, metadata=metadata,
                                        description=f"Order {order.number} - {part.seller.name}", context=context)
        order.expires_at = intent.expires_at
    if order.payment_method == PaymentMethod.COD:
        _place(order)  # nothing to wait for: the sellers prepare it, the cash comes at the door


def _place(order: Order) -> None:
    order.status = OrderStatus.PLACED
    order.placed_at = utcnow()
    order.expires_at = None
    for part in order.parts:
        if part.status == FulfilmentStatus.AWAITING_PAYMENT:
            part.status = FulfilmentStatus.CONFIRMED
            part.confirmed_at = utcnow()


def intents_of(session: Session, order: Order) -> list[PaymentIntent]:
    return list(session.scalars(select(PaymentIntent).where(PaymentIntent.order_id == order.id)
                                .order_by(PaymentIntent.id)))


@payments.on("payment_intent.succeeded")
def _paid(session: Session, intent: PaymentIntent) -> None:
    order = session.get(Order, intent.order_id) if intent.order_id else None
    if order is None or order.status != OrderStatus.AWAITING_PAYMENT:
        return
    if all(each.status == IntentStatus.SUCCEEDED for each in intents_of(session, order)):
        _place(order)
        _notify(session, order, "paid")


@payments.on("payment_intent.canceled")
def _payment_canceled(session: Session, intent: PaymentIntent) -> None:
    """An unpaid order whose payment expired or was cancelled is cancelled: its stock goes back."""
    order = session.get(Order, intent.order_id) if intent.order_id else None
    if order is not None and order.status == OrderStatus.AWAITING_PAYMENT:
        cancel_order(session, order, "payment_" + (intent.cancellation_reason or "canceled"))


def cancel_order(session: Session, order: Order, reason: str) -> Order:
    """Cancel an order that nobody has paid for yet (the buyer, staff, or an expired payment)."""
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise Conflict("Only an unpaid order can be cancelled as a whole; sellers cancel their parts.",
                       code="order_not_cancelable")
    order.status = OrderStatus.CANCELED
    order.canceled_at = utcnow()
    order.cancel_reason = reason[:300]
    for part in order.parts:
        part.status = FulfilmentStatus.CANCELED
        part.canceled_at = utcnow()
        release(session, part.lines)
    for intent in intents_of(session, order):
        if intent.status == IntentStatus.SUCCEEDED:  # one seller's transfer arrived, another's never did
            payments.create_refund(session, intent, reason="order_canceled")
        elif intent.status != IntentStatus.CANCELED:
            payments.cancel(session, intent, "abandoned")
    _notify(session, order, "canceled")
    return order


# -- reading --------------------------------------------------------------------------------

def get_order_by_secret(session: Session, secret: str) -> Order:
    order = session.scalars(select(Order).where(Order.secret == secret)).first() if len(secret) <= 64 else None
    if order is None:
        raise NotFound("No such order.", param="order")
    return order


def parts_for(session: Session, actor: Actor, status: str | None = None) -> list[SellerOrder]:
    """The seller parts this person fulfils: staff all, a seller its own, a volunteer its households'."""
    statement = select(SellerOrder).join(Order).order_by(SellerOrder.id.desc())
    if status:
        statement = statement.where(SellerOrder.status == status)
    return [part for part in session.scalars(statement) if can_act_for(actor, part.seller)]


def get_part(session: Session, actor: Actor, part_id: int) -> SellerOrder:
    part = session.get(SellerOrder, part_id)
    if part is None or not can_act_for(actor, part.seller):
        raise NotFound("No such order.", param="order")
    return part


def part_intent(session: Session, part: SellerOrder) -> PaymentIntent | None:
    """The intent that pays this part: its own (VietQR, cash), else the order's (VNPay)."""
    own = session.scalars(select(PaymentIntent).where(PaymentIntent.seller_order_id == part.id)).first()
    if own is not None:
        return own
    return session.scalars(select(PaymentIntent).where(PaymentIntent.order_id == part.order_id,
                                                       PaymentIntent.seller_order_id.is_(None))).first()


# -- fulfilment -----------------------------------------------------------------------------

STEPS: dict[str, tuple[frozenset[FulfilmentStatus], FulfilmentStatus]] = {
    "pack": (frozenset({FulfilmentStatus.CONFIRMED}), FulfilmentStatus.PACKED),
    "ship": (frozenset({FulfilmentStatus.PACKED}), FulfilmentStatus.SHIPPED),
    "deliver": (frozenset({FulfilmentStatus.SHIPPED}), FulfilmentStatus.DELIVERED),
    "cancel": (frozenset({FulfilmentStatus.CONFIRMED, FulfilmentStatus.PACKED}), FulfilmentStatus.CANCELED),
}
_STAMPS = {FulfilmentStatus.PACKED: "packed_at", FulfilmentStatus.SHIPPED: "shipped_at",
           FulfilmentStatus.DELIVERED: "delivered_at", FulfilmentStatus.CANCELED: "canceled_at"}


def available_steps(part: SellerOrder) -> list[str]:
    steps = [name for name, (sources, _target) in STEPS.items() if part.status in sources]
    if part.status == FulfilmentStatus.AWAITING_PAYMENT and part.order.payment_method == PaymentMethod.VIETQR:
        steps.insert(0, "confirm_transfer")
    return steps


def advance(session: Session, actor: Actor, part: SellerOrder, step: str, note: str = "") -> SellerOrder:
    """Move a seller's part on: pack, ship, deliver, or cancel (the stock goes back, the money is refunded)."""
    if not can_act_for(actor, part.seller):
        raise NotFound("No such order.", param="order")
    if step == "confirm_transfer":
        return confirm_transfer(session, actor, part)
    if step not in STEPS:
        raise Invalid("Unknown step.", param="step")
    sources, target = STEPS[step]
    if part.status not in sources:
        raise Conflict(f"A {part.status.value} order cannot be moved with '{step}'.", param="step",
                       code="invalid_transition")
    part.status = target
    setattr(part, _STAMPS[target], utcnow())
    if note:
        part.tracking_note = note.strip()[:300]
    intent = part_intent(session, part)
    if step == "cancel":
        release(session, part.lines)
        _settle_cancelled_part(session, part, intent)
    elif step == "deliver" and intent is not None and part.order.payment_method == PaymentMethod.COD:
        payments.succeed(session, intent, intent.amount)  # the courier brought the cash
    if step in ("ship", "deliver", "cancel"):
        _notify(session, part.order, {"ship": "shipped", "deliver": "delivered", "cancel": "canceled"}[step])
    _complete_if_done(part.order)
    return part


def _settle_cancelled_part(session: Session, part: SellerOrder, intent: PaymentIntent | None) -> None:
    if intent is None:
        return
    if intent.status == IntentStatus.SUCCEEDED:
        already = intent.amount_received - intent.amount_refunded
        payments.create_refund(session, intent, min(part.subtotal, already), reason="seller_cancelled")
    elif intent.seller_order_id == part.id:
        payments.cancel(session, intent, "seller_cancelled")


def confirm_transfer(session: Session, actor: Actor, part: SellerOrder) -> SellerOrder:
    """The seller (or staff) saw the VietQR transfer arrive in the bank account."""
    intent = part_intent(session, part)
    if intent is None or part.order.payment_method != PaymentMethod.VIETQR:
        raise Conflict("This order is not paid by bank transfer.", code="not_a_transfer")
    if intent.status != IntentStatus.REQUIRES_ACTION:
        raise Conflict("This transfer is already confirmed or cancelled.", code="payment_intent_unexpected_state")
    payments.succeed(session, intent, intent.amount)
    return part


def _complete_if_done(order: Order) -> None:
    done = {FulfilmentStatus.DELIVERED, FulfilmentStatus.CANCELED}
    if order.status == OrderStatus.PLACED and all(part.status in done for part in order.parts):
        order.status = OrderStatus.COMPLETED


def _notify(session: Session, order: Order, kind: str) -> None:
    """Queue the buyer's e-mail about this order (through the outbox) when they gave an address."""
    if not order.buyer_email:
        return
    subject, body = order_email(order, kind)
    queue_email(session, to=order.buyer_email, subject=subject, body=body, tenant_id=order.tenant_id)
