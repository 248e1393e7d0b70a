"""Security headers: a CSP allowing only our own assets, HSTS behind TLS, and proxies trusted only when told."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import render_template_string, request

from service import create_app
from service.core.observability import media_origins
from service.db import database
from tests.conftest import app_config


def csp(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def make_app(database_url, tmp_path):
    built = []

    def make(**extra):
        application = create_app(app_config(database_url, tmp_path, **extra))

        @application.get("/_probe")
        def probe():
            return render_template_string('<script nonce="{{ csp_nonce() }}">1</script>{{ addr }}',
                                          addr=request.remote_addr)

        built.append(application)
        return application

    yield make
    for application in built:
        database(application).engine.dispose()


def test_a_page_gets_every_header(world, client):
    response = client.get("/c/cam-thanh/")
    assert response.status_code == 200
    policy = csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'" and re.fullmatch(r"'nonce-[\w-]{20,}'", policy["script-src"][1])
    assert len(policy["script-src"]) == 2  # no 'unsafe-inline', no other origin
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]  # the brand colour is a style attribute
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"][0] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "geolocation=(self)" in response.headers["Permissions-Policy"]
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "microphone=()" in response.headers["Permissions-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain http
    # Every stylesheet and script the page loads is ours.
    for url in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', response.get_data(as_text=True)):
        if "stylesheet" in url or url.endswith((".css", ".js")):
            assert url.startswith("/"), url


def test_the_nonce_is_per_response_and_matches_the_page(make_app):
    client = make_app().test_client()
    nonces = []
    for _ in range(2):
        response = client.get("/_probe")
        nonce = re.search(r'nonce="([^"]+)"', response.get_data(as_text=True)).group(1)
        assert f"'nonce-{nonce}'" in csp(response)["script-src"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_the_api_gets_the_headers_too(app, client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert csp(response)["default-src"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-ID"]


def test_a_view_keeps_its_own_policy(world, client):
    response = client.get("/c/cam-thanh/qr.svg")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert response.headers.getlist("Content-Security-Policy") == [response.headers["Content-Security-Policy"]]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_hsts_only_over_https_from_a_trusted_proxy(make_app):
    behind_proxy = make_app(TRUSTED_PROXIES=1).test_client()
    secure = behind_proxy.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in behind_proxy.get("/healthz").headers
    # No proxy trusted: a client's own X-Forwarded-Proto is not believed.
    direct = make_app(TRUSTED_PROXIES=0).test_client()
    assert "Strict-Transport-Security" not in direct.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers
    assert "Strict-Transport-Security" in direct.get("/healthz", base_url="https://localhost").headers


def test_proxy_fix_gives_the_client_address(make_app):
    forwarded = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7"}
    behind_proxy = make_app(TRUSTED_PROXIES=1).test_client()
    assert behind_proxy.get("/_probe", headers=forwarded).get_data(as_text=True).endswith("203.0.113.7")
    two_hops = make_app(TRUSTED_PROXIES=2).test_client()
    assert two_hops.get("/_probe", headers=forwarded).get_data(as_text=True).endswith("198.51.100.9")
    direct = make_app().test_client()  # a spoofed header moves nothing: rate limits key on the real peer
    assert direct.get("/_probe", headers=forwarded).get_data(as_text=True).endswith("127.0.0.1")


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            if attributes.get("src"):
                self.scripts.append(attributes["src"])
            else:
                self.inline_scripts += 1
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.styles.append(attributes["href"])


def _allows(sources: list[str], url: str) -> bool:
    return url.startswith("/") or any(url.startswith(source + "/") for source in sources if "://" in source)


def test_swagger_ui_loads_its_cdn_files_under_its_policy(app, client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    policy = csp(response)
    assets = _Assets()
    assets.feed(response.get_data(as_text=True))
    assert assets.scripts and assets.styles and assets.inline_scripts == 1
    for url in assets.scripts:
        assert _allows(policy["script-src"], url), url
    for url in assets.styles:
        assert _allows(policy["style-src"], url), url
    assert "'unsafe-inline'" in policy["script-src"]  # flask-smorest's own start-up script
    assert "https://cdn.jsdelivr.net" in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    # The relaxation is for that page only.
    other = csp(client.get("/api/openapi.json"))
    assert "'unsafe-inline'" not in other["script-src"] and "https://cdn.jsdelivr.net" not in other["script-src"]


def test_media_from_s3_and_vnpay_forms_are_allowed(make_app):
    client = make_app(S3_PUBLIC_BASE_URL="https://cdn.xaso.example/media",
                      VNPAY_PAY_URL="https://sandbox.vnpayment.vn/paymentv2/vpcpay.html").test_client()
    policy = csp(client.get("/healthz"))
    assert "https://cdn.xaso.example" in policy["img-src"]
    assert policy["form-action"] == ["'self'", "https://sandbox.vnpayment.vn"]


def test_media_origins_for_s3():
    assert media_origins({}) == []
    assert media_origins({"S3_BUCKET": "xaso", "S3_REGION": "ap-southeast-1"}) == [
        "https://xaso.s3.amazonaws.com", "https://xaso.s3.ap-southeast-1.amazonaws.com"]
    assert media_origins({"S3_BUCKET": "xaso", "S3_ENDPOINT_URL": "http://minio:9000/"}) == [
        "http://minio:9000", "http://xaso.minio:9000"]


def test_a_commune_host_from_the_ingress_is_believed_only_behind_a_trusted_proxy(world, make_app):
    host = {"X-Forwarded-Host": "cam-thanh.xaso.example", "X-Forwarded-Proto": "https"}
    behind_proxy = make_app(TRUSTED_PROXIES=1, TENANT_BASE_DOMAIN="xaso.example").test_client()
    page = behind_proxy.get("/", headers=host)
    assert page.status_code == 200
    assert '<a class="commune-name"' in page.get_data(as_text=True)  # the commune's own home
    assert "Strict-Transport-Security" in page.headers
    direct = make_app(TENANT_BASE_DOMAIN="xaso.example").test_client()
    assert '<a class="commune-name"' not in direct.get("/", headers=host).get_data(as_text=True)  # the portal


# Inline scripts that still need nonce="{{ csp_nonce() }}" (the lead's template edits): the list may only shrink.
SCRIPTS_AWAITING_A_NONCE: set[str] = set()


def test_inline_scripts_carry_the_nonce():
    templates = Path(__file__).resolve().parents[2] / "frontend_templates"
    missing = set()
    for path in templates.rglob("*.html"):
        source = re.sub(r"{#.*?#}", "", path.read_text(encoding="utf-8"), flags=re.S)
        for tag in re.findall(r"<script\b[^>]*>", source):
            data_block = re.search(r'type="application/(ld\+)?json"', tag)
            if "src=" not in tag and not data_block and "csp_nonce()" not in tag:
                missing.add(path.relative_to(templates).as_posix())
    assert missing <= SCRIPTS_AWAITING_A_NONCE, f"inline <script> without a nonce (blocked by the CSP): {missing}"
    for path in templates.rglob("*.html"):
        assert not re.search(r"\son[a-z]+=\"", path.read_text(encoding="utf-8")), f"inline event handler in {path}"
