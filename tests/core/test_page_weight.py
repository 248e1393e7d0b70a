"""Page weight: every public page of a commune with the demo data, in Vietnamese and in English, weighs at
most 30 KB compressed (the HTML plus the same-origin stylesheets and scripts it links; images excluded).

The pages are found by following links from the portal and the commune's home, plus the pages only a form
leads to (an order, a booking, search results, error pages). Every public GET route of the app must be
walked or listed in EXCLUDED with its reason, so a new page cannot escape the check."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from service import create_app
from service.catalog.models import Product, ProductStatus
from service.db import PLATFORM, database
from service.demo import load_demo
from service.media.storage import LocalStorage
from service.tenants.models import Tenant
from service.tourism.models import Homestay, PublishStatus
from tests.conftest import app_config

BUDGET = 30 * 1024
COMMUNE = "cam-thanh"
PER_ENDPOINT = 3  # pages of one kind walked (the first ones met); their weight hardly differs

# Rules that are not pages (machine formats, files, back office, probes) by their shape.
NOT_PAGES_PREFIXES = ("/admin", "/api/", "/c/<commune>/admin", "/c/<commune>/api", "/static/", "/media/",
                      "/c/<commune>/feeds/", "/c/<commune>/open311/")
NOT_PAGES_SUFFIXES = (".xml", ".json", ".csv", ".ics", ".png", ".svg", ".atom", ".geojson", ".<fmt>", ".txt")

# Public GET routes deliberately not weighed, each with its reason.
EXCLUDED = {
    "/healthz": "liveness probe (JSON)",
    "/readyz": "readiness probe (JSON)",
    "/metrics": "Prometheus metrics (text)",
    "/payments/vnpay/ipn": "VNPay's server-to-server notification (JSON)",
    "/payments/vnpay/return": "VNPay's return: checks the signature and redirects to the order or booking",
    "/c/<commune>/poster": "printable A4 poster (a QR code to print, not a page to browse)",
    "/c/<commune>/products/<slug>/poster": "printable A4 poster (a QR code to print, not a page to browse)",
    "/c/<commune>/stays/<slug>/poster": "printable A4 poster (a QR code to print, not a page to browse)",
}


def public_page_rules(app: Flask) -> set[str]:
    rules = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if "GET" not in (rule.methods or ()) or path.startswith(NOT_PAGES_PREFIXES):
            continue
        if path.endswith(NOT_PAGES_SUFFIXES) or "sitemap" in path:
            continue
        rules.add(path)
    return rules


class _Links(HTMLParser):
    """The links, stylesheets and scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "a" and found.get("href"):
            self.links.append(found["href"])
        elif tag == "link" and "stylesheet" in found.get("rel", "").split() and found.get("href"):
            self.assets.append(found["href"])
        elif tag == "script" and found.get("src"):
            self.assets.append(found["src"])


def _same_origin_path(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "localhost"):
        return None
    if not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _compressed(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))  # nginx's and most CDNs' usual level


