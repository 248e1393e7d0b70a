"""What a seller's dashboard shows: its parts of orders to fulfil, its stock running low, the VNPay
money the commune holds for it, and its own VietQR code.

Payouts: only VNPay money passes through the commune (its merchant account); VietQR transfers reach the
seller's own bank and cash on delivery the seller's hand, so neither is owed. A VNPay payment covers a whole
order, so it is split by the order's parts: each part's share is its subtotal. The shipping fee is not a
seller's: it stays with the commune, which pays the courier. Refunds of a VNPay payment do not say which
part they return, so they are attributed in the way the money was sent back: a part cancelled by its seller
is refunded its subtotal (``service.orders.services._settle_cancelled_part``), first come first served in
the order of cancellation; whatever remains (a refund made by staff through the API) is shared by the parts
still standing in proportion to their subtotals, in whole đồng. Owed = collected minus refunds that
succeeded. There is no payout ledger yet: the page shows what is owed to date, which the commune pays out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from service.catalog.models import Product, ProductStatus, Seller
from service.orders.models import FulfilmentStatus, Order, PaymentMethod, SellerOrder
from service.payments import vietqr
from service.payments.models import IntentStatus, PaymentIntent, RefundStatus

# A published product with this many left or fewer is "running low" (there is no per-product threshold).
LOW_STOCK_THRESHOLD = 5
# Enough rows for a phone on a slow line; the full lists are one link away.
ORDERS_SHOWN = 50
LOW_STOCK_SHOWN = 50
PAYOUT_ROWS_SHOWN = 50
# Parts the seller has to move on: prepare and pack, then hand to the courier.
TO_FULFIL = (FulfilmentStatus.CONFIRMED, FulfilmentStatus.PACKED)


def sellers_of_account(session: Session, user_id: int) -> list[Seller]:
    """The commune's sellers this account sells for (usually one)."""
    return list(session.scalars(select(Seller).where(Seller.user_id == user_id).order_by(Seller.name, Seller.id)))


# -- orders ------------------------------------------------------------------------------------

def _needs_action(seller_ids: Sequence[int]) -> ColumnElement[bool]:
    """Confirmed or packed parts, and VietQR parts whose transfer the seller has to look out for."""
    awaiting_transfer = and_(SellerOrder.status == FulfilmentStatus.AWAITING_PAYMENT,
                             Order.payment_method == PaymentMethod.VIETQR)
    return and_(SellerOrder.seller_id.in_(seller_ids), or_(SellerOrder.status.in_(TO_FULFIL), awaiting_transfer))


def parts_to_fulfil(session: Session, seller_ids: Sequence[int], limit: int = ORDERS_SHOWN) -> list[SellerOrder]:
    """The sellers' parts that wait for them, oldest order first (the buyer has waited longest)."""
    statement = (select(SellerOrder).join(Order, Order.id == SellerOrder.order_id)
                 .where(_needs_action(seller_ids)).order_by(Order.created_at, SellerOrder.id).limit(limit))
    return list(session.scalars(statement))


def count_to_fulfil(session: Session, seller_ids: Sequence[int]) -> int:
    statement = (select(func.count()).select_from(SellerOrder).join(Order, Order.id == SellerOrder.order_id)
                 .where(_needs_action(seller_ids)))
    return session.scalar(statement) or 0


def status_counts(session: Session, seller_ids: Sequence[int]) -> dict[str, int]:
    """How many of the sellers' parts are in each fulfilment status (every status, zero included)."""
    rows = session.execute(select(SellerOrder.status, func.count()).where(SellerOrder.seller_id.in_(seller_ids))
                           .group_by(SellerOrder.status)).all()
    counts = {status.value: 0 for status in FulfilmentStatus}
    for status, number in rows:
        counts[FulfilmentStatus(status).value] = number
    return counts


# -- stock -------------------------------------------------------------------------------------

def low_stock(session: Session, seller_ids: Sequence[int], threshold: int = LOW_STOCK_THRESHOLD,
              limit: int = LOW_STOCK_SHOWN) -> list[Product]:
    """Published products with ``threshold`` or fewer left, sold-out first."""
    statement = (select(Product).where(Product.seller_id.in_(seller_ids), Product.status == ProductStatus.PUBLISHED,
                                       Product.stock <= threshold)
                 .order_by(Product.stock, Product.title_vi, Product.id).limit(limit))
    return list(session.scalars(statement))


# -- payouts -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PayoutLine:
    """One part of an order paid through VNPay: what was collected for it and what went back."""

    part_id: int
    order_number: str
    status: FulfilmentStatus
    paid_at: datetime | None
    collected: int
    refunded: int

    @property
    def owed(self) -> int:
        return self.collected - self.refunded


@dataclass
class Payouts:
    seller: Seller
    lines: list[PayoutLine] = field(default_factory=list)  # newest payment first

    @property
    def collected(self) -> int:
        return sum(line.collected for line in self.lines)

    @property
    def refunded(self) -> int:
        return sum(line.refunded for line in self.lines)

    @property
    def owed(self) -> int:
        return self.collected - self.refunded


