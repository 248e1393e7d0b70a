"""How one VNPay payment's refunds are attributed to the order's parts (pure logic, no database)."""

from __future__ import annotations

from datetime import datetime

import pytest

from service.dashboard.seller import PaidPart, allocate_refunds, share_pro_rata


def part(part_id: int, subtotal: int, canceled_minute: int | None = None) -> PaidPart:
    canceled_at = datetime(2026, 11, 27, 8, canceled_minute) if canceled_minute is not None else None
    return PaidPart(id=part_id, seller_id=part_id * 10, subtotal=subtotal, canceled=canceled_minute is not None,
                 canceled_at=canceled_at)


@pytest.mark.parametrize(("amount", "weights", "expected"), [
    (24_000, [150_000, 90_000], [15_000, 9_000]),
    (100, [1, 1, 1], [34, 33, 33]),  # the odd đồng goes to the earliest of equal remainders
    (10, [1, 2], [3, 7]),  # 3.33 and 6.67: the larger remainder takes the spare unit
    (0, [5, 5], [0, 0]),
    (7, [], []),
    (5, [0, 0], [0, 0]),
])
def test_shares_are_whole_and_add_up(amount, weights, expected):
    shares = share_pro_rata(amount, weights)
    assert shares == expected
    if weights and sum(weights):
        assert sum(shares) == amount


def test_a_cancelled_part_takes_its_own_refund_and_the_rest_is_shared():
    parts = [part(1, 150_000), part(2, 90_000), part(3, 45_000, canceled_minute=5)]
    assert allocate_refunds(45_000 + 24_000, parts) == {1: 15_000, 2: 9_000, 3: 45_000}


def test_cancelled_parts_are_refunded_in_the_order_they_were_cancelled():
    parts = [part(1, 100_000, canceled_minute=9), part(2, 100_000, canceled_minute=3), part(3, 50_000)]
    # only 150.000 came back so far: the part cancelled first is whole, the later one partly
    assert allocate_refunds(150_000, parts) == {1: 50_000, 2: 100_000, 3: 0}


def test_nothing_refunded_leaves_every_part_whole():
    assert allocate_refunds(0, [part(1, 10_000), part(2, 20_000, canceled_minute=1)]) == {1: 0, 2: 0}


def test_a_refund_beyond_the_goods_is_the_shipping_fee_and_no_sellers():
    # the order cost 300.000 of goods + 30.000 shipping, refunded in full: each part loses its subtotal only
    assert allocate_refunds(330_000, [part(1, 200_000), part(2, 100_000)]) == {1: 200_000, 2: 100_000}
