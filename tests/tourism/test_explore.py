"""The explore page, its GeoJSON and the place, event and story pages with their schema.org JSON-LD."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.core.errors import Invalid
from service.db import Scope, database, utcnow
from service.tenants.services import SYSTEM
from service.tourism import places
from service.tourism.models import Homestay, PriceRule, PublishStatus, RoomType, Unit
from service.tourism.services import new_room_type_token


def add_content(app, commune, prefix=""):
    """A published tour, craft village, homestay, future event and story (located), plus a draft, a past event
    and a story without a location; returns their slugs."""
    with database(app).session(Scope(commune.id)) as session:
        tour = places.create_place(session, SYSTEM, {
            "kind": "tour", "name_vi": f"{prefix}Thúng chai rừng dừa Bảy Mẫu", "name_en": "Basket-boat ride",
            "description_vi": "Chèo thúng chai qua rừng dừa nước.", "description_en": "Paddle through nipa palms.",
            "latitude": 15.874, "longitude": 108.352, "price": 150_000, "duration_minutes": 60})
        village = places.create_place(session, SYSTEM, {
            "kind": "craft_village", "name_vi": f"{prefix}Làng mộc Kim Bồng", "name_en": "Kim Bong carpentry village",
            "latitude": 15.869, "longitude": 108.338})
        draft = places.create_place(session, SYSTEM, {"kind": "attraction", "name_vi": f"{prefix}Chùa nháp",
                                                      "latitude": 15.0, "longitude": 108.0})
        start = utcnow() + timedelta(days=20)
        festival = places.create_event(session, SYSTEM, {
            "name_vi": f"{prefix}Lễ hội cầu ngư", "name_en": "Whale worship festival", "venue": "Bến thuyền",
            "starts_at": start, "ends_at": start + timedelta(hours=5), "latitude": 15.87, "longitude": 108.35})
        past = places.create_event(session, SYSTEM, {
            "name_vi": f"{prefix}Hội đã qua", "starts_at": utcnow() - timedelta(days=10),
            "ends_at": utcnow() - timedelta(days=9), "latitude": 15.87, "longitude": 108.35})
        story = places.create_article(session, SYSTEM, {
            "title_vi": f"{prefix}Chuyện rừng dừa", "title_en": "The coconut forest's story",
            "summary_vi": "Ba thế hệ giữ rừng.", "body_vi": "Đoạn một.\n\nĐoạn hai.",
            "latitude": 15.873, "longitude": 108.351})
        unlocated = places.create_article(session, SYSTEM, {"title_vi": f"{prefix}Chuyện không bản đồ"})
        for obj in (tour, village, festival, past, story, unlocated):
            places.publish(session, SYSTEM, obj)
        stay = Homestay(slug=f"{prefix.lower()}homestay-rung-dua", host_seller_id=commune.sellers["own"],
                        name_vi=f"{prefix}Homestay Rừng Dừa", name_en="Coconut Forest Homestay",
                        description_vi="Nhà vườn bên rừng dừa.", amenities=["wifi", "breakfast"],
                        address="Thôn Thanh Tam", latitude=15.875, longitude=108.353,
                        status=PublishStatus.PUBLISHED, published_at=utcnow())
        room = RoomType(name_vi="Phòng đôi", capacity=2, base_price=450_000, weekend_price=550_000,
                        ical_token=new_room_type_token())
        room.units.append(Unit(label="Phòng 1"))
        stay.room_types.append(room)
        session.add(stay)
        session.commit()
        return {"tour": tour.slug, "village": village.slug, "draft": draft.slug, "event": festival.slug,
                "past": past.slug, "story": story.slug, "unlocated": unlocated.slug, "stay": stay.slug,
                "event_start": start}


def json_ld(page):
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert found, "no JSON-LD on the page"
    return json.loads(found.group(1))


def test_explore_lists_everything_published_and_filters_by_kind(app, client, world):
    slugs = add_content(app, world.a)
    add_content(app, world.b, prefix="B ")
    page = client.get("/c/cam-thanh/explore").get_data(as_text=True)
    for name in ("Thúng chai rừng dừa Bảy Mẫu", "Làng mộc Kim Bồng", "Lễ hội cầu ngư", "Chuyện rừng dừa",
                 "Homestay Rừng Dừa"):
        assert name in page
    assert "Chùa nháp" not in page and "Hội đã qua" not in page and "B Thúng chai" not in page
    assert "150.000 ₫" in page and "60 phút" in page  # tour price per person and duration
    assert f'href="/c/cam-thanh/stays/{slugs["stay"]}"' in page
    assert "https://www.openstreetmap.org/?mlat=15.874&amp;mlon=108.352#map=16/15.874/108.352" in page
    local_start = slugs["event_start"].astimezone(places_zone()).strftime("%d/%m/%Y %H:%M")
    assert local_start in page
    tours = client.get("/c/cam-thanh/explore?kind=tour").get_data(as_text=True)
    assert "Thúng chai rừng dừa Bảy Mẫu" in tours and "Làng mộc Kim Bồng" not in tours
    assert "Homestay Rừng Dừa" not in tours
    stays = client.get("/c/cam-thanh/explore?kind=stay&lang=en").get_data(as_text=True)
    assert "Coconut Forest Homestay" in stays and "Basket-boat ride" not in stays
    assert client.get("/c/cam-thanh/explore?kind=nonsense").status_code == 200


def places_zone():
    from service.tourism.services import LOCAL_TZ

    return LOCAL_TZ


def test_geojson_has_only_this_communes_published_located_items_lon_first(app, client, world):
    slugs = add_content(app, world.a)
    add_content(app, world.b, prefix="B ")
    response = client.get("/c/cam-thanh/explore.geojson")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = json.loads(response.get_data(as_text=True))
    assert body["type"] == "FeatureCollection"
    by_url = {feature["properties"]["url"].removeprefix("http://localhost"): feature for feature in body["features"]}
    assert set(by_url) == {f"/c/cam-thanh/places/{slugs['tour']}", f"/c/cam-thanh/places/{slugs['village']}",
                           f"/c/cam-thanh/events/{slugs['event']}", f"/c/cam-thanh/stories/{slugs['story']}",
                           f"/c/cam-thanh/stays/{slugs['stay']}"}  # no draft, past event, unlocated story, commune B
    tour = by_url[f"/c/cam-thanh/places/{slugs['tour']}"]
    assert tour["geometry"] == {"type": "Point", "coordinates": [108.352, 15.874]}  # RFC 7946: [lon, lat]
    assert tour["properties"]["kind"] == "tour"
    assert tour["properties"]["name_vi"] == "Thúng chai rừng dừa Bảy Mẫu"
    assert tour["properties"]["name_en"] == "Basket-boat ride"
    event = by_url[f"/c/cam-thanh/events/{slugs['event']}"]["properties"]
    assert event["kind"] == "event" and event["starts_at"].endswith("+07:00") and event["ends_at"].endswith("+07:00")
    assert datetime.fromisoformat(event["starts_at"]) == slugs["event_start"].replace(second=0, microsecond=0)
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert 100 < lon < 110 and 10 < lat < 20
    api = client.get("/api/v1/communes/cam-thanh/explore.geojson")
    assert api.mimetype == "application/geo+json" and json.loads(api.get_data(as_text=True)) == body
    missing = client.get("/api/v1/communes/nowhere/explore.geojson")
    assert missing.status_code == 404 and missing.json["error"]["code"]


def test_detail_pages_carry_json_ld_and_speak_english(app, client, world):
    slugs = add_content(app, world.a)
    page = client.get(f"/c/cam-thanh/places/{slugs['tour']}")
    assert page.status_code == 200
    data = json_ld(page.get_data(as_text=True))
    assert data["@type"] == "TouristTrip" and data["offers"]["price"] == 150_000
    assert data["itinerary"]["geo"]["latitude"] == 15.874
    village = json_ld(client.get(f"/c/cam-thanh/places/{slugs['village']}").get_data(as_text=True))
    assert village["@type"] == "TouristAttraction" and village["geo"]["longitude"] == 108.338
    event_page = client.get(f"/c/cam-thanh/events/{slugs['event']}?lang=en").get_data(as_text=True)
    event = json_ld(event_page)
    assert event["@type"] == "Event" and event["name"] == "Whale worship festival"
    assert event["startDate"].endswith("+07:00") and event["endDate"].endswith("+07:00")
    assert event["location"]["@type"] == "Place" and event["location"]["geo"]["latitude"] == 15.87
    story_page = client.get(f"/c/cam-thanh/stories/{slugs['story']}?lang=vi").get_data(as_text=True)
    story = json_ld(story_page)
    assert story["@type"] == "Article" and story["headline"] == "Chuyện rừng dừa"
    assert "<p>Đoạn một.</p>" in story_page and "<p>Đoạn hai.</p>" in story_page
    english = json_ld(client.get(f"/c/cam-thanh/stories/{slugs['story']}?lang=en").get_data(as_text=True))
    assert english["headline"] == "The coconut forest's story"


def test_drafts_and_other_communes_answer_404(app, client, world):
    slugs = add_content(app, world.a)
    assert client.get(f"/c/cam-thanh/places/{slugs['draft']}").status_code == 404
    assert client.get("/c/cam-thanh/places/no-such-place").status_code == 404
    assert client.get(f"/c/nam-phuoc/places/{slugs['tour']}").status_code == 404
    assert client.get(f"/c/nam-phuoc/events/{slugs['event']}").status_code == 404
    assert client.get(f"/c/nam-phuoc/stories/{slugs['story']}").status_code == 404
    with database(app).session(Scope(world.a.id)) as session:
        story = places.get_public_article(session, slugs["story"])
        places.unpublish(session, SYSTEM, story)
        session.commit()
    assert client.get(f"/c/cam-thanh/stories/{slugs['story']}").status_code == 404


def test_only_staff_write_and_bad_values_are_refused(app, world):
    from service.accounts.services import find_user
    from service.core.errors import Forbidden
    from service.tenants.services import actor_for

    with database(app).session(Scope(world.a.id)) as session:
        seller = actor_for(session, find_user(session, world.a.users["seller"]))
        with pytest.raises(Forbidden):
            places.create_place(session, seller, {"kind": "tour", "name_vi": "Tour"})
        with pytest.raises(Invalid) as error:
            places.create_place(session, SYSTEM, {"kind": "zoo", "name_vi": "Sở thú"})
        assert error.value.param == "kind"
        with pytest.raises(Invalid) as error:
            places.create_place(session, SYSTEM, {"kind": "tour", "name_vi": "Tour", "latitude": 15.8})
        assert error.value.param == "latitude"
        start = datetime(2030, 1, 1, tzinfo=UTC)
        with pytest.raises(Invalid) as error:
            places.create_event(session, SYSTEM, {"name_vi": "Hội", "starts_at": start,
                                                  "ends_at": start - timedelta(hours=1)})
        assert error.value.param == "ends_at"


def test_demo_communes_have_tourism_to_explore_book_and_find(app, client, tmp_path):
    from service.db import PLATFORM
    from service.demo import load_demo
    from service.media.storage import LocalStorage
    from service.tourism.models import Event

    with app.app_context(), database(app).session(PLATFORM) as session:
        load_demo(session, LocalStorage(tmp_path / "media"))
        session.commit()
    centres = {"cam-thanh": (15.874, 108.352), "nam-phuoc": (15.830, 108.226), "binh-loi": (11.02, 106.80)}
    for slug, (lat, lon) in centres.items():
        features = json.loads(client.get(f"/c/{slug}/explore.geojson").get_data(as_text=True))["features"]
        kinds = {feature["properties"]["kind"] for feature in features}
        assert {"stay", "tour", "craft_village", "event", "article"} <= kinds, slug
        for feature in features:  # every item within a few kilometres of the real commune
            f_lon, f_lat = feature["geometry"]["coordinates"]
            assert abs(f_lat - lat) < 0.05 and abs(f_lon - lon) < 0.05, (slug, feature["properties"]["name"])
        for feature in features:
            assert client.get(feature["properties"]["url"].removeprefix("http://localhost")).status_code == 200
    page = client.get("/c/cam-thanh/explore?kind=tour&lang=vi").get_data(as_text=True)
    assert "Thúng chai rừng dừa Bảy Mẫu" in page and "150.000 ₫" in page
    hits = client.get("/api/v1/communes/cam-thanh/search", query_string={"q": "thung chai", "kind": "place"}).json
    assert "Thúng chai rừng dừa Bảy Mẫu" in [hit["title"] for hit in hits["data"]]
    stays = client.get("/api/v1/communes/cam-thanh/search", query_string={"q": "homestay rung dua"}).json["data"]
    assert stays[0]["kind"] == "stay" and stays[0]["price"] == 450_000
    with database(app).session(PLATFORM) as session:
        assert all(event.starts_at > utcnow() for event in session.scalars(select(Event)))
        rules = session.scalars(select(PriceRule)).all()
        assert rules and {rule.name for rule in rules} == {"Tết Nguyên Đán"}
