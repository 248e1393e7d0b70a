"""Who may open the admin: anonymous visitors, members of other communes, each role."""

from __future__ import annotations

import pytest

from tests.admin.helpers import sign_in

# (method, path under /c/<slug>/admin, form) -- every route of the two admin blueprints.
ROUTES = [
    ("GET", "/", None),
    ("GET", "/products", None),
    ("GET", "/products/new", None),
    ("POST", "/products/new", {"seller_id": "{own}", "title_vi": "X", "price": "1.000"}),
    ("GET", "/products/{product}/edit", None),
    ("POST", "/products/{product}/edit", {"title_vi": "X", "price": "1.000"}),
    ("POST", "/products/{product}/status", {"action": "archive"}),
    ("POST", "/products/{product}/images", {}),
    ("POST", "/products/{product}/images/{image}", {"op": "remove"}),
    ("GET", "/moderation", None),
    ("GET", "/sellers", None),
    ("GET", "/sellers/new", None),
    ("POST", "/sellers/new", {"name": "Hộ mới"}),
    ("GET", "/sellers/{seller}/edit", None),
    ("POST", "/sellers/{seller}/edit", {"name": "Đổi tên"}),
    ("GET", "/sellers/{seller}/dashboard", None),
    ("GET", "/categories", None),
    ("GET", "/categories/new", None),
    ("POST", "/categories/new", {"name_vi": "Mới"}),
    ("GET", "/categories/{category}/edit", None),
    ("POST", "/categories/{category}/edit", {"name_vi": "Đổi"}),
    ("POST", "/categories/{category}/delete", {}),
    ("GET", "/branding", None),
    ("POST", "/branding", {"name": "Đổi tên", "primary_color": "#123456"}),
    ("GET", "/audit", None),
    ("GET", "/orders", None),
    ("GET", "/orders/{part}", None),
    ("POST", "/orders/{part}", {"step": "pack"}),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in ROUTES]


def _fill(text: str, commune) -> str:
    return text.format(own=commune.sellers["own"], product=commune.products["draft"],
                       seller=commune.sellers["other"], category=commune.categories["crafts"],
                       image=1, part=1)  # ids checked after the product/commune: never reached elsewhere


def _call(client, method, slug, path, form, ids_from):
    url = f"/c/{slug}/admin" + _fill(path, ids_from)
    data = {k: _fill(v, ids_from) for k, v in (form or {}).items()}
    return client.get(url) if method == "GET" else client.post(url, data=data)


def test_every_admin_route_is_walked(app):
    rules = {
        (method, rule.rule.removeprefix("/c/<commune>/admin")
         .replace("<int:product_id>", "{product}").replace("<int:seller_id>", "{seller}")
         .replace("<int:category_id>", "{category}").replace("<int:image_id>", "{image}")
         .replace("<int:part_id>", "{part}"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("tenant_admin", "catalog_admin", "orders_admin")
        for method in rule.methods or ()
        if method in ("GET", "POST")
    }
    assert rules == {(method, path) for method, path, _ in ROUTES}


@pytest.mark.parametrize(("method", "path", "form"), ROUTES, ids=ROUTE_IDS)
def test_anonymous_is_sent_to_login(client, world, method, path, form):
    response = _call(client, method, world.a.slug, path, form, world.a)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(("method", "path", "form"), ROUTES, ids=ROUTE_IDS)
def test_member_of_another_commune_gets_404(client, db_session, world, method, path, form):
    sign_in(client, db_session, world.a.users["admin"])
    response = _call(client, method, world.b.slug, path, form, world.b)
    assert response.status_code == 404


ID_ROUTES = [route for route in ROUTES if "{" in route[1] + "".join((route[2] or {}).values())]


@pytest.mark.parametrize(("method", "path", "form"), ID_ROUTES, ids=[f"{m} {p}" for m, p, _ in ID_ROUTES])
def test_other_communes_ids_under_own_url_get_404(client, db_session, world, method, path, form):
    sign_in(client, db_session, world.a.users["admin"])
    response = _call(client, method, world.a.slug, path, form, world.b)
    assert response.status_code == 404


def test_signed_in_non_member_gets_404(client, db_session, world):
    sign_in(client, db_session, world.b.users["seller"])
    assert client.get(f"/c/{world.a.slug}/admin/").status_code == 404
    assert client.get(f"/c/{world.a.slug}/admin/products").status_code == 404


STAFF_ONLY = ["/moderation", "/sellers", "/categories", "/categories/new", "/audit", "/sellers/{seller}/edit",
              "/categories/{category}/edit", "/sellers/{seller}/dashboard"]


@pytest.mark.parametrize("role", ["seller", "volunteer"])
@pytest.mark.parametrize("path", STAFF_ONLY)
def test_staff_pages_refuse_sellers_and_volunteers(client, db_session, world, role, path):
    sign_in(client, db_session, world.a.users[role])
    assert client.get(f"/c/{world.a.slug}/admin" + _fill(path, world.a)).status_code == 403


@pytest.mark.parametrize("role", ["admin", "editor"])
@pytest.mark.parametrize("path", STAFF_ONLY)
def test_staff_pages_open_for_staff(client, db_session, world, role, path):
    sign_in(client, db_session, world.a.users[role])
    assert client.get(f"/c/{world.a.slug}/admin" + _fill(path, world.a)).status_code == 200


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("editor", 403), ("volunteer", 403), ("seller", 403)])
def test_branding_is_for_the_admin_only(client, db_session, world, role, status):
    sign_in(client, db_session, world.a.users[role])
    assert client.get(f"/c/{world.a.slug}/admin/branding").status_code == status


def test_seller_cannot_register_sellers(client, db_session, world):
    sign_in(client, db_session, world.a.users["seller"])
    assert client.get(f"/c/{world.a.slug}/admin/sellers/new").status_code == 403
    assert client.post(f"/c/{world.a.slug}/admin/sellers/new", data={"name": "X"}).status_code == 403


@pytest.mark.parametrize("role", ["admin", "editor", "volunteer", "seller"])
def test_dashboard_and_nav_per_role(client, db_session, world, role):
    sign_in(client, db_session, world.a.users[role])
    page = client.get(f"/c/{world.a.slug}/admin/?lang=en").get_data(as_text=True)
    assert "Dashboard" in page
    assert ("Review queue" in page) == (role in ("admin", "editor"))
    assert ("Audit log" in page) == (role in ("admin", "editor"))
    assert ('href="/c/cam-thanh/admin/branding"' in page) == (role == "admin")


def test_platform_admin_may_open_any_commune_admin(client, db_session, world):
    sign_in(client, db_session, "root@xaso.test")
    assert client.get(f"/c/{world.b.slug}/admin/branding").status_code == 200
    assert client.get(f"/c/{world.b.slug}/admin/products/{world.b.products['draft']}/edit").status_code == 200
