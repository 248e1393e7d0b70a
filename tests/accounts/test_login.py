"""Sign-in and sign-out: sessions, safe redirects, rate limiting, CSRF and cookie flags."""

from __future__ import annotations

import re

import pytest

from service import create_app
from service.db import database
from tests.conftest import app_config
from tests.factories import PASSWORD, login

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _html(response) -> str:
    return response.get_data(as_text=True)


def _uid(client):
    with client.session_transaction() as sess:
        return sess.get("uid")


def test_login_form(world, client):
    response = client.get("/login?lang=en")
    assert response.status_code == 200
    html = _html(response)
    assert '<html lang="en">' in html
    assert 'name="csrf_token"' in html
    assert '<label for="email">E-mail</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'type="password"' in html


def test_login_success_goes_to_the_commune_admin(world, client):
    response = login(client, world.a.users["admin"])
    assert response.status_code == 302
    assert response.headers["Location"] == "/c/cam-thanh/admin/"
    assert _uid(client) is not None
    with client.session_transaction() as sess:
        assert sess.permanent
        assert len(sess["pwv"]) == 12
    html = _html(client.get("/c/cam-thanh/?lang=en"))
    assert "Sign out" in html and 'href="/c/cam-thanh/admin/"' in html


def test_login_e_mail_is_case_insensitive(world, client):
    response = login(client, "  ADMIN@Cam-Thanh.test ")
    assert response.status_code == 302


def test_user_without_commune_lands_on_the_portal(world, client):
    response = login(client, "root@xaso.test")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("email,password", [
    ("admin@cam-thanh.test", "wrong-password"),
    ("nobody@cam-thanh.test", PASSWORD),
    ("admin@cam-thanh.test", ""),
    ("", ""),
])
def test_login_failure_is_friendly_and_says_nothing_specific(world, client, email, password):
    response = client.post("/login?lang=en", data={"email": email, "password": password})
    assert response.status_code == 401
    html = _html(response)
    assert "The e-mail or password is not right." in html
    assert 'role="alert"' in html
    assert _uid(client) is None
    if email:
        assert f'value="{email}"' in html  # the e-mail is kept, the password is not
    assert "wrong-password" not in html


def test_login_follows_a_safe_next(world, client):
    response = client.post("/login", data={"email": world.a.users["seller"], "password": PASSWORD,
                                           "next": "/c/cam-thanh/products?sort=name"})
    assert response.headers["Location"] == "/c/cam-thanh/products?sort=name"


def test_next_from_the_query_string_is_kept_in_the_form(world, client):
    html = _html(client.get("/login?next=/c/cam-thanh/products"))
    assert '<input type="hidden" name="next" value="/c/cam-thanh/products">' in html
    response = client.post("/login?next=/c/cam-thanh/products",
                           data={"email": world.a.users["admin"], "password": PASSWORD})
    assert response.headers["Location"] == "/c/cam-thanh/products"


@pytest.mark.parametrize("target", [
    "//evil.com", "//evil.com/c/cam-thanh/", "https://evil.com/", "http:evil.com", "/\\evil.com",
    "\\\\evil.com", "javascript:alert(1)", "evil.com", "/%0d%0aSet-Cookie:x=1\r\n", " //evil.com",
    "/\tevil",
])
def test_unsafe_next_is_ignored(world, client, target):
    response = client.post("/login", data={"email": world.a.users["admin"], "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/c/cam-thanh/admin/"
    html = _html(client.get("/login", query_string={"next": target}))
    assert 'name="next"' not in html


def test_login_rotates_the_session(world, client):
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
    login(client, world.a.users["admin"])
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["uid"]


def test_logout_clears_the_session(world, client):
    login(client, world.a.users["admin"])
    assert _uid(client) is not None
    response = client.post("/logout?lang=en")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _uid(client) is None
    html = _html(client.get("/c/cam-thanh/?lang=en"))
    assert "Sign in" in html and "Sign out" not in html
    assert 'href="/c/cam-thanh/admin/"' not in html
    assert client.get("/logout").status_code == 405  # signing out takes a form POST


def test_sixth_bad_attempt_in_a_minute_is_rate_limited(world, client):
    for _ in range(5):
        response = client.post("/login", data={"email": world.a.users["admin"], "password": "nope-nope"})
        assert response.status_code == 401
    response = client.post("/login?lang=en", data={"email": world.a.users["admin"], "password": PASSWORD})
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    html = _html(response)
    assert "Too many attempts" in html
    assert "Too many sign-in attempts" in html
    assert _uid(client) is None
    # the form itself still shows
    assert client.get("/login").status_code == 200


def test_successful_sign_ins_do_not_use_up_the_limit(world, client):
    for _ in range(7):
        assert login(client, world.a.users["admin"]).status_code == 302


@pytest.fixture
def csrf_app(database_url, tmp_path, world):
    application = create_app(app_config(database_url, tmp_path, WTF_CSRF_ENABLED=True))
    yield application
    database(application).engine.dispose()


def test_login_without_csrf_token_is_rejected(csrf_app, world):
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": world.a.users["admin"], "password": PASSWORD})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    with client.session_transaction() as sess:
        assert "uid" not in sess


def test_login_with_the_forms_csrf_token_works(csrf_app, world):
    client = csrf_app.test_client()
    token = CSRF_RE.search(_html(client.get("/login"))).group(1)
    response = client.post("/login", data={"email": world.a.users["admin"], "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    # logout needs the token too; the header form carries a fresh one
    page = _html(client.get("/c/cam-thanh/"))
    assert client.post("/logout").status_code == 400
    with client.session_transaction() as sess:
        assert sess.get("uid")
    token = CSRF_RE.search(page).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    with client.session_transaction() as sess:
        assert "uid" not in sess


def test_production_session_cookie_is_secure_httponly_lax(database_url, tmp_path, world, monkeypatch):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.delenv("XASO_ENV", raising=False)
    config = app_config(database_url, tmp_path)
    del config["SESSION_COOKIE_SECURE"]
    application = create_app(config)
    try:
        assert application.config["SESSION_COOKIE_SECURE"] is True
        client = application.test_client()
        response = login(client, world.a.users["admin"])
        assert response.status_code == 302
        cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
        assert len(cookies) == 1
        flags = [part.strip().lower() for part in cookies[0].split(";")]
        assert "secure" in flags
        assert "httponly" in flags
        assert "samesite=lax" in flags
        assert any(flag.startswith("expires=") for flag in flags)  # permanent session
    finally:
        database(application).engine.dispose()
