"""Public tourism pages of a commune: the explore list, its GeoJSON, and place, event and story pages.

Server-rendered, no JavaScript: every located item links to OpenStreetMap. Detail pages carry
schema.org JSON-LD (TouristAttraction/TouristTrip, Event, Article).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, json, render_template, request

import service.tourism.indexing  # noqa: F401  (registers the search flush hook with the public pages)
from service.core.clock import to_local
from service.core.i18n import localized
from service.db import get_session
from service.tenants.models import Tenant
from service.tenants.views import paragraphs
from service.tenants.web import require_tenant
from service.tourism import places
from service.tourism.models import Article, Event, Homestay, Place, PlaceKind
from service.tourism.services import lowest_price, published_homestays

bp = Blueprint("explore", __name__)

# The kinds a visitor can filter the explore page by, in the order the page shows them.
KINDS = ("attraction", "tour", "craft_village", "event", "article", "stay")
MAP_ZOOM = 16


@dataclass(frozen=True)
class Item:
    """One thing to see or do, whatever its model, as the explore page and the GeoJSON show it."""

    kind: str
    obj: Homestay | Place | Event | Article
    name_vi: str
    name_en: str
    url: str
    latitude: float | None
    longitude: float | None

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def map_url(self) -> str | None:
        return map_url(self.latitude, self.longitude)


def map_url(latitude: float | None, longitude: float | None) -> str | None:
    """A static OpenStreetMap link with a marker: a map without JavaScript on our side."""
    if latitude is None or longitude is None:
        return None
    return f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map={MAP_ZOOM}/{latitude}/{longitude}"


def local_iso(moment: datetime) -> str:
    """ISO 8601 in the commune's time (…+07:00), as schema.org and GeoJSON readers expect."""
    return to_local(moment).isoformat(timespec="minutes")


def _items(tenant: Tenant, kind: str | None) -> list[Item]:
    session = get_session()
    base = f"/c/{tenant.slug}"
    items: list[Item] = []

    def wanted(each: str) -> bool:
        return kind is None or kind == each

    place_kinds = [k for k in PlaceKind if wanted(k.value)]
    if place_kinds:
        for place in places.published_places(session):
            if place.kind in place_kinds:
                items.append(Item(place.kind.value, place, place.name_vi, place.name_en,
                                  f"{base}/places/{place.slug}", place.latitude, place.longitude))
    if wanted("event"):
        items += [Item("event", event, event.name_vi, event.name_en, f"{base}/events/{event.slug}",
                       event.latitude, event.longitude) for event in places.upcoming_events(session)]
    if wanted("article"):
        items += [Item("article", article, article.title_vi, article.title_en, f"{base}/stories/{article.slug}",
                       article.latitude, article.longitude) for article in places.published_articles(session)]
    if wanted("stay"):
        items += [Item("stay", stay, stay.name_vi, stay.name_en, f"{base}/stays/{stay.slug}",
                       stay.latitude, stay.longitude) for stay in published_homestays(session)]
    return items


@bp.get("/c/<commune>/explore")
def explore() -> Any:
    tenant = require_tenant()
    kind = request.args.get("kind") or None
    if kind not in KINDS:
        kind = None
    items = _items(tenant, kind)
    return render_template("tourism/explore.html", items=items, kind=kind, kinds=KINDS, lowest_price=lowest_price)


def _feature(item: Item, root: str) -> dict[str, Any]:
    properties: dict[str, Any] = {"kind": item.kind, "name": item.name_vi, "name_vi": item.name_vi,
                                  "name_en": item.name_en or item.name_vi, "url": root + item.url}
    if isinstance(item.obj, Event):
        properties |= {"starts_at": local_iso(item.obj.starts_at), "ends_at": local_iso(item.obj.ends_at)}
    if isinstance(item.obj, Place) and item.obj.price is not None:
        properties["price"] = item.obj.price
    return {"type": "Feature", "id": f"{item.kind}-{item.obj.id}",
            # RFC 7946: longitude first.
            "geometry": {"type": "Point", "coordinates": [item.longitude, item.latitude]},
            "properties": properties}


@bp.get("/c/<commune>/explore.geojson")
@bp.get("/api/v1/communes/<commune>/explore.geojson", endpoint="api_explore_geojson")
def explore_geojson() -> Any:
    tenant = require_tenant()
    root = request.host_url.rstrip("/")
    features = [_feature(item, root) for item in _items(tenant, None) if item.located]
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    return Response(body, mimetype="application/geo+json")


def _geo(latitude: float | None, longitude: float | None) -> dict[str, Any] | None:
    if latitude is None or longitude is None:
        return None
    return {"@type": "GeoCoordinates", "latitude": latitude, "longitude": longitude}


def place_json_ld(place: Place, tenant: Tenant, url: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "TouristTrip" if place.kind == PlaceKind.TOUR else "TouristAttraction",
        "name": localized(place, "name"), "description": localized(place, "description"), "url": url,
    }
    location: dict[str, Any] = {"@type": "Place", "name": localized(place, "name"),
                                "address": place.address or tenant.name}
    geo = _geo(place.latitude, place.longitude)
    if geo:
        location["geo"] = geo
    if place.kind == PlaceKind.TOUR:
        data["itinerary"] = location
        if place.price is not None:
            data["offers"] = {"@type": "Offer", "price": place.price, "priceCurrency": "VND"}
    else:
        data |= {"address": place.address or tenant.name}
        if geo:
            data["geo"] = geo
    return data


def event_json_ld(event: Event, tenant: Tenant, url: str) -> dict[str, Any]:
    location: dict[str, Any] = {"@type": "Place", "name": event.venue or tenant.name, "address": tenant.name}
    geo = _geo(event.latitude, event.longitude)
    if geo:
        location["geo"] = geo
    return {"@context": "https://schema.org", "@type": "Event", "name": localized(event, "name"),
            "description": localized(event, "description"), "url": url,
            "startDate": local_iso(event.starts_at), "endDate": local_iso(event.ends_at),
            "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
            "eventStatus": "https://schema.org/EventScheduled", "location": location}


def article_json_ld(article: Article, tenant: Tenant, url: str) -> dict[str, Any]:
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Article",
                            "headline": localized(article, "title"), "description": localized(article, "summary"),
                            "url": url, "publisher": {"@type": "Organization", "name": tenant.name}}
    if article.published_at is not None:
        data["datePublished"] = local_iso(article.published_at)
    return data


def _page_url() -> str:
    return request.base_url


@bp.get("/c/<commune>/places/<slug>")
def place(slug: str) -> Any:
    tenant = require_tenant()
    found = places.get_public_place(get_session(), slug)
    return render_template("tourism/place.html", place=found, paragraphs=paragraphs,
                           json_ld=place_json_ld(found, tenant, _page_url()),
                           map_url=map_url(found.latitude, found.longitude))


@bp.get("/c/<commune>/events/<slug>")
def event(slug: str) -> Any:
    tenant = require_tenant()
    found = places.get_public_event(get_session(), slug)
    return render_template("tourism/event.html", event=found, paragraphs=paragraphs,
                           json_ld=event_json_ld(found, tenant, _page_url()),
                           map_url=map_url(found.latitude, found.longitude))


@bp.get("/c/<commune>/stories/<slug>")
def story(slug: str) -> Any:
    tenant = require_tenant()
    found = places.get_public_article(get_session(), slug)
    return render_template("tourism/article.html", article=found, paragraphs=paragraphs,
                           json_ld=article_json_ld(found, tenant, _page_url()),
                           map_url=map_url(found.latitude, found.longitude))
