"""Homestays, places, events and stories in search: folded words find them, unpublishing forgets them."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from service.db import Scope, database
from service.search.indexing import reindex
from service.search.models import SearchEntry
from service.tenants.models import Tenant
from service.tenants.services import SYSTEM
from service.tourism import places
from service.tourism.indexing import reindex_tourism
from service.tourism.models import Homestay, PublishStatus
from tests.tourism.test_explore import add_content


def search(client, q, commune="cam-thanh", **params):
    response = client.get(f"/api/v1/communes/{commune}/search", query_string={"q": q, **params})
    assert response.status_code == 200
    return response.json["data"]


def test_tourism_kinds_are_found_without_marks(app, client, world):
    slugs = add_content(app, world.a)
    add_content(app, world.b, prefix="B ")
    stay = search(client, "homestay rung dua", kind="stay")
    assert [(hit["kind"], hit["url"], hit["price"]) for hit in stay] == [
        ("stay", f"/c/cam-thanh/stays/{slugs['stay']}", 450_000)]  # the lowest room's base price
    place = search(client, "thung chai")
    assert [(hit["kind"], hit["title"], hit["url"]) for hit in place] == [
        ("place", "Thúng chai rừng dừa Bảy Mẫu", f"/c/cam-thanh/places/{slugs['tour']}")]
    assert [hit["kind"] for hit in search(client, "cau ngu")] == ["event"]
    assert [hit["kind"] for hit in search(client, "chuyen rung dua", kind="article")] == ["article"]
    assert search(client, "chua nhap") == [] and search(client, "hoi da qua") != []  # drafts never; past events stay
    assert {hit["commune"]["slug"] for hit in search(client, "rung dua")} == {"cam-thanh"}
    page = client.get("/c/cam-thanh/search?q=thung+chai").get_data(as_text=True)
    assert "Thúng chai rừng dừa Bảy Mẫu" in page and "Địa điểm" in page  # the kind is named on the card


def test_unpublishing_and_room_prices_follow_in_the_index(app, client, world):
    slugs = add_content(app, world.a)
    with database(app).session(Scope(world.a.id)) as session:
        places.unpublish(session, SYSTEM, places.get_public_place(session, slugs["tour"]))
        stay = session.scalar(select(Homestay).where(Homestay.slug == slugs["stay"]))
        stay.room_types[0].base_price = 390_000
        session.commit()
    assert search(client, "thung chai") == []
    assert [hit["price"] for hit in search(client, "homestay rung dua", kind="stay")] == [390_000]
    with database(app).session(Scope(world.a.id)) as session:
        stay = session.scalar(select(Homestay).where(Homestay.slug == slugs["stay"]))
        stay.status = PublishStatus.ARCHIVED
        session.commit()
    assert search(client, "homestay rung dua", kind="stay") == []


def test_reindex_rebuilds_the_tourism_documents(app, client, world):
    add_content(app, world.a)
    with database(app).session(Scope(world.a.id)) as session:
        tenant = session.get(Tenant, world.a.id)
        kinds = ("stay", "place", "event", "article")
        before = session.scalar(select(func.count()).select_from(SearchEntry).where(SearchEntry.kind.in_(kinds)))
        session.execute(delete(SearchEntry).where(SearchEntry.kind.in_(kinds)))
        assert reindex_tourism(session, tenant) == before == 7  # all but the draft place
        session.commit()
    assert [hit["kind"] for hit in search(client, "thung chai")] == ["place"]
    with database(app).session(Scope(world.a.id)) as session:
        assert reindex(session, session.get(Tenant, world.a.id)) == 2 + 7  # the two published products too
        session.commit()
    assert [hit["kind"] for hit in search(client, "thung chai")] == ["place"]
    assert [hit["kind"] for hit in search(client, "nuoc mam ca com")] == ["product"]
