from __future__ import annotations

from tests.api.conftest import assert_error
from tests.factories import PASSWORD


def test_issue_token_and_use_it(world, client):
    response = client.post("/api/v1/auth/tokens",
                           json={"email": "Seller@Cam-Thanh.test", "password": PASSWORD, "name": "phone"})
    assert response.status_code == 201
    body = response.json
    assert body["token"].startswith("xs_")
    assert body["user"]["email"] == "seller@cam-thanh.test"
    assert "password" not in body["user"] and "password_hash" not in body["user"]

    me = client.get("/api/v1/me", headers=world.auth(body["token"]))
    assert me.status_code == 200
    assert me.json["email"] == "seller@cam-thanh.test"
    assert me.json["communes"] == [{"slug": "cam-thanh", "name": "Cẩm Thanh", "role": "seller",
                                    "url": "/c/cam-thanh/", "api_url": "/api/v1/communes/cam-thanh"}]


def test_wrong_password_or_unknown_email_is_401(world, client):
    for email, password in (("seller@cam-thanh.test", "wrong-password"), ("nobody@cam-thanh.test", PASSWORD)):
        response = client.post("/api/v1/auth/tokens", json={"email": email, "password": password})
        error = assert_error(response, 401, code="invalid_credentials")
        assert error["type"] == "authentication_error"
        assert "token" not in response.json


def test_missing_password_is_422_with_param(world, client):
    assert_error(client.post("/api/v1/auth/tokens", json={"email": "seller@cam-thanh.test"}), 422,
                 code="invalid_value", param="password")


def test_failed_attempts_are_rate_limited(world, client, app):
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])  # "5 per minute;..."
    for _ in range(limit):
        response = client.post("/api/v1/auth/tokens", json={"email": "x@y.test", "password": "nope-nope"})
        assert response.status_code == 401
    response = client.post("/api/v1/auth/tokens", json={"email": "seller@cam-thanh.test", "password": PASSWORD})
    assert_error(response, 429)
    assert response.json["error"]["type"] == "rate_limit_error"


def test_successful_sign_ins_are_not_counted(world, client, app):
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit + 1):
        response = client.post("/api/v1/auth/tokens", json={"email": "seller@cam-thanh.test", "password": PASSWORD})
        assert response.status_code == 201


def test_me_needs_a_valid_token(world, client):
    assert_error(client.get("/api/v1/me"), 401)
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer xs_forged"}), 401)
    # Session cookies do not authenticate the API: only bearer tokens do.
    client.post("/login", data={"email": "admin@cam-thanh.test", "password": PASSWORD})
    assert_error(client.get("/api/v1/me"), 401)


def test_me_lists_every_commune_with_its_role(world, client):
    me = client.get("/api/v1/me", headers=world.auth(world.a.tokens["admin"]))
    assert [(c["slug"], c["role"]) for c in me.json["communes"]] == [("cam-thanh", "admin")]
    root = client.get("/api/v1/me", headers=world.auth(world.platform_admin_token))
    assert root.json["is_platform_admin"] is True
    assert root.json["communes"] == []
