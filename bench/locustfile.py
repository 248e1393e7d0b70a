"""Locust users for ``bench/load.py``: one class per scenario, no think time (closed loop at full speed).

Run by ``bench/load.py`` as ``locust -f bench/locustfile.py --headless ... <UserClass>``; the commune,
product slug, product id and buyer name come from BENCH_COMMUNE / BENCH_PRODUCT_SLUG / BENCH_PRODUCT_ID /
BENCH_BUYER_NAME.
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

COMMUNE = os.environ.get("BENCH_COMMUNE", "cam-thanh")
PRODUCT_SLUG = os.environ.get("BENCH_PRODUCT_SLUG", "")
PRODUCT_ID = os.environ.get("BENCH_PRODUCT_ID", "0")
BUYER = {"name": os.environ.get("BENCH_BUYER_NAME", "Khách thử tải"), "phone": "0905123456", "email": "",
         "province": "Quảng Nam", "district": "Hội An", "ward": "Cẩm Thanh", "street": "Thôn Võng Nhi", "note": "",
         "payment_method": "cod"}


class _Scenario(FastHttpUser):
    abstract = True
    wait_time = constant(0)


class BareUser(_Scenario):
    @task
    def bare(self) -> None:
        self.client.get("/bare", name="bare")


class HomeUser(_Scenario):
    @task
    def home(self) -> None:
        self.client.get(f"/c/{COMMUNE}/", name="home")


class ProductListUser(_Scenario):
    @task
    def product_list(self) -> None:
        self.client.get(f"/c/{COMMUNE}/products", name="product list")


class ProductPageUser(_Scenario):
    @task
    def product_page(self) -> None:
        self.client.get(f"/c/{COMMUNE}/products/{PRODUCT_SLUG}", name="product page")


class SearchUser(_Scenario):
    @task
    def search(self) -> None:
        with self.client.get(f"/c/{COMMUNE}/search?q=nuoc+mam", name="search", catch_response=True) as found:
            if found.status_code == 200 and f"/c/{COMMUNE}/products/nuoc-mam" not in (found.text or ""):
                found.failure("no fish sauce found")  # an empty index would make search look cheap


class CheckoutUser(_Scenario):
    """A complete cash-on-delivery order per iteration: put one item in the cart, then check out."""

    @task
    def checkout(self) -> None:
        with self.client.post(f"/c/{COMMUNE}/cart/add", data={"product_id": PRODUCT_ID, "quantity": "1"},
                              name="cart add", allow_redirects=False, catch_response=True) as added:
            if added.status_code != 303:
                added.failure(f"cart add answered {added.status_code}")
                return
        with self.client.post(f"/c/{COMMUNE}/checkout", data=BUYER, name="checkout (COD order)",
                              allow_redirects=False, catch_response=True) as ordered:
            if ordered.status_code != 303 or "/orders/" not in (ordered.headers.get("Location") or ""):
                ordered.failure(f"checkout answered {ordered.status_code}, no order")
