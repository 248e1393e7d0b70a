"""The feed URL machinery: formats by file name, access (public or token), ETag/Last-Modified and 304,
what is exported (published products of this commune only), languages, streaming, many batches."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from service.catalog import services as catalog
from service.catalog.models import Product, ProductStatus, Seller
from service.db import Scope, database
from service.feeds.access import new_token, settings_for
from service.feeds.items import BATCH
from service.tenants.services import SYSTEM
from tests.feeds.helpers import add_photo, edit_product, make_product

JSON = "/c/cam-thanh/feeds/products.json"
XML = "/c/cam-thanh/feeds/google-merchant.xml"


def _ids(client, url: str = JSON, **kwargs) -> list[int]:
    response = client.get(url, **kwargs)
    assert response.status_code == 200
    return [p["product_id"] for p in response.get_json()["products"]]


def _etag(client, url: str = JSON) -> str:
    response = client.get(url)
    assert response.status_code == 200
    response.get_data()  # a streamed body holds the request context until read
    return response.headers["ETag"]


def _protect(app, commune) -> str:
    with app.app_context():
        session = database(app).session(Scope(commune.id))
        token = new_token(settings_for(session, create=True))
        session.commit()
        session.close()
    return token


def test_unknown_feed_or_commune_is_404(world, client):
    assert client.get("/c/cam-thanh/feeds/products.xlsx").status_code == 404
    assert client.get("/c/cam-thanh/feeds/products.xlsx").get_json()["error"]
    assert client.get("/c/nowhere/feeds/products.json").status_code == 404
    assert client.get("/c/nowhere/feeds/report.json").status_code == 404


def test_public_feeds_need_no_token(world, client):
    for url in (JSON, XML, "/c/cam-thanh/feeds/report.json"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "public" in response.headers["Cache-Control"]
        assert response.get_data()


def test_token_feeds(app, world, client):
    token = _protect(app, world.a)
    for url in (JSON, XML, "/c/cam-thanh/feeds/report.json?marketplace=postmart"):
        assert client.get(url).status_code == 403, url
        joiner = "&" if "?" in url else "?"
        assert client.get(f"{url}{joiner}token=wrong").status_code == 403
        assert client.get(f"{url}{joiner}token={token}").get_data()
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.headers["Cache-Control"].startswith("private")
        assert response.get_data()
    assert client.get(JSON, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get(JSON).get_json()["error"]["code"] == "feed_token_required"
    # A new token replaces the old one; the other commune's feeds stay public.
    newer = _protect(app, world.a)
    assert client.get(f"{JSON}?token={token}").status_code == 403
    assert client.get(f"{JSON}?token={newer}").get_json()["products"]
    assert client.get("/c/nam-phuoc/feeds/products.json").get_json()["products"]


def test_etag_and_last_modified_answer_304(world, client):
    for url in (JSON, XML, "/c/cam-thanh/feeds/report.json"):
        first = client.get(url)
        first.get_data()
        etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b""
        assert again.headers["ETag"] == etag
        assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
        assert client.get(url, headers={"If-None-Match": '"other"'}).get_data()
        # If-None-Match wins over If-Modified-Since
        assert client.get(url, headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified}
                          ).get_data()
    # Each format and language has its own validator.
    assert len({_etag(client, JSON), _etag(client, XML), _etag(client, JSON + "?lang=en")}) == 3


def test_etag_changes_with_what_the_feed_shows(app, world, client):
    product = make_product(app, world.a, "Mắm nêm")
    seen = {_etag(client)}

    edit_product(app, world.a, product, price=160_000)
    seen.add(_etag(client))
    assert len(seen) == 2

    add_photo(app, world.a, product)  # catalog._sync_cover touches the product
    seen.add(_etag(client))
    assert len(seen) == 3

    with app.app_context():
        session = database(app).session(Scope(world.a.id))
        seller = session.get(Seller, world.a.sellers["own"])
        assert seller is not None
        catalog.update_seller(session, SYSTEM, seller, {"name": "Cơ sở Tư Tài mới"})
        session.commit()
        session.close()
    seen.add(_etag(client))
    assert len(seen) == 4
    assert "Cơ sở Tư Tài mới" in {p["seller"]["name"] for p in client.get(JSON).get_json()["products"]}

    make_product(app, world.a, "Mắm mới", status="pending")
    assert _etag(client) in seen  # not exported yet: same feed
    with app.app_context():
        session = database(app).session(Scope(world.a.id))
        pending = session.query(Product).filter_by(status=ProductStatus.PENDING_REVIEW).all()
        for row in pending:
            catalog.change_status(session, SYSTEM, row, "approve")
        session.commit()
        session.close()
    seen.add(_etag(client))
    assert len(seen) == 5


def test_only_published_products_of_the_commune(app, world, client):
    draft = make_product(app, world.a, "Nháp", status="draft")
    pending = make_product(app, world.a, "Chờ duyệt", status="pending")
    archived = make_product(app, world.a, "Lưu trữ", status="archived")
    published = make_product(app, world.a, "Đã đăng")
    other = make_product(app, world.b, "Của Nam Phước")
    ids = _ids(client)
    assert published in ids
    assert not {draft, pending, archived, other, world.a.products["draft"], world.a.products["pending"]} & set(ids)
    assert not set(world.b.products.values()) & set(ids)
    assert other in _ids(client, "/c/nam-phuoc/feeds/products.json")
    google = ET.fromstring(client.get(XML).get_data())
    exported = {item.findtext("{http://base.google.com/ns/1.0}id") for item in google.iter("item")}
    assert exported == {f"cam-thanh-{published}"}
    report = client.get("/c/cam-thanh/feeds/report.json").get_json()
    assert not {draft, pending, archived, other} & {e["product_id"] for e in report["items"]}


def test_feeds_stream(world, client):
    for url in (JSON, XML, "/c/cam-thanh/feeds/report.json"):
        response = client.get(url)
        assert response.is_streamed, url
        assert response.get_data()
    download = client.get(JSON + "?download=1")
    assert download.headers["Content-Disposition"] == 'attachment; filename="cam-thanh-products.json"'
    assert download.get_json()["products"]


def test_many_batches_are_exported_once_in_order(app, world, client):
    count = BATCH * 2 + 200
    with app.app_context():
        session = database(app).session(Scope(world.a.id))
        session.add_all([
            Product(tenant_id=world.a.id, seller_id=world.a.sellers["other"], slug=f"bulk-{n}",
                    title_vi=f"Sản phẩm {n}", price=1000 + n, stock=n % 3, status=ProductStatus.PUBLISHED)
            for n in range(count)
        ])
        session.commit()
        session.close()
    ids = _ids(client)
    assert len(ids) == count + 2  # and the world's two published products
    assert ids == sorted(set(ids))
    english = client.get(JSON + "?lang=en").get_json()["products"]
    assert [p["product_id"] for p in english] == ids
    report = client.get("/c/cam-thanh/feeds/report.json").get_json()["items"]
    assert [e["product_id"] for e in report] == ids  # none has a photo: all fail Google's rules
