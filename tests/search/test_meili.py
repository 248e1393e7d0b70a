"""The Meilisearch backend without a server: query and settings translation, documents, tenant
tokens, and the outbox that carries changes (Meilisearch down = a closed port, a real refusal)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from service import create_app
from service.catalog import services as catalog
from service.catalog.models import Product
from service.db import PLATFORM, Scope, TenantScopeError, database, scoped
from service.jobs import outbox
from service.jobs.models import OutboxMessage
from service.search import get_backend
from service.search.backend import SearchQuery
from service.search.meili import (
    TOPIC,
    MeiliBackend,
    MeiliConfig,
    document,
    filter_expression,
    index_settings,
    quote,
    result_from,
    search_params,
    sort_expression,
)
from service.search.models import SearchEntry
from service.tenants.services import SYSTEM
from tests.conftest import app_config
from tests.factories import build_world

SEARCH_KEY_UID = str(uuid.uuid4())
SEARCH_KEY = "search-only-key-for-tests"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def meili_app(database_url, tmp_path):
    """The app with SEARCH_BACKEND=meilisearch and Meilisearch unreachable."""
    application = create_app(app_config(
        database_url, tmp_path, SEARCH_BACKEND="meilisearch", MEILI_URL=closed_port_url(), MEILI_KEY="master",
        MEILI_TIMEOUT=1, MEILI_SEARCH_KEY=SEARCH_KEY, MEILI_SEARCH_KEY_UID=SEARCH_KEY_UID,
        MEILI_PUBLIC_URL="https://search.xaso.vn"))
    yield application
    database(application).engine.dispose()


def _pending(app):
    with database(app).session(PLATFORM) as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None))
                                    .order_by(OutboxMessage.id)))


# -- translation ----------------------------------------------------------------------------

def test_every_commune_query_carries_the_tenant_filter_first():
    query = SearchQuery(q="nuoc mam", kind="product", category='a"b\\c', ocop_stars=(3, 5), price_min=1000,
                        price_max=200_000)
    assert filter_expression(Scope(7), query) == [
        "tenant_id = 7", 'kind = "product"', 'category_slug = "a\\"b\\\\c"', "ocop_stars IN [3, 5]",
        "price >= 1000", "price <= 200000"]
    assert filter_expression(PLATFORM, SearchQuery()) == []
    with pytest.raises(TenantScopeError):
        filter_expression(None, SearchQuery())
    assert quote("x") == '"x"'


def test_sorts_and_pages_translate():
    assert sort_expression(SearchQuery(q="mam")) == []
    assert sort_expression(SearchQuery()) == ["published_ts:desc", "object_id:desc"]
    assert sort_expression(SearchQuery(q="mam", sort="price_asc"))[0] == "price:asc"
    assert sort_expression(SearchQuery(sort="price_desc"))[0] == "price:desc"
    params = search_params(Scope(3), SearchQuery(q="mam", page=2, per_page=500))
    assert (params["page"], params["hitsPerPage"], params["filter"]) == (2, 100, ["tenant_id = 3"])
    assert set(params["facets"]) == {"category_facet", "ocop_stars", "price_range", "seller_facet", "commune_facet"}


def test_index_settings_make_every_filter_and_sort_possible():
    settings = index_settings()
    params = search_params(Scope(1), SearchQuery(q="x", kind="product", category="c", ocop_stars=(3,),
                                                 price_min=1, sort="price_asc"))
    used = {expression.split(" ")[0] for expression in params["filter"]}
    assert used | set(params["facets"]) <= set(settings["filterableAttributes"])
    assert {sort.split(":")[0] for sort in params["sort"]} <= set(settings["sortableAttributes"])
    assert settings["searchableAttributes"] == ["title_folded", "squashed", "body_folded"]
    assert settings["typoTolerance"]["enabled"] is True
    # synonyms are folded like the documents, both ways
    assert "nuoc mam" in settings["synonyms"]["mam"] and "mam" in settings["synonyms"]["nuoc mam"]
    assert all(word == word.lower() and word.isascii() for word in settings["synonyms"])


def test_documents_carry_folded_text_and_labelled_facets(app, world):
    with database(app).session(Scope(world.a.id)) as session:
        entry = session.scalars(select(SearchEntry).where(
            SearchEntry.object_id == world.a.products["published"])).one()
        doc = document(entry)
    assert doc["id"] == f"product-{world.a.id}-{world.a.products['published']}"
    assert (doc["title"], doc["title_folded"], doc["squashed"]) == ("Nước mắm cá cơm", "nuoc mam ca com",
                                                                     "nuocmamcacom")
    assert doc["tenant_id"] == world.a.id and doc["price_range"] == "100000-300000"
    assert doc["category_facet"] == "nuoc-mam|Nước mắm" and doc["commune_facet"] == "cam-thanh|Cẩm Thanh"
    assert doc["published_ts"] == int(entry.published_at.timestamp())


def test_a_meilisearch_response_becomes_a_search_result():
    response = {
        "hits": [{"id": "product-1-5", "kind": "product", "object_id": 5, "title": "Nước mắm", "url": "/c/x/p",
                  "price": 150000, "ocop_stars": 3, "category_slug": "nuoc-mam", "category_name": "Nước mắm",
                  "seller_slug": "tu-tai", "seller_name": "Tư Tài", "commune_slug": "cam-thanh",
                  "commune_name": "Cẩm Thanh", "published_at": "2026-11-01T02:00:00+00:00", "image_key": None,
                  "_rankingScore": 0.93}],
        "totalHits": 3, "page": 1, "hitsPerPage": 20,
        "facetDistribution": {"category_facet": {"nuoc-mam|Nước mắm": 2, "thu-cong|Thủ công": 1},
                              "ocop_stars": {"3": 1, "4": 2},
                              "price_range": {"1000000-": 1, "0-100000": 2}},
    }
    result = result_from(response, SearchQuery(q="mam"))
    assert result.total == 3 and result.hits[0].object_id == 5 and result.hits[0].score == pytest.approx(0.93)
    assert result.hits[0].published_at == datetime(2026, 11, 1, 2, tzinfo=UTC)
    assert [(f.value, f.label, f.count) for f in result.facets["category"]] == [
        ("nuoc-mam", "Nước mắm", 2), ("thu-cong", "Thủ công", 1)]
    assert [f.value for f in result.facets["ocop_stars"]] == ["4", "3"]
    assert [f.value for f in result.facets["price_range"]] == ["0-100000", "1000000-"]
    assert result.facets["seller"] == []


# -- tenant tokens --------------------------------------------------------------------------

def _jwt_payload(token: str, key: str) -> dict:
    header, payload, signature = token.split(".")
    expected = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "==") == expected
    return json.loads(base64.urlsafe_b64decode(payload + "=="))


def test_tenant_token_endpoint_signs_a_search_rule_for_the_commune_only(meili_app):
    world = build_world(meili_app)
    response = meili_app.test_client().get("/api/v1/communes/nam-phuoc/search/token")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["host"], body["index"]) == ("https://search.xaso.vn", "xaso_documents")
    claims = _jwt_payload(body["token"], SEARCH_KEY)
    assert claims["apiKeyUid"] == SEARCH_KEY_UID
    assert claims["searchRules"] == {"xaso_documents": {"filter": f"tenant_id = {world.b.id}"}}
    expires = datetime.fromisoformat(body["expires_at"])
    assert claims["exp"] == int(expires.timestamp())
    assert 3500 < (expires - datetime.now(UTC)).total_seconds() <= 3600


def test_tenant_token_is_unavailable_on_the_sql_backend(client, world):
    response = client.get("/api/v1/communes/cam-thanh/search/token")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "browser_search_unavailable"
    assert client.get("/api/v1/communes/nowhere/search/token").status_code == 404


# -- the outbox while Meilisearch is down -----------------------------------------------------

def test_changes_are_kept_in_the_outbox_while_meilisearch_is_down(meili_app):
    world = build_world(meili_app)
    with meili_app.app_context():
        assert isinstance(get_backend(), MeiliBackend)
    # Every published product of the world was announced, in the same transactions.
    announced = {(m.payload["tenant_id"], m.payload["object_id"]) for m in _pending(meili_app) if m.topic == TOPIC}
    assert (world.a.id, world.a.products["published"]) in announced
    before = len(_pending(meili_app))

    # A seller's change through the API succeeds although Meilisearch is down ...
    client = meili_app.test_client()
    product_id = world.a.products["published"]
    response = client.patch(f"/api/v1/communes/cam-thanh/products/{product_id}", json={"price": 155_000},
                            headers=world.auth(world.a.tokens["editor"]))
    assert response.status_code == 200, response.json
    # ... its message was tried right after the request and waits for the next attempt.
    pending = _pending(meili_app)
    assert len(pending) > before
    mine = [m for m in pending if m.payload == {"tenant_id": world.a.id, "kind": "product", "object_id": product_id}]
    assert mine and all(m.attempts >= 1 and "onnect" in (m.last_error or "") for m in mine)
    assert all(m.available_at > m.created_at for m in mine)


def test_a_rolled_back_change_announces_nothing(meili_app):
    build_world(meili_app)
    before = len(_pending(meili_app))
    with database(meili_app).session(PLATFORM) as session:
        product = session.scalars(select(Product)).first()
        with scoped(session, Scope(product.tenant_id)):
            catalog.update_product(session, SYSTEM, product, {"price": 99_000})
            session.flush()
            session.rollback()
    assert len(_pending(meili_app)) == before


def test_renaming_a_category_reindexes_its_products(meili_app):
    world = build_world(meili_app)
    with database(meili_app).session(Scope(world.a.id)) as session:
        session.query(OutboxMessage).delete()
        session.commit()
        category = catalog.get_category(session, world.a.categories["sauce"])
        catalog.update_category(session, SYSTEM, category, {"name_vi": "Nước chấm"})
        session.commit()
        names = set(session.scalars(select(SearchEntry.category_name).where(SearchEntry.category_slug.is_not(None),
                                                                            SearchEntry.title == "Nước mắm cá cơm")))
    assert names == {"Nước chấm"}
    assert [m.payload["object_id"] for m in _pending(meili_app)] == [world.a.products["published"]]


def test_search_answers_503_with_an_error_body_when_meilisearch_is_down(meili_app):
    build_world(meili_app)
    client = meili_app.test_client()
    response = client.get("/api/v1/communes/cam-thanh/search?q=nuoc+mam")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "search_unavailable"
    assert client.get("/api/v1/search/suggest?q=nuo").status_code == 503
    page = client.get("/c/cam-thanh/search?q=nuoc+mam")
    assert page.status_code == 503 and b"<html" in page.data


def test_relay_cli_reports_what_is_waiting(meili_app):
    build_world(meili_app)
    with meili_app.app_context(), database(meili_app).session(PLATFORM) as session:
        report = outbox.relay(session)
        assert report.delivered == 0 and report.retried > 0
        [(topic, pending, dead)] = outbox.status(session)
    assert (topic, dead) == (TOPIC, 0) and pending == report.retried


def test_meili_config_needs_a_url(app):
    app.config.update(SEARCH_BACKEND="meilisearch", MEILI_URL="")
    with app.app_context(), pytest.raises(RuntimeError, match="MEILI_URL"):
        MeiliConfig.from_app()


def test_cli_outbox_and_settings_commands(meili_app, database_url, tmp_path):
    from click.testing import CliRunner

    from service.cli import main

    build_world(meili_app)
    env = {"DATABASE_URL": database_url, "XASO_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "cli",
           "SEARCH_BACKEND": "meilisearch", "MEILI_URL": meili_app.config["MEILI_URL"], "MEILI_TIMEOUT": "1"}
    runner = CliRunner()
    waiting = len(_pending(meili_app))
    result = runner.invoke(main, ["outbox", "status"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and f"{TOPIC:<24} pending {waiting:>6}  dead      0" in result.output
    result = runner.invoke(main, ["outbox", "relay"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and f"delivered 0, to retry {waiting}, dead 0" in result.output
    result = runner.invoke(main, ["search", "settings", "apply"], env=env)
    assert result.exit_code != 0  # Meilisearch is not there: the operator sees the failure
    result = runner.invoke(main, ["search", "settings", "apply"], env={**env, "SEARCH_BACKEND": "sql"})
    assert result.exit_code != 0 and "needs SEARCH_BACKEND=meilisearch" in result.output