@pytest.fixture(scope="module")
def demo_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One SQLite app with the demo loaded, shared by the module (loading the demo takes a while)."""
    tmp_path = tmp_path_factory.mktemp("page-weight")
    shutil.copy(sqlite_template, tmp_path / "demo.db")
    app = create_app(app_config(f"sqlite:///{tmp_path / 'demo.db'}", tmp_path))
    with app.app_context(), database(app).session(PLATFORM) as session:
        load_demo(session, LocalStorage(Path(app.config["MEDIA_ROOT"])))
        session.commit()
    yield app
    database(app).engine.dispose()


def _through_the_forms(app: Flask, client: FlaskClient, weigh: Callable[[str], object], days_ahead: int) -> list[str]:
    """Cart, checkout form, order page, a stay's prices for dates and a booking page, reached through the
    real forms; returns the pages weighed."""
    with database(app).session(PLATFORM) as session:
        product = session.scalars(select(Product).where(Product.status == ProductStatus.PUBLISHED,
                                                        Product.stock > 0).order_by(Product.id)).first()
        stay = session.scalars(select(Homestay).where(Homestay.status == PublishStatus.PUBLISHED)
                               .order_by(Homestay.id)).first()
        assert product is not None and stay is not None
        commune, stay_commune = session.get(Tenant, product.tenant_id).slug, session.get(Tenant, stay.tenant_id).slug
        room_id = next(room.id for room in stay.room_types if room.is_active)
        stay_slug, product_id = stay.slug, product.id
    assert client.post(f"/c/{commune}/cart/add", data={"product_id": product_id}).status_code == 303
    pages = [f"/c/{commune}/cart", f"/c/{commune}/checkout"]  # while the cart holds the product
    for page in pages:
        weigh(page)
    buyer = {"name": "Nguyễn Thị Lan", "phone": "0905 123 456", "email": "", "province": "Quảng Nam",
             "district": "Hội An", "ward": "Cẩm Thanh", "street": "12 Thôn 2", "note": "", "payment_method": "cod"}
    response = client.post(f"/c/{commune}/checkout", data=buyer)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    check_in = date.today() + timedelta(days=days_ahead)
    dates = {"check_in": check_in.isoformat(), "check_out": (check_in + timedelta(days=2)).isoformat(), "guests": 1}
    guest = {"name": "Trần Văn Minh", "phone": "0905 123 456", "email": "minh@example.vn", "note": "",
             "room_type_id": room_id, "payment_option": "on_arrival", "payment_method": "", **dates}
    booked = client.post(f"/c/{stay_commune}/stays/{stay_slug}/book", data=guest)
    assert booked.status_code == 303, booked.get_data(as_text=True)[:500]
    more = [urlsplit(response.headers["Location"]).path, urlsplit(booked.headers["Location"]).path,
            f"/c/{stay_commune}/stays/{stay_slug}?" + "&".join(f"{key}={value}" for key, value in dates.items())]
    for page in more:
        weigh(page)
    return pages + more


def _walk(app: Flask, language: str) -> tuple[dict[str, int], set[str]]:
    """{page: compressed weight} and the rules walked."""
    client = app.test_client()
    client.set_cookie("lang", language)
    adapter = app.url_map.bind("localhost")
    rules = public_page_rules(app)
    endpoints = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    seen_per_rule: dict[str, int] = {}
    weights: dict[str, int] = {}
    asset_weights: dict[str, int] = {}
    walked: set[str] = set()

    def rule_of(path: str) -> str | None:
        try:
            endpoint, _ = adapter.match(urlsplit(path).path, method="GET")
        except HTTPException:
            return None
        return endpoints.get(str(endpoint))

    def weigh(path: str, expected: int = 200, followed: bool = False) -> _Links:
        response = client.get(path)
        if followed and response.status_code in (302, 303):
            return _Links()  # a link that leads elsewhere (the checkout with an empty cart): that page is walked
        assert response.status_code == expected, f"{path} answered {response.status_code}"
        assert response.mimetype == "text/html", f"{path} is {response.mimetype}"
        html = response.get_data()
        assert f'<html lang="{language}"'.encode() in html, f"{path} is not in {language}"
        links = _Links()
        links.feed(html.decode())
        total = _compressed(html)
        for asset in dict.fromkeys(links.assets):
            asset_path = _same_origin_path(asset)
            if asset_path is None:
                continue
            if asset_path not in asset_weights:
                fetched = client.get(asset_path)
                assert fetched.status_code == 200, f"{path} links {asset_path}, which answers {fetched.status_code}"
                asset_weights[asset_path] = _compressed(fetched.get_data())
            total += asset_weights[asset_path]
        weights[path] = total
        return links

    queue = ["/", f"/c/{COMMUNE}/"]
    queued = set(queue)
    while queue:
        path = queue.pop(0)
        rule = rule_of(path)
        if rule not in rules or rule in EXCLUDED:
            continue
        if seen_per_rule.get(rule, 0) >= PER_ENDPOINT:
            continue
        seen_per_rule[rule] = seen_per_rule.get(rule, 0) + 1
        walked.add(rule)
        for link in weigh(path, followed=True).links:
            target = _same_origin_path(link)
            if target is not None and "lang=" not in target and target not in queued:
                queued.add(target)
                queue.append(target)

    # search results (without diacritics), pages no link leads to, and the error page
    for path in [f"/c/{COMMUNE}/search?q=nuoc+mam", "/search?q=ca+com", f"/c/{COMMUNE}/reports/thanks",
                 f"/c/{COMMUNE}/reports/track", "/login"]:
        weigh(path)
        walked.add(str(rule_of(path)))
    for path in _through_the_forms(app, client, weigh, days_ahead=40 if language == "vi" else 50):
        walked.add(str(rule_of(path)))
    for path in ["/khong-co-trang-nay", f"/c/{COMMUNE}/products/khong-co-san-pham-nay"]:
        weigh(path, expected=404)
    return weights, walked


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_public_page_weighs_at_most_30_kb_compressed(demo_app: Flask, language: str) -> None:
    weights, walked = _walk(demo_app, language)
    missed = public_page_rules(demo_app) - walked - set(EXCLUDED)
    assert not missed, f"public pages neither walked nor excluded (with a reason) in EXCLUDED: {sorted(missed)}"
    assert len(weights) >= 40
    heaviest = sorted(weights.items(), key=lambda item: -item[1])
    report = "\n".join(f"{weight / 1024:6.1f} KB  {path}" for path, weight in heaviest[:15])
    over = [path for path, weight in heaviest if weight > BUDGET]
    assert not over, f"pages over {BUDGET // 1024} KB compressed ({language}):\n{report}"
    print(f"\nheaviest pages ({language}, {len(weights)} weighed):\n{report}")
