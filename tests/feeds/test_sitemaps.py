"""Sitemaps and robots.txt: parsed back with ElementTree, exactly the public URLs, split at the limit."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from service.db import Scope, database, utcnow
from service.engagement import announcements as notices
from service.feeds.sitemaps import MAX_URLS, Slice, plan_parts
from tests.feeds.helpers import make_product
from tests.tourism.test_explore import add_content

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def _get(client, path):
    """The whole response, closed: a streamed response holds its request (and database session) until then."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def _xml(response):
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "application/xml"
    return ET.fromstring(response.data)


def _urls(root):
    assert root.tag == f"{{{NS['s']}}}urlset"
    return {url.findtext("s:loc", namespaces=NS): url for url in root.findall("s:url", NS)}


def _announce(app, commune, title, *, publish=True, expired=False):
    with database(app).session(Scope(commune.id)) as session:
        found = notices.create_announcement(session, {"title_vi": title, "body_vi": "Nội dung."})
        if publish:
            notices.publish(session, found)
        if expired:
            found.publish_at = utcnow() - timedelta(days=3)
            found.expires_at = utcnow() - timedelta(days=1)
        session.commit()
        return found.slug


def _slug(app, product_id):
    from service.catalog.models import Product
    from service.db import PLATFORM

    with database(app).session(PLATFORM) as session:
        product = session.get(Product, product_id)
        assert product is not None
        return product.slug


# -- the split (pure) ------------------------------------------------------------------------------


def test_plan_parts_cuts_sections_at_the_limit_in_order():
    parts = plan_parts([("pages", 3), ("products", 5), ("stays", 0), ("places", 2)], limit=4)
    assert parts == [
        [Slice("pages", 0, 3), Slice("products", 0, 1)],
        [Slice("products", 1, 4)],
        [Slice("places", 0, 2)],
    ]
    assert all(sum(piece.count for piece in part) <= 4 for part in parts)


def test_plan_parts_exact_fit_and_empty():
    assert plan_parts([("pages", 4)], limit=4) == [[Slice("pages", 0, 4)]]
    assert plan_parts([("pages", 4), ("products", 1)], limit=4) == [[Slice("pages", 0, 4)],
                                                                       [Slice("products", 0, 1)]]
    assert plan_parts([], limit=4) == [[]]
    assert MAX_URLS == 50_000
    with pytest.raises(ValueError):
        plan_parts([("pages", 1)], limit=0)


def test_plan_parts_covers_every_row_once():
    counts = [("pages", 5), ("products", 123_456), ("stays", 7), ("announcements", 49_999)]
    parts = plan_parts(counts)
    assert len(parts) == 4
    seen: dict[str, list[tuple[int, int]]] = {}
    for part in parts:
        assert sum(piece.count for piece in part) <= MAX_URLS
        for piece in part:
            seen.setdefault(piece.section, []).append((piece.offset, piece.count))
    for name, count in counts:
        ranges = seen[name]
        assert ranges[0][0] == 0
        assert all(a[0] + a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
        assert sum(size for _, size in ranges) == count


# -- HTTP ------------------------------------------------------------------------------------------


def test_commune_sitemap_lists_exactly_the_public_urls(app, client, world):
    content = add_content(app, world.a)
    published = _slug(app, world.a.products["published"])
    cheap = _slug(app, world.a.products["cheap"])
    pending = _slug(app, world.a.products["pending"])
    draft = _slug(app, world.a.products["draft"])
    archived = _slug(app, make_product(app, world.a, "Mắm cũ", status="archived", photos=0))
    other = _slug(app, make_product(app, world.b, "Nước mắm Nam Phước riêng", photos=0))
    out = _announce(app, world.a, "Lịch tiêm phòng dại")
    hidden = _announce(app, world.a, "Bản nháp thông báo", publish=False)
    expired = _announce(app, world.a, "Thông báo đã hết hạn", expired=True)

    urls = _urls(_xml(_get(client, "/c/cam-thanh/sitemap.xml")))
    root = f"{app.config['PUBLIC_BASE_URL']}/c/cam-thanh"
    expected = {f"{root}/", f"{root}/products", f"{root}/stays", f"{root}/explore", f"{root}/announcements",
                f"{root}/products/{published}", f"{root}/products/{cheap}",
                f"{root}/stays/{content['stay']}", f"{root}/places/{content['tour']}",
                f"{root}/places/{content['village']}", f"{root}/events/{content['event']}",
                f"{root}/events/{content['past']}", f"{root}/stories/{content['story']}",
                f"{root}/stories/{content['unlocated']}", f"{root}/announcements/{out}"}
    assert set(urls) == expected
    for absent in (pending, draft, archived, other, content["draft"], hidden, expired):
        assert not any(url.endswith("/" + absent) for url in urls)

    for loc, url in urls.items():
        assert W3C.match(url.findtext("s:lastmod", namespaces=NS) or ""), loc
        links = {link.get("hreflang"): link.get("href") for link in url.findall("x:link", NS)}
        assert all(link.get("rel") == "alternate" for link in url.findall("x:link", NS))
        assert links == {"vi": loc, "en": f"{loc}?lang=en", "x-default": loc}


def test_part_one_is_the_same_list_and_beyond_is_404(client, world):
    whole = _get(client, "/c/cam-thanh/sitemap.xml").data
    assert _get(client, "/c/cam-thanh/sitemap-1.xml").data == whole
    assert _get(client, "/c/cam-thanh/sitemap-2.xml").status_code == 404
    assert _get(client, "/c/cam-thanh/sitemap-0.xml").status_code == 404
    assert _get(client, "/c/no-such-commune/sitemap.xml").status_code == 404


def test_escaping_of_urls_in_xml(app, client, world):
    make_product(app, world.a, "Nước mắm <đặc biệt> & ngon", photos=0)
    response = _get(client, "/c/cam-thanh/sitemap.xml")
    assert b"<loc>" in response.data and b"&lt;" not in response.data  # slugs are safe; the document parses
    _urls(_xml(response))


def test_sitemap_index_lists_each_commune_with_lastmod(app, client, world):
    make_product(app, world.b, "Bánh tráng", photos=0)
    base = app.config["PUBLIC_BASE_URL"]
    root = _xml(_get(client, "/sitemap.xml"))
    assert root.tag == f"{{{NS['s']}}}sitemapindex"
    listed = {entry.findtext("s:loc", namespaces=NS): entry.findtext("s:lastmod", namespaces=NS)
              for entry in root.findall("s:sitemap", NS)}
    assert set(listed) == {f"{base}/c/cam-thanh/sitemap.xml", f"{base}/c/nam-phuoc/sitemap.xml"}
    assert all(W3C.match(value or "") for value in listed.values())
    # every listed sitemap answers and is a urlset
    for loc in listed:
        _urls(_xml(_get(client, loc.removeprefix(base))))


def test_robots_txt(app, client):
    response = _get(client, "/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/c/*/admin/", "/c/*/cart", "/c/*/checkout", "/c/*/orders/", "/c/*/bookings/", "/api/",
                 "/login", "/c/*/feeds/", "/vnpay-sandbox"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /" not in lines
    assert f"Sitemap: {app.config['PUBLIC_BASE_URL']}/sitemap.xml" in lines
