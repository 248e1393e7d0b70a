"""Printable QR codes and posters: the code read back from the pixels opens the page it should."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import segno
from flask import render_template
from PIL import Image

from service.catalog import services as catalog
from service.catalog.models import Product
from service.db import Scope, database
from service.feeds import qr
from service.feeds.qr_views import scan_url
from service.tenants.services import SYSTEM
from tests.tourism import make_listing

SVG_NS = "{http://www.w3.org/2000/svg}"
TAG = "?utm_source=qr&utm_medium=print"


def _base(app) -> str:
    return app.config["PUBLIC_BASE_URL"]


def _modules(png: bytes, scale: int, border: int = qr.QUIET_ZONE) -> list[list[bool]]:
    """The module matrix read from the PNG's pixels (the centre pixel of each module; dark = True)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    side = image.width // scale
    assert image.width == image.height == side * scale
    pixels = image.load()
    assert pixels is not None
    return [[pixels[col * scale + scale // 2, row * scale + scale // 2] < 128 for col in range(border, side - border)]
            for row in range(border, side - border)]


def _quiet_zone_is_light(png: bytes, scale: int, border: int = qr.QUIET_ZONE) -> bool:
    image = Image.open(io.BytesIO(png)).convert("L")
    edge = border * scale
    strips = [(0, 0, image.width, edge), (0, image.height - edge, image.width, image.height),
              (0, 0, edge, image.height), (image.width - edge, 0, image.width, image.height)]
    return all(min(image.crop(box).getdata()) > 200 for box in strips)


def _svg_modules(svg: bytes | str, border: int = qr.QUIET_ZONE) -> list[list[bool]]:
    """The module matrix drawn by the SVG's dark path (segno draws each run of dark modules as an h-line)."""
    root = ET.fromstring(svg)
    path = next(p for p in root.iter(f"{SVG_NS}path") if p.get("stroke"))
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, args in re.findall(r"([MmHh])([-0-9. ]+)", path.get("d", "")):
        numbers = [float(n) for n in args.split()]
        if command in "Mm":
            x, y = (numbers[0], numbers[1]) if command == "M" else (x + numbers[0], y + numbers[1])
        else:
            end = numbers[0] if command == "H" else x + numbers[0]
            dark.update((int(col), int(y)) for col in range(int(x), int(end)))
            x = end
    side = max(max(c for c, _ in dark), max(r for _, r in dark)) + 1 + border
    return [[(col, row) in dark for col in range(border, side - border)] for row in range(border, side - border)]


def _expected(url: str) -> list[list[bool]]:
    return [[bool(bit) for bit in row] for row in segno.make(url, error="q", micro=False, boost_error=False).matrix]


def _decoded(png: bytes) -> str:
    """The text a real QR reader finds in the image (zxing-cpp, a dev dependency)."""
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (dev dependency) is not installed")
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert len(results) == 1
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(results[0].text)


def _product_slug(app, commune, key: str) -> str:
    with app.app_context(), database(app).session(Scope(commune.id)) as session:
        product = session.get(Product, commune.products[key])
        assert product is not None
        return product.slug


def _their_product(app, commune) -> str:
    """A published product only the other commune has (the factory gives both communes the same titles)."""
    with app.app_context(), database(app).session(Scope(commune.id)) as session:
        product = catalog.create_product(session, SYSTEM, {
            "seller_id": commune.sellers["other"], "category_id": commune.categories["crafts"],
            "title_vi": "Chiếu cói Bàn Thạch", "price": 120_000, "stock": 3, "unit": "chiếc"})
        catalog.change_status(session, SYSTEM, product, "submit")
        catalog.change_status(session, SYSTEM, product, "approve")
        session.commit()
        return product.slug


# -- the pure functions ------------------------------------------------------------------------------------

def test_png_pixels_are_the_symbol_of_the_url_at_level_q_with_a_4_module_quiet_zone():
    url = "https://xaso.vn/c/cam-thanh/products/nuoc-mam-ca-com" + TAG
    png = qr.qr_png(url, scale=4)
    # An independent encoding of the same URL, compared module by module with what the pixels say.
    expected = segno.make(url, error="q", micro=False, boost_error=False)
    assert _modules(png, 4) == [[bool(bit) for bit in row] for row in expected.matrix]
    assert _quiet_zone_is_light(png, 4)
    assert expected.error == "Q"


def test_a_qr_reader_finds_the_url_in_the_png():
    url = "https://xaso.vn/c/cam-thanh/" + TAG
    assert _decoded(qr.qr_png(url, scale=4)) == url


def test_svg_is_xml_with_a_viewbox_matching_its_size():
    url = "https://xaso.vn/c/cam-thanh/stays/nha-vuon-dua" + TAG
    root = ET.fromstring(qr.qr_svg(url, scale=5))
    side = qr.side_modules(url) * 5
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox") == f"0 0 {side} {side}"
    assert root.get("width") == root.get("height") == str(side)
    assert root.findtext(f"{SVG_NS}title") == url
    assert _svg_modules(qr.qr_svg(url, scale=5)) == _expected(url)
    assert ET.fromstring(qr.qr_svg(url, dark="#123456")).find(f".//{SVG_NS}path[@stroke='#123456']") is not None


# -- the routes ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("size", "scale"), [("s", 4), ("m", 8), ("l", 16), (None, 8), ("huge", 8)])
def test_product_png_encodes_the_product_page_at_each_size(app, world, client, size, scale):
    slug = _product_slug(app, world.a, "published")
    query = f"?size={size}" if size else ""
    response = client.get(f"/c/cam-thanh/products/{slug}/qr.png{query}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    url = f"{_base(app)}/c/cam-thanh/products/{slug}{TAG}"
    side = qr.side_modules(url) * scale
    assert Image.open(io.BytesIO(response.data)).size == (side, side)
    assert _modules(response.data, scale) == _expected(url)
    assert "Content-Disposition" not in response.headers


def test_product_png_is_read_back_by_a_qr_reader(app, world, client):
    slug = _product_slug(app, world.a, "published")
    response = client.get(f"/c/cam-thanh/products/{slug}/qr.png?size=s")
    assert _decoded(response.data) == f"{_base(app)}/c/cam-thanh/products/{slug}{TAG}"


def test_commune_and_stay_codes_open_their_pages(app, world, client):
    listing = make_listing(app, world.a.id, world.a.sellers["own"])
    commune = client.get("/c/cam-thanh/qr.png")
    assert commune.status_code == 200
    assert _decoded(commune.data) == f"{_base(app)}/c/cam-thanh/{TAG}"
    stay = client.get(f"/c/cam-thanh/stays/{listing.slug}/qr.png")
    assert stay.status_code == 200
    assert _decoded(stay.data) == f"{_base(app)}/c/cam-thanh/stays/{listing.slug}{TAG}"
    svg = client.get(f"/c/cam-thanh/stays/{listing.slug}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    root = ET.fromstring(svg.data)
    assert root.findtext(f"{SVG_NS}title") == f"{_base(app)}/c/cam-thanh/stays/{listing.slug}{TAG}"
    assert root.get("viewBox", "").startswith("0 0 ")
    assert _svg_modules(svg.data) == _expected(f"{_base(app)}/c/cam-thanh/stays/{listing.slug}{TAG}")
    assert "sandbox" in svg.headers["Content-Security-Policy"]


def test_the_scan_url_is_lower_case_without_language(app):
    with app.app_context():
        assert scan_url("Cam-Thanh", "/Products/X") == f"{_base(app)}/c/cam-thanh/products/x{TAG}"


def test_unpublished_other_commune_and_unknown_formats_are_404(app, world, client):
    draft = _product_slug(app, world.a, "draft")
    pending = _product_slug(app, world.a, "pending")
    published = _product_slug(app, world.a, "published")
    theirs = _their_product(app, world.b)
    hidden = make_listing(app, world.a.id, world.a.sellers["own"], name="Nhà nháp", publish=False)
    for url in (f"/c/cam-thanh/products/{draft}/qr.png", f"/c/cam-thanh/products/{pending}/qr.svg",
                f"/c/cam-thanh/products/{draft}/poster", f"/c/cam-thanh/stays/{hidden.slug}/qr.svg",
                f"/c/cam-thanh/stays/{hidden.slug}/poster", f"/c/cam-thanh/products/{published}/qr.gif",
                "/c/cam-thanh/qr.jpg", "/c/khong-co/qr.svg", "/c/khong-co/poster"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/c/cam-thanh/products/{theirs}/qr.png").status_code == 404
    assert client.get(f"/c/cam-thanh/products/{theirs}/poster").status_code == 404
    assert client.get(f"/c/nam-phuoc/products/{theirs}/qr.png").status_code == 200
    # Nam Phước's stay slug does not exist in Cẩm Thanh.
    other_stay = make_listing(app, world.b.id, world.b.sellers["own"], name="Nhà Bên Sông Thu Bồn")
    assert client.get(f"/c/cam-thanh/stays/{other_stay.slug}/qr.png").status_code == 404
    assert client.get(f"/c/nam-phuoc/stays/{other_stay.slug}/qr.png").status_code == 200


def test_etag_cache_headers_and_304(app, world, client):
    slug = _product_slug(app, world.a, "published")
    url = f"/c/cam-thanh/products/{slug}/qr.svg"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=86400"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    # Another size or format is another image: another tag.
    assert client.get(f"/c/cam-thanh/products/{slug}/qr.png?size=l").headers["ETag"] != etag
    assert client.get(f"/c/cam-thanh/products/{slug}/qr.png?size=s",
                      headers={"If-None-Match": etag}).status_code == 200


def test_download_names_the_file_after_commune_and_object(app, world, client):
    slug = _product_slug(app, world.a, "published")
    png = client.get(f"/c/cam-thanh/products/{slug}/qr.png?download=1")
    assert png.headers["Content-Disposition"] == f'attachment; filename="cam-thanh-{slug}-qr.png"'
    large = client.get(f"/c/cam-thanh/products/{slug}/qr.png?size=l&download=1")
    assert large.headers["Content-Disposition"] == f'attachment; filename="cam-thanh-{slug}-qr-l.png"'
    svg = client.get("/c/cam-thanh/qr.svg?download=1")
    assert svg.headers["Content-Disposition"] == 'attachment; filename="cam-thanh-qr.svg"'


# -- posters ----------------------------------------------------------------------------------------------

def _inline_svg(html: str) -> str:
    """The poster's inline SVG element (well-formed, ours)."""
    start = html.index("<svg")
    svg = html[start:html.index("</svg>", start) + len("</svg>")]
    root = ET.fromstring(svg)
    assert root.get("class") == "qr"
    return svg


def test_product_poster_has_names_price_stars_seller_and_the_code(app, world, client):
    slug = _product_slug(app, world.a, "published")
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        product = session.get(Product, world.a.products["published"])
        assert product is not None
        product.title_en = "Anchovy fish sauce"
        product.seller.village = "Thôn Võng Nhi"
        session.commit()
    response = client.get(f"/c/cam-thanh/products/{slug}/poster")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nước mắm cá cơm" in html and "Anchovy fish sauce" in html
    assert "150.000 ₫" in html
    assert "OCOP ★★★★" in html and "★★★★★" not in html
    assert "Cơ sở Tư Tài Cẩm Thanh" in html and "Thôn Võng Nhi" in html
    assert "Quét mã để mua" in html and "Scan to buy" in html
    assert html.index("Quét mã để mua") < html.index("Scan to buy")
    assert f"{_base(app)}/c/cam-thanh/products/{slug}</p>" in html
    assert "@page { size: A6" in html and "<script" not in html
    svg = _inline_svg(html)
    url = f"{_base(app)}/c/cam-thanh/products/{slug}{TAG}"
    assert _svg_modules(svg) == _expected(url)


def test_product_poster_without_stars_says_nothing_of_ocop(app, world, client):
    slug = _product_slug(app, world.a, "cheap")
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        product = session.get(Product, world.a.products["cheap"])
        assert product is not None
        product.ocop_stars = None
        session.commit()
    html = client.get(f"/c/cam-thanh/products/{slug}/poster").get_data(as_text=True)
    assert "Giỏ tre" in html and "45.000 ₫" in html and "OCOP" not in html


def test_stay_and_commune_posters(app, world, client):
    listing = make_listing(app, world.a.id, world.a.sellers["own"])
    stay = client.get(f"/c/cam-thanh/stays/{listing.slug}/poster")
    assert stay.status_code == 200
    html = stay.get_data(as_text=True)
    assert "Nhà Vườn Dừa" in html and "Coconut Garden House" in html and "500.000 ₫" in html
    assert "Quét mã để đặt phòng" in html and "Scan to book" in html
    assert _svg_modules(_inline_svg(html)) == _expected(f"{_base(app)}/c/cam-thanh/stays/{listing.slug}{TAG}")
    commune = client.get("/c/cam-thanh/poster")
    assert commune.status_code == 200
    html = commune.get_data(as_text=True)
    assert "Cẩm Thanh" in html and "a village to love" in html and "@page { size: A4" in html
    assert _svg_modules(_inline_svg(html)) == _expected(f"{_base(app)}/c/cam-thanh/{TAG}")


@pytest.mark.parametrize(("kind", "path"), [("product", "products"), ("stay", "stays")])
def test_admin_partial_links_to_the_codes_and_poster(app, world, kind, path):
    with app.test_request_context("/c/cam-thanh/?lang=en"):
        app.preprocess_request()  # resolves the commune, as for an admin page
        html = render_template("admin/_qr_links.html", qr_kind=kind, qr_slug="nha-vuon")
    base = f"/c/cam-thanh/{path}/nha-vuon"
    assert f'href="{base}/qr.svg?download=1"' in html
    for size in "sml":
        assert f'href="{base}/qr.png?size={size}&amp;download=1"' in html
    assert f'href="{base}/poster"' in html
    assert "Printable poster (A6)" in html
