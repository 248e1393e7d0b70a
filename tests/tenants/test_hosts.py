"""A commune is found from its Host header (sub-domain or own domain) as well as from /c/<slug>/."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service import create_app
from service.db import database
from service.tenants.models import Tenant
from tests.conftest import app_config


@pytest.fixture
def hosted_app(database_url, tmp_path, world):
    application = create_app(app_config(database_url, tmp_path, TENANT_BASE_DOMAIN="xaso.test"))
    with database(application).session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == world.b.slug))
        tenant.custom_domain = "xanamphuoc.gov.vn"
        session.commit()
    yield application
    database(application).engine.dispose()


def test_subdomain_serves_that_communes_pages(hosted_app):
    client = hosted_app.test_client()
    home = client.get("/", headers={"Host": "cam-thanh.xaso.test"})
    assert home.status_code == 200
    assert "Cẩm Thanh" in home.get_data(as_text=True)
    products = client.get("/products?lang=en", headers={"Host": "cam-thanh.xaso.test"}).get_data(as_text=True)
    assert "Nước mắm cá cơm" in products and "150.000 ₫" in products


def test_custom_domain_serves_its_commune(hosted_app):
    page = hosted_app.test_client().get("/", headers={"Host": "xanamphuoc.gov.vn"}).get_data(as_text=True)
    assert "Nam Phước" in page and "Cẩm Thanh" not in page


def test_base_domain_is_the_portal_and_unknown_subdomain_is_404(hosted_app):
    client = hosted_app.test_client()
    portal = client.get("/", headers={"Host": "xaso.test"}).get_data(as_text=True)
    assert "Cẩm Thanh" in portal and "Nam Phước" in portal
    assert client.get("/", headers={"Host": "no-such-xa.xaso.test"}).status_code == 404


def test_api_paths_are_not_rewritten_on_a_commune_host(hosted_app):
    response = hosted_app.test_client().get("/api/v1/communes", headers={"Host": "cam-thanh.xaso.test"})
    assert response.status_code == 200 and {c["slug"] for c in response.json["data"]} >= {"cam-thanh", "nam-phuoc"}
