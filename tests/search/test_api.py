"""The JSON search API: a commune's search, the portal-wide search, suggestions, OpenAPI."""

from __future__ import annotations


def test_commune_search_finds_without_marks_and_stays_in_the_commune(client, world):
    response = client.get("/api/v1/communes/cam-thanh/search?q=nuoc+mamm")
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 1
    hit = body["data"][0]
    assert (hit["kind"], hit["id"], hit["title"]) == ("product", world.a.products["published"], "Nước mắm cá cơm")
    assert hit["commune"] == {"slug": "cam-thanh", "name": "Cẩm Thanh"}
    assert hit["url"].startswith("/c/cam-thanh/products/") and hit["price"] == 150_000
    assert {f["value"] for f in body["facets"]["category"]} == {"nuoc-mam"}


def test_commune_search_filters_sort_and_facets(client, world):
    body = client.get("/api/v1/communes/nam-phuoc/search?sort=price_asc").json
    assert [hit["title"] for hit in body["data"]] == ["Giỏ tre", "Nước mắm cá cơm"]
    assert {f["value"]: f["count"] for f in body["facets"]["ocop_stars"]} == {"3": 1, "4": 1}
    body = client.get("/api/v1/communes/nam-phuoc/search?ocop_stars=3&ocop_stars=5&price_max=100000").json
    assert [hit["title"] for hit in body["data"]] == ["Giỏ tre"]
    assert client.get("/api/v1/communes/nam-phuoc/search?category=thu-cong&q=nuoc+mam").json["total"] == 0


def test_portal_search_covers_every_commune_with_labels(client, world):
    body = client.get("/api/v1/search?q=gio+tre").json
    assert body["total"] == 2
    assert sorted(hit["commune"]["slug"] for hit in body["data"]) == ["cam-thanh", "nam-phuoc"]
    assert {f["value"]: f["count"] for f in body["facets"]["commune"]} == {"cam-thanh": 1, "nam-phuoc": 1}


def test_suggest_and_errors(client, world):
    assert client.get("/api/v1/communes/cam-thanh/search/suggest?q=nuo").json == {"data": ["Nước mắm cá cơm"]}
    assert client.get("/api/v1/search/suggest?q=gio").json == {"data": ["Giỏ tre"]}
    response = client.get("/api/v1/communes/nowhere/search?q=x")
    assert response.status_code == 404 and response.json["error"]["param"] == "commune"
    response = client.get("/api/v1/search?sort=cheapest")
    assert response.status_code == 422 and response.json["error"]["param"] == "sort"


def test_search_is_documented(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for path in ["/api/v1/search", "/api/v1/search/suggest", "/api/v1/communes/{commune}/search",
                 "/api/v1/communes/{commune}/search/suggest"]:
        assert "get" in paths[path], path
