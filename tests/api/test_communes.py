from __future__ import annotations

from service.audit.models import AuditEntry
from service.tenants.models import Tenant
from tests.api.conftest import assert_error


def test_public_list_and_branding(world, client):
    listing = client.get("/api/v1/communes")
    assert listing.status_code == 200
    assert [c["slug"] for c in listing.json["data"]] == ["cam-thanh", "nam-phuoc"]
    one = client.get("/api/v1/communes/nam-phuoc")
    assert one.status_code == 200
    assert one.json["name"] == "Nam Phước"
    assert one.json["tagline_vi"] == "Nam Phước - làng quê đáng sống"
    assert one.json["primary_color"] == "#1f6f50"
    assert one.json["url"] == "/c/nam-phuoc/"


def test_unknown_commune_is_a_json_404(world, client):
    for path in ("/api/v1/communes/atlantis", "/api/v1/communes/atlantis/products",
                 "/api/v1/communes/atlantis/products/1", "/api/v1/communes/atlantis/categories"):
        assert_error(client.get(path, headers=world.auth(world.a.tokens["admin"])), 404, "resource_missing", "commune")
    assert_error(client.patch("/api/v1/communes/atlantis", json={"name": "X"},
                              headers=world.auth(world.platform_admin_token)), 404)
    assert_error(client.get("/api/v1/no-such-thing"), 404)


def test_admin_updates_branding_with_an_audit_record(world, client):
    body = {"tagline_en": "Coconut forest", "primary_color": "#aa3300"}
    response = client.patch("/api/v1/communes/cam-thanh", json=body, headers=world.auth(world.a.tokens["admin"]))
    assert response.status_code == 200, response.json
    assert response.json["tagline_en"] == "Coconut forest"
    assert response.json["primary_color"] == "#aa3300"
    assert client.get("/api/v1/communes/cam-thanh").json["tagline_en"] == "Coconut forest"
    trail = client.get("/api/v1/communes/cam-thanh/audit?object_type=tenant",
                       headers=world.auth(world.a.tokens["admin"])).json["data"]
    assert len(trail) == 1
    assert trail[0]["action"] == "tenant.branding_updated"
    assert trail[0]["changes"]["primary_color"] == ["#1f6f50", "#aa3300"]
    assert trail[0]["actor_role"] == "admin"


def test_branding_is_for_admins_of_that_commune_only(world, client, count):
    before = count(AuditEntry)
    body = {"name": "Hijacked"}
    assert_error(client.patch("/api/v1/communes/cam-thanh", json=body), 401)
    assert_error(client.patch("/api/v1/communes/cam-thanh", json=body, headers=world.auth(world.a.tokens["editor"])),
                 403, "forbidden")
    assert_error(client.patch("/api/v1/communes/cam-thanh", json=body, headers=world.auth(world.b.tokens["admin"])),
                 404)
    assert_error(client.patch("/api/v1/communes/cam-thanh", json={"primary_color": "red"},
                              headers=world.auth(world.a.tokens["admin"])), 422, "invalid_value", "primary_color")
    assert_error(client.patch("/api/v1/communes/cam-thanh", json={"name": ""},
                              headers=world.auth(world.a.tokens["admin"])), 422, "invalid_value", "name")
    assert count(AuditEntry) == before
    assert client.get("/api/v1/communes/cam-thanh").json["name"] == "Cẩm Thanh"
    assert count(Tenant) == 2
