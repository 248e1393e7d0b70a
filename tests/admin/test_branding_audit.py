"""Branding (commune admin) and the audit log (staff)."""

from __future__ import annotations

import re

from sqlalchemy import select

from service.audit.models import AuditEntry
from service.db import PLATFORM, scoped
from service.tenants.models import Tenant
from tests.admin.helpers import count, sign_in, text

ADMIN = "/c/cam-thanh/admin"
BRANDING = {"name": "Cẩm Thanh", "district": "Hội An", "province": "Quảng Nam",
            "tagline_vi": "Rừng dừa Bảy Mẫu", "tagline_en": "The water coconut forest",
            "story_vi": "Xã ven biển.", "story_en": "A seaside commune.", "primary_color": "#0a5c8a"}


def _tenant(db_session, slug: str) -> Tenant:
    db_session.expire_all()
    with scoped(db_session, PLATFORM):
        tenant = db_session.scalar(select(Tenant).where(Tenant.slug == slug))
    assert tenant is not None
    return tenant


def test_admin_edits_branding_and_the_public_home_changes(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    page = text(client.get(f"{ADMIN}/branding"))
    assert 'value="Cẩm Thanh - làng quê đáng sống"' in page
    response = client.post(f"{ADMIN}/branding", data=BRANDING)
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/branding")
    tenant = _tenant(db_session, "cam-thanh")
    assert tenant.tagline_vi == "Rừng dừa Bảy Mẫu" and tenant.district == "Hội An"
    assert tenant.primary_color == "#0a5c8a" and tenant.story_en == "A seaside commune."
    assert _tenant(db_session, "nam-phuoc").tagline_vi == "Nam Phước - làng quê đáng sống"
    with scoped(db_session, PLATFORM):
        [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "tenant.branding_updated"))
    assert entry.tenant_id == world.a.id and entry.actor_role == "admin"
    assert entry.changes["tagline_vi"] == ["Cẩm Thanh - làng quê đáng sống", "Rừng dừa Bảy Mẫu"]
    assert "name" not in entry.changes  # unchanged fields are not recorded
    home = client.get("/c/cam-thanh/")
    if home.status_code != 404:  # the public home page is built by another module
        assert home.status_code == 200
        assert "Rừng dừa Bảy Mẫu" in text(home)


def test_saving_unchanged_branding_records_nothing(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    client.post(f"{ADMIN}/branding", data=BRANDING)
    before = count(db_session, AuditEntry)
    assert client.post(f"{ADMIN}/branding", data=BRANDING).status_code == 303
    assert count(db_session, AuditEntry) == before


def test_invalid_branding_is_422_and_keeps_input(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    before = count(db_session, AuditEntry)
    response = client.post(f"{ADMIN}/branding?lang=en",
                           data=BRANDING | {"name": "", "primary_color": "green"})
    assert response.status_code == 422
    page = text(response)
    assert "Enter the commune&#39;s name" in page and "Colour must look like #1f6f50." in page
    assert 'value="Rừng dừa Bảy Mẫu"' in page
    tenant = _tenant(db_session, "cam-thanh")
    assert tenant.name == "Cẩm Thanh" and tenant.tagline_vi == "Cẩm Thanh - làng quê đáng sống"
    assert count(db_session, AuditEntry) == before


def test_editor_cannot_post_branding(client, db_session, world):
    sign_in(client, db_session, world.a.users["editor"])
    assert client.post(f"{ADMIN}/branding", data=BRANDING).status_code == 403
    assert _tenant(db_session, "cam-thanh").tagline_vi == "Cẩm Thanh - làng quê đáng sống"


def test_branding_shows_current_cover(client, db_session, world):
    with scoped(db_session, PLATFORM):
        tenant = db_session.scalar(select(Tenant).where(Tenant.slug == "cam-thanh"))
        assert tenant is not None
        tenant.cover_key = "covers/cam-thanh.jpg"
        db_session.commit()
    sign_in(client, db_session, world.a.users["admin"])
    page = text(client.get(f"{ADMIN}/branding"))
    assert re.search(r'<img src="/media/covers/cam-thanh.jpg" alt="[^"]+"', page)


def test_audit_log_shows_who_for_whom_what_when(client, db_session, world):
    sign_in(client, db_session, world.a.users["volunteer"])
    client.post(f"{ADMIN}/products/{world.a.products['pending']}/edit",
                data={"title_vi": "Mắm ruốc Cẩm Thanh", "price": "65.000", "stock": "3"})
    client.post("/logout")
    with client.session_transaction() as s:
        s.clear()
    sign_in(client, db_session, world.a.users["editor"])
    page = text(client.get(f"{ADMIN}/audit?lang=en"))
    rows = page.split('<tr class="audit-entry">')[1:]
    assert rows, page
    newest = rows[0]
    assert "volunteer Cẩm Thanh" in newest and "(Volunteer)" in newest  # who + role
    assert "Bà Năm Cẩm Thanh" in newest  # on behalf of
    assert "product.updated" in newest and f"product #{world.a.products['pending']}" in newest
    assert "60000 → 65000" in newest and "Mắm ruốc → Mắm ruốc Cẩm Thanh" in newest
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", newest)  # local time
    assert "Nam Phước" not in page.split("<main")[1]


def test_audit_log_filters_by_seller_and_pages(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    assisted = world.a.sellers["assisted"]
    for n in range(6):
        client.post(f"{ADMIN}/products/{world.a.products['pending']}/edit",
                    data={"title_vi": f"Mắm ruốc {n}", "price": "60.000"})
    # staff edits are not "on behalf": make some by the volunteer
    client.post("/logout")
    with client.session_transaction() as s:
        s.clear()
    sign_in(client, db_session, world.a.users["volunteer"])
    for n in range(2):
        client.post(f"{ADMIN}/products/{world.a.products['pending']}/edit",
                    data={"title_vi": f"Mắm ruốc v{n}", "price": "60.000"})
    client.post("/logout")
    with client.session_transaction() as s:
        s.clear()
    sign_in(client, db_session, world.a.users["admin"])
    page = text(client.get(f"{ADMIN}/audit?seller={assisted}&lang=en"))
    rows = page.split('<tr class="audit-entry">')[1:]
    with scoped(db_session, PLATFORM):
        expected = list(db_session.scalars(select(AuditEntry.action).where(
            AuditEntry.on_behalf_of_seller_id == assisted)))
    assert len(rows) == len(expected) and all("Bà Năm Cẩm Thanh" in row for row in rows)
    assert sum("volunteer Cẩm Thanh" in row for row in rows) == 2
    everything = text(client.get(f"{ADMIN}/audit?lang=en"))
    total = int(re.search(r"(\d+) entries", everything).group(1))  # type: ignore[union-attr]
    assert total > 20 and "Page 1 of 2" in everything
    second = text(client.get(f"{ADMIN}/audit?page=2&lang=en"))
    assert len(second.split('<tr class="audit-entry">')[1:]) == total - 20
