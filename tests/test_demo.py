"""The demo loader: realistic communes through the real services, idempotent, with images."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select, update

from service.accounts.models import User
from service.accounts.services import authenticate
from service.audit.models import AuditEntry
from service.catalog import services as catalog
from service.catalog.models import Category, Product, ProductStatus, Seller
from service.db import PLATFORM, Scope, database, scoped
from service.demo import COMMUNES, DEMO_PASSWORD, load_demo
from service.media.models import MediaAsset
from service.media.storage import LocalStorage
from service.tenants.models import Membership, Role, Tenant
from service.tenants.services import SYSTEM, create_tenant


def _counts(session) -> dict[str, int]:
    return {
        name: session.scalar(select(func.count()).select_from(model))
        for name, model in [("tenants", Tenant), ("users", User), ("memberships", Membership),
                            ("sellers", Seller), ("categories", Category), ("products", Product),
                            ("audit", AuditEntry)]
    }


def _load(app, media: Path, reset: bool = False):
    # The demo files reports and polls through the services, which read the app's settings (secret, URLs).
    with app.app_context(), database(app).session(PLATFORM) as session:
        logins = load_demo(session, LocalStorage(media), reset=reset)
        session.commit()
    return logins


def _has_vietnamese_marks(text: str) -> bool:
    return "đ" in text.lower() or any(
        unicodedata.category(ch) == "Mn" for ch in unicodedata.normalize("NFD", text))


def test_demo_content_images_and_idempotence(app, tmp_path):
    media = tmp_path / "demo-media"
    logins = _load(app, media)

    with database(app).session(PLATFORM) as session:
        counts = _counts(session)
        assert counts["tenants"] >= 3
        assert counts["products"] >= 45
        published = session.scalar(select(func.count()).select_from(Product)
                                   .where(Product.status == ProductStatus.PUBLISHED))
        assert published >= 40
        statuses = set(session.scalars(select(Product.status)))
        assert {ProductStatus.PENDING_REVIEW, ProductStatus.DRAFT} <= statuses  # work for moderators

        slugs = set(session.scalars(select(Tenant.slug)))
        assert {"cam-thanh", "nam-phuoc", "binh-loi"} <= slugs
        for tenant in session.scalars(select(Tenant)):
            assert tenant.tagline_vi and tenant.tagline_en and tenant.story_vi.count("\n\n") >= 1
            cover = session.scalars(select(MediaAsset).where(MediaAsset.key == tenant.cover_key)).one()
            assert (cover.width, cover.height) == (1600, 900) and cover.alt_vi and cover.alt_en
            assert sorted({v["width"] for v in cover.variants if not v.get("role")}) == [320, 800, 1600]

        products = list(session.scalars(select(Product)))
        assert all(_has_vietnamese_marks(p.title_vi) for p in products)
        assert all(p.title_en and p.description_vi and p.description_en and p.unit for p in products)
        assert all(1_000 <= p.price <= 2_000_000 for p in products)
        assert sum(1 for p in products if p.ocop_stars) >= 25
        assert all(p.ocop_certificate_number and p.ocop_certificate_year for p in products if p.ocop_stars)
        assert any(p.is_featured for p in products)
        keys = [p.cover_key for p in products]
        assert len(set(keys)) == len(keys) and all(keys)
        # Every product photo went through the pipeline: real WebP and JPEG variants on disk.
        assets = {asset.key: asset for asset in session.scalars(select(MediaAsset).where(MediaAsset.key.in_(keys)))}
        assert set(assets) == set(keys)
        for asset in assets.values():
            assert asset.is_ready and (asset.width, asset.height) == (800, 600) and asset.alt_vi
            assert sorted((v["width"], v["format"]) for v in asset.variants if not v.get("role")) == [
                (320, "jpeg"), (320, "webp"), (800, "jpeg"), (800, "webp")]
        variant = next(iter(assets.values())).variants[0]
        with Image.open(media / variant["key"]) as image:
            assert image.width == variant["width"]
            image.verify()

        # Households without a smartphone: consent recorded, listings made by the volunteer.
        assisted = list(session.scalars(select(Seller).where(Seller.assisted_listing_consent.is_(True))))
        assert assisted and all(s.user_id is None and s.consent_note and s.consent_recorded_at for s in assisted)
        on_behalf = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.actor_role == Role.VOLUNTEER.value, AuditEntry.on_behalf_of_seller_id.is_not(None)))
        assert on_behalf > 0

        # Each commune: 4-6 categories, staff of every role, a seller with a login.
        for spec in COMMUNES:
            tenant = session.scalar(select(Tenant).where(Tenant.slug == spec.slug))
            with scoped(session, Scope(tenant.id)):
                assert 4 <= session.scalar(select(func.count()).select_from(Category)) <= 6
                roles = set(session.scalars(select(Membership.role)))
                assert roles == set(Role)
                assert session.scalar(select(func.count()).select_from(Seller).where(Seller.user_id.is_not(None)))

        assert len(logins.accounts) == len({email for email, _ in logins.accounts}) == counts["users"]
        assert authenticate(session, "admin@cam-thanh.xaso.vn", DEMO_PASSWORD) is not None
        assert logins.password == DEMO_PASSWORD

    # Second run: nothing changes, images are left as they are.
    files = sorted(path for path in media.rglob("*") if path.is_file())
    mtimes = [path.stat().st_mtime_ns for path in files]
    again = _load(app, media)
    with database(app).session(PLATFORM) as session:
        assert _counts(session) == counts
    assert again.accounts == logins.accounts
    assert [path.stat().st_mtime_ns for path in files] == mtimes


def test_demo_reset_recreates_demo_and_keeps_other_communes(app, tmp_path):
    media = tmp_path / "demo-media"
    with database(app).session(PLATFORM) as session:
        other = create_tenant(session, slug="tra-que", name="Trà Quế")
        with scoped(session, Scope(other.id)):
            seller = catalog.create_seller(session, SYSTEM, {"name": "HTX Rau Trà Quế"})
            catalog.create_product(session, SYSTEM, {"seller_id": seller.id, "title_vi": "Rau húng Trà Quế",
                                                     "price": 20_000})
        session.commit()
        other_id = other.id
    _load(app, media)
    with database(app).session(PLATFORM) as session:
        before = _counts(session)
        with scoped(session, Scope(other_id)):
            session.execute(update(Product).values(stock=7))  # a change the reset must not undo
        # A change to demo data that the reset does undo.
        session.execute(update(Product).where(Product.tenant_id != other_id).values(stock=0))
        session.commit()

    _load(app, media, reset=True)
    with database(app).session(PLATFORM) as session:
        assert _counts(session) == before
        assert session.scalar(select(func.count()).select_from(Product).where(
            Product.tenant_id != other_id, Product.stock > 0)) > 40
        with scoped(session, Scope(other_id)):
            assert [p.stock for p in session.scalars(select(Product))] == [7]


def test_demo_pages_render(app, tmp_path):
    _load(app, Path(app.config["MEDIA_ROOT"]))
    client = app.test_client()
    home = client.get("/c/cam-thanh/")
    assert home.status_code == 200
    html = home.get_data(as_text=True)
    assert "Cẩm Thanh" in html and 'type="image/webp"' in html
    cover = client.get(re.search(r'<img src="([^"]+\.jpg)"', html).group(1))
    assert cover.status_code == 200 and cover.mimetype == "image/jpeg"
    # the staff dashboard has weeks of past orders and stays to show (service.dashboard.demo)
    assert client.post("/login", data={"email": COMMUNES[0].email(Role.EDITOR), "password": DEMO_PASSWORD}
                       ).status_code == 302
    dashboard = client.get(f"/c/{COMMUNES[0].slug}/admin/?lang=en").get_data(as_text=True)
    weeks = re.search(r'<table[^>]*id="orders-by-week".*?<tbody>(.*?)</tbody>', dashboard, re.S).group(1)
    orders = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', weeks)]
    assert len(orders) == 12 and sum(orders) >= 12 and min(orders[1:]) >= 1
    stays = re.search(r'<table[^>]*id="occupancy".*?</table>', dashboard, re.S).group(0)
    assert re.search(r'<td class="num">[1-9]\d* %</td>', stays)  # some week's rooms were booked
    assert dashboard.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 7
