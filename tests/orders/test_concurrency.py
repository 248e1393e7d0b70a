"""200 buyers at once for the last 10 units: exactly 10 orders, stock 0, never negative
(PostgreSQL, real concurrent connections and transactions)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update

from service.catalog.models import Product
from service.core.errors import Conflict
from service.db import PLATFORM, Scope, database
from service.orders import services as orders
from service.orders.models import Order, OrderLine

BUYER = orders.Buyer(name="Khách", phone="0905123456", province="Quảng Nam", district="Hội An", ward="Cẩm Thanh",
                     street="1 Thôn 1")
BUYERS = 200
UNITS = 10


def test_two_hundred_checkouts_for_the_last_ten_units(app, world, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent writers are a PostgreSQL matter (SQLite serialises every writer)")
    product_id = world.a.products["published"]
    db = database(app)
    with db.session(PLATFORM) as session:
        session.execute(update(Product).where(Product.id == product_id).values(stock=UNITS))
        session.commit()

    def buy(_n: int) -> str:
        with db.session(Scope(world.a.id)) as session:
            try:
                orders.checkout(session, {product_id: 1}, BUYER, "cod", {"commune_slug": "cam-thanh"})
                session.commit()
                return "ok"
            except Conflict as error:
                session.rollback()
                return error.code

    with ThreadPoolExecutor(max_workers=40) as pool:  # 40 connections at a time, 200 checkouts in all
        results = list(pool.map(buy, range(BUYERS)))

    assert results.count("ok") == UNITS
    assert results.count("out_of_stock") == BUYERS - UNITS
    with db.session(PLATFORM) as session:
        assert session.get(Product, product_id).stock == 0
        assert session.scalar(select(func.count()).select_from(Order)) == UNITS
        assert session.scalar(select(func.sum(OrderLine.quantity))) == UNITS