@dataclass(frozen=True)
class PaidPart:
    """A part of an order a VNPay payment covers, as far as sharing out refunds goes."""

    id: int
    seller_id: int
    subtotal: int
    canceled: bool
    canceled_at: datetime | None


def share_pro_rata(amount: int, weights: Sequence[int]) -> list[int]:
    """``amount`` split in proportion to ``weights``, in whole units that add up exactly (largest remainder;
    a tie goes to the earlier weight)."""
    total = sum(weights)
    if amount <= 0 or total <= 0:
        return [0] * len(weights)
    shares = [amount * weight // total for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in by_remainder[:amount - sum(shares)]:
        shares[i] += 1
    return shares


def allocate_refunds(refunded: int, parts: Sequence[PaidPart]) -> dict[int, int]:
    """The refunded đồng of one payment, by part id (see the module's docstring for the rule)."""
    allocation = {part.id: 0 for part in parts}
    left = refunded
    cancelled = sorted((part for part in parts if part.canceled),
                       key=lambda part: (part.canceled_at is None, part.canceled_at or datetime.min, part.id))
    for part in cancelled:
        allocation[part.id] = min(part.subtotal, left)
        left -= allocation[part.id]
    standing = [part for part in parts if not part.canceled]
    # Anything beyond the standing parts' subtotals is the shipping fee going back: not a seller's.
    shares = share_pro_rata(min(left, sum(part.subtotal for part in standing)), [part.subtotal for part in standing])
    for part, share in zip(standing, shares, strict=True):
        allocation[part.id] = share
    return allocation


def _vnpay_intents(session: Session, seller_ids: Sequence[int]) -> list[PaymentIntent]:
    """Succeeded VNPay payments of orders in which these sellers have a part."""
    orders_with_part = select(SellerOrder.order_id).where(SellerOrder.seller_id.in_(seller_ids))
    statement = (select(PaymentIntent).where(PaymentIntent.payment_method == PaymentMethod.VNPAY.value,
                                             PaymentIntent.status == IntentStatus.SUCCEEDED,
                                             PaymentIntent.order_id.in_(orders_with_part))
                 .order_by(PaymentIntent.succeeded_at.desc(), PaymentIntent.id.desc()))
    return list(session.scalars(statement))


def payouts(session: Session, sellers: Sequence[Seller]) -> list[Payouts]:
    """For each seller, its share of VNPay collections minus refunds, by part of order."""
    result = {seller.id: Payouts(seller=seller) for seller in sellers}
    intents = _vnpay_intents(session, list(result))
    if not intents:
        return list(result.values())
    order_ids = {intent.order_id for intent in intents}
    parts_by_order: dict[int, list[PaidPart]] = defaultdict(list)
    numbers: dict[int, str] = {}
    rows = session.execute(
        select(SellerOrder.id, SellerOrder.order_id, SellerOrder.seller_id, SellerOrder.subtotal,
               SellerOrder.status, SellerOrder.canceled_at, Order.number)
        .join(Order, Order.id == SellerOrder.order_id)
        .where(SellerOrder.order_id.in_(order_ids)).order_by(SellerOrder.id)).all()
    statuses: dict[int, FulfilmentStatus] = {}
    for part_id, order_id, seller_id, subtotal, status, canceled_at, number in rows:
        parts_by_order[order_id].append(PaidPart(part_id, seller_id, subtotal, status == FulfilmentStatus.CANCELED,
                                              canceled_at))
        numbers[part_id] = number
        statuses[part_id] = FulfilmentStatus(status)
    for intent in intents:
        parts = parts_by_order[intent.order_id or 0]
        if intent.seller_order_id is not None:  # a payment of one part only
            parts = [part for part in parts if part.id == intent.seller_order_id]
        refunded = sum(refund.amount for refund in intent.refunds if refund.status == RefundStatus.SUCCEEDED)
        allocation = allocate_refunds(refunded, parts)
        for part in parts:
            if part.seller_id in result:
                result[part.seller_id].lines.append(PayoutLine(
                    part_id=part.id, order_number=numbers[part.id], status=statuses[part.id],
                    paid_at=intent.succeeded_at, collected=part.subtotal, refunded=allocation[part.id]))
    return list(result.values())


# -- VietQR ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SellerQr:
    seller: Seller
    payload: str
    svg: str  # an inline <svg> element
    bank_name: str


def seller_qr(seller: Seller) -> SellerQr | None:
    """The seller's static VietQR (no amount: the payer types it), or None without a bank account."""
    if not vietqr.has_bank_account(seller):
        return None
    data = vietqr.payload(bank_bin=seller.bank_bin, account_number=seller.bank_account_number, amount=None)
    bank = vietqr.BANKS.get(seller.bank_bin)
    return SellerQr(seller=seller, payload=data, svg=vietqr.svg_inline(data, title=f"VietQR {seller.name}"),
                    bank_name=bank.short_name if bank else seller.bank_bin)
