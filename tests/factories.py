"""Test data built through the real services, so tests arrange state the way users do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from service.accounts.services import create_user, find_user, issue_token
from service.catalog import services as catalog
from service.db import PLATFORM, Scope, database, scoped, set_scope
from service.tenants.models import Role
from service.tenants.services import SYSTEM, add_member, create_tenant

PASSWORD = "correct-horse-42"


@dataclass
class Commune:
    id: int
    slug: str
    users: dict[str, str] = field(default_factory=dict)  # role name -> e-mail
    tokens: dict[str, str] = field(default_factory=dict)  # role name -> bearer token
    sellers: dict[str, int] = field(default_factory=dict)  # "own" (has login), "assisted", "other"
    categories: dict[str, int] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    a: Commune
    b: Commune
    platform_admin_token: str

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def _commune(session: Any, slug: str, name: str) -> Commune:
    platform = SYSTEM
    tenant = create_tenant(session, slug=slug, name=name, province="Quảng Nam",
                           tagline_vi=f"{name} - làng quê đáng sống", tagline_en=f"{name} - a village to love")
    commune = Commune(id=tenant.id, slug=slug)
    for role in Role:
        user = create_user(session, email=f"{role.value}@{slug}.test", name=f"{role.value} {name}",
                           password=PASSWORD)
        add_member(session, tenant, user, role)
        commune.users[role.value] = user.email
        commune.tokens[role.value] = issue_token(session, user, "tests")
    with scoped(session, Scope(tenant.id)):
        seller_user = find_user(session, commune.users["seller"])
        assert seller_user is not None
        staff = platform
        own = catalog.create_seller(session, staff, {"name": f"Cơ sở Tư Tài {name}", "user_id": seller_user.id})
        assisted = catalog.create_seller(session, staff, {"name": f"Bà Năm {name}",
                                                          "assisted_listing_consent": True,
                                                          "consent_note": "Đồng ý tại nhà"})
        other = catalog.create_seller(session, staff, {"name": f"HTX Rau {name}"})
        commune.sellers = {"own": own.id, "assisted": assisted.id, "other": other.id}
        sauce = catalog.create_category(session, staff, {"name_vi": "Nước mắm", "name_en": "Fish sauce"})
        crafts = catalog.create_category(session, staff, {"name_vi": "Thủ công", "name_en": "Crafts"})
        commune.categories = {"sauce": sauce.id, "crafts": crafts.id}
        specs = [
            ("published", own, sauce, "Nước mắm cá cơm", 150_000, 4),
            ("cheap", other, crafts, "Giỏ tre", 45_000, 3),
            ("pending", assisted, sauce, "Mắm ruốc", 60_000, None),
            ("draft", own, crafts, "Rổ mây", 80_000, None),
        ]
        for key, seller, category, title, price, stars in specs:
            data: dict[str, Any] = {"seller_id": seller.id, "category_id": category.id, "title_vi": title,
                                    "title_en": "", "price": price, "stock": 10, "unit": "chai"}
            if stars:
                data |= {"ocop_stars": stars, "ocop_certificate_number": "OCOP-01", "ocop_certificate_year": 2023}
            product = catalog.create_product(session, staff, data)
            if key in ("published", "cheap", "pending"):
                catalog.change_status(session, staff, product, "submit")
            if key in ("published", "cheap"):
                catalog.change_status(session, staff, product, "approve")
            commune.products[key] = product.id
    return commune


def build_world(app: Flask) -> World:
    with app.app_context():
        session = database(app).session()
        set_scope(session, PLATFORM)
        a = _commune(session, "cam-thanh", "Cẩm Thanh")
        b = _commune(session, "nam-phuoc", "Nam Phước")
        admin = create_user(session, email="root@xaso.test", name="Province", password=PASSWORD,
                            is_platform_admin=True)
        token = issue_token(session, admin, "tests")
        session.commit()
        session.close()
    return World(a=a, b=b, platform_admin_token=token)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"email": email, "password": password}, follow_redirects=False)
