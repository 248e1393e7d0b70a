"""Search pages: the box on every page, a commune's results, the portal's results across communes."""

from __future__ import annotations


def test_search_box_on_commune_and_portal_pages(client, world):
    html = client.get("/c/cam-thanh/").get_data(as_text=True)
    assert 'action="/c/cam-thanh/search"' in html and 'role="search"' in html
    assert 'action="/search"' in client.get("/").get_data(as_text=True)


def test_commune_results_page_without_marks_with_facets(client, world):
    response = client.get("/c/cam-thanh/search?q=nuoc+mam&lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nước mắm cá cơm" in html and "Giỏ tre" not in html
    assert "150.000" in html and "Results found: 1" in html
    assert "/c/cam-thanh/products/" in html
    assert "Nam Phước" not in html  # the other commune's documents never show


def test_filters_and_sort_on_the_page(client, world):
    html = client.get("/c/nam-phuoc/search?sort=price_asc&lang=en").get_data(as_text=True)
    assert html.index("Giỏ tre") < html.index("Nước mắm cá cơm")
    html = client.get("/c/nam-phuoc/search?ocop_stars=3&lang=en").get_data(as_text=True)
    assert "Results found: 1" in html and "Clear filters" in html
    # nonsense in the address is ignored rather than an error
    assert client.get("/c/nam-phuoc/search?sort=zzz&page=x&price_min=-3").status_code == 200


def test_portal_results_label_each_commune(client, world):
    html = client.get("/search?q=gio+tre&lang=en").get_data(as_text=True)
    assert "Results found: 2" in html
    assert "Cẩm Thanh" in html and "Nam Phước" in html
    assert "/c/cam-thanh/search?q=gio+tre" in html  # commune facet narrows to one commune
    assert "Nothing matches" in client.get("/search?q=xe+may&lang=en").get_data(as_text=True)
