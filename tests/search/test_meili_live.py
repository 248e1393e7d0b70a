"""The Meilisearch backend against a real Meilisearch: set MEILI_URL (and MEILI_KEY, the master
key) to run these; each test works in an index of its own and deletes it afterwards."""

from __future__ import annotations

import os
import uuid

import meilisearch
import pytest
from sqlalchemy import select

from service import create_app
from service.db import PLATFORM, database
from service.jobs import outbox
from service.jobs.models import OutboxMessage
from service.search import get_backend
from service.search.meili import MeiliBackend
from tests.conftest import app_config
from tests.factories import build_world
from tests.search.test_meili import closed_port_url

MEILI_URL = os.environ.get("MEILI_URL", "")
MEILI_KEY = os.environ.get("MEILI_KEY", "")
pytestmark = pytest.mark.skipif(not MEILI_URL, reason="MEILI_URL is not set: no Meilisearch to test against")


@pytest.fixture
def index_name():
    name = f"xaso_test_{uuid.uuid4().hex[:10]}"
    yield name
    client = meilisearch.Client(MEILI_URL, MEILI_KEY or None)
    client.wait_for_task(client.delete_index(name).task_uid)


def _app(database_url, tmp_path, index_name, url=MEILI_URL):
    return create_app(app_config(database_url, tmp_path, SEARCH_BACKEND="meilisearch", MEILI_URL=url,
                                 MEILI_KEY=MEILI_KEY, MEILI_INDEX=index_name))


@pytest.fixture
def live(database_url, tmp_path, index_name):
    app = _app(database_url, tmp_path, index_name)
    with app.app_context():
        backend = get_backend()
        assert isinstance(backend, MeiliBackend)
        backend.apply_settings()
    yield app
    database(app).engine.dispose()


def _relay_all(app):
    with app.app_context(), database(app).session(PLATFORM) as session:
        return outbox.drain(session)


def _search(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 200, response.json
    return response.json


def test_documents_reach_meilisearch_through_the_outbox_and_search_like_the_sql_backend(live):
    world = build_world(live)
    report = _relay_all(live)
    assert report.delivered > 0 and report.retried == 0
    for q in ["nuoc mam", "Nước mắm", "nươc mam", "nuoc mamm", "nuocmam", "mam"]:
        body = _search(live, f"/api/v1/communes/cam-thanh/search?q={q}")
        assert [hit["id"] for hit in body["data"]][:1] == [world.a.products["published"]], q
        assert {hit["commune"]["slug"] for hit in body["data"]} == {"cam-thanh"}, q
    body = _search(live, "/api/v1/search?q=gio+tre")
    assert body["total"] == 2
    assert {f["value"]: f["count"] for f in body["facets"]["commune"]} == {"cam-thanh": 1, "nam-phuoc": 1}
    body = _search(live, "/api/v1/communes/nam-phuoc/search?sort=price_asc")
    assert [hit["title"] for hit in body["data"]] == ["Giỏ tre", "Nước mắm cá cơm"]
    assert _search(live, "/api/v1/communes/cam-thanh/search/suggest?q=nuo")["data"] == ["Nước mắm cá cơm"]


@pytest.mark.skipif(not MEILI_KEY, reason="tenant tokens need MEILI_KEY (a master key)")
def test_a_tenant_token_searches_its_commune_only(live):
    world = build_world(live)
    _relay_all(live)
    body = _search(live, "/api/v1/communes/nam-phuoc/search/token")
    browser = meilisearch.Client(MEILI_URL, body["token"])
    hits = browser.index(body["index"]).search("gio tre")["hits"]
    assert hits and {hit["tenant_id"] for hit in hits} == {world.b.id}


def test_changes_made_while_meilisearch_was_down_arrive_later(database_url, tmp_path, index_name, live):
    world = build_world(live)
    _relay_all(live)
    down = _app(database_url, tmp_path, index_name, url=closed_port_url())
    response = down.test_client().patch(
        f"/api/v1/communes/cam-thanh/products/{world.a.products['published']}", json={"price": 123_000},
        headers=world.auth(world.a.tokens["editor"]))
    assert response.status_code == 200
    with database(live).session(PLATFORM) as session:
        waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None))).all()
        assert waiting and all(message.attempts == 1 for message in waiting)
        for message in waiting:  # do not wait for the backoff in a test
            message.available_at = message.created_at
        session.commit()
    assert _relay_all(live).delivered == len(waiting)
    body = _search(live, "/api/v1/communes/cam-thanh/search?q=nuoc+mam")
    assert body["data"][0]["price"] == 123_000
