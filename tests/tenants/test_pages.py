"""Portal and commune home pages, language switching and the HTML 404."""

from __future__ import annotations

from service.db import PLATFORM, database
from service.tenants.models import Tenant
from service.tenants.services import tenant_by_slug, update_branding


def _html(response) -> str:
    return response.get_data(as_text=True)


def _set_branding(app, slug: str, **fields) -> None:
    with app.app_context():
        session = database(app).session(PLATFORM)
        tenant = tenant_by_slug(session, slug)
        assert isinstance(tenant, Tenant)
        update_branding(session, tenant, fields)
        session.commit()
        session.close()


def test_portal_lists_every_active_commune(world, client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = _html(response)
    assert '<html lang="vi">' in html
    assert "Cẩm Thanh" in html and "Nam Phước" in html
    assert 'href="/c/cam-thanh/"' in html and 'href="/c/nam-phuoc/"' in html
    assert "Cẩm Thanh - làng quê đáng sống" in html  # Vietnamese tagline by default
    assert "Quảng Nam" in html
    assert 'hreflang="vi"' in html and 'hreflang="en"' in html
    assert 'rel="alternate"' in html


def test_portal_hides_inactive_communes_and_shows_covers(world, app, client):
    with app.app_context():
        session = database(app).session(PLATFORM)
        tenant = tenant_by_slug(session, "nam-phuoc")
        assert tenant is not None
        tenant.is_active = False
        session.commit()
        session.close()
    _set_branding(app, "cam-thanh", cover_key="tenants/cam-thanh/cover.jpg")
    html = _html(client.get("/"))
    assert "Cẩm Thanh" in html
    assert "Nam Phước" not in html
    assert 'src="/media/tenants/cam-thanh/cover.jpg"' in html
    assert client.get("/c/nam-phuoc/").status_code == 404


def test_portal_in_english_sets_the_language_cookie(world, client):
    response = client.get("/?lang=en")
    html = _html(response)
    assert '<html lang="en">' in html
    assert "Communes on XaSo" in html
    assert "Cẩm Thanh - a village to love" in html
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("lang=en") for c in cookies)
    # remembered: the next page without ?lang is still English
    again = _html(client.get("/c/cam-thanh/"))
    assert '<html lang="en">' in again
    assert "Featured products" in again
    # and switching back works
    assert '<html lang="vi">' in _html(client.get("/c/cam-thanh/?lang=vi"))


def test_commune_home_shows_branding_and_only_published_products(world, client):
    response = client.get("/c/cam-thanh/")
    assert response.status_code == 200
    html = _html(response)
    assert "<h1>Cẩm Thanh</h1>" in html
    assert "Cẩm Thanh - làng quê đáng sống" in html
    assert "Nước mắm cá cơm" in html and "150.000 ₫" in html
    assert "Giỏ tre" in html and "45.000 ₫" in html
    assert "Mắm ruốc" not in html  # pending review
    assert "Rổ mây" not in html  # draft
    assert 'href="/c/cam-thanh/products/nuoc-mam-ca-com"' in html
    assert 'href="/c/cam-thanh/products"' in html
    assert "Nước mắm" in html and "Thủ công" in html  # categories
    assert 'href="/c/cam-thanh/products?category=nuoc-mam"' in html
    assert "--brand: #1f6f50" in html
    # nothing of the other commune leaks in
    assert "Nam Phước" not in html


def test_commune_home_in_english(world, app, client):
    html = _html(client.get("/c/cam-thanh/?lang=en"))
    assert '<html lang="en">' in html
    assert "Cẩm Thanh - a village to love" in html
    assert "Featured products" in html and "See all products" in html
    assert "Fish sauce" in html and "Crafts" in html
    assert f'hreflang="vi" href="{app.config["PUBLIC_BASE_URL"]}/c/cam-thanh/"' in html


def test_commune_story_is_split_into_escaped_paragraphs(world, app, client):
    _set_branding(app, "cam-thanh", story_vi="Rừng dừa Bảy Mẫu.\n\nThuyền thúng <script>alert(1)</script>",
                  story_en="Coconut forest.", primary_color="#aa3300", cover_key="covers/ct.jpg")
    html = _html(client.get("/c/cam-thanh/"))
    assert "<p>Rừng dừa Bảy Mẫu.</p>" in html
    assert "<p>Thuyền thúng &lt;script&gt;alert(1)&lt;/script&gt;</p>" in html
    assert "<script>alert" not in html
    assert "--brand: #aa3300" in html
    assert 'src="/media/covers/ct.jpg"' in html
    english = _html(client.get("/c/cam-thanh/?lang=en"))
    assert "<p>Coconut forest.</p>" in english


def test_unknown_commune_is_a_friendly_html_404(world, client):
    response = client.get("/c/khong-co/?lang=en")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = _html(response)
    assert "Page not found" in html
    assert 'href="/"' in html
    assert client.get("/c/khong-co/products").status_code == 404
    assert client.get("/no-such-page").status_code == 404


def test_header_shows_admin_link_to_members_only(world, client):
    from tests.factories import login

    anonymous = _html(client.get("/c/cam-thanh/?lang=en"))
    assert 'href="/c/cam-thanh/admin/"' not in anonymous
    assert "Sign in" in anonymous

    login(client, world.a.users["editor"])
    member = _html(client.get("/c/cam-thanh/?lang=en"))
    assert 'href="/c/cam-thanh/admin/"' in member
    assert "Sign out" in member
    # the same user is no member of the other commune
    other = _html(client.get("/c/nam-phuoc/?lang=en"))
    assert "/admin/" not in other
    assert "Sign out" in other
