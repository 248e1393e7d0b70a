"""Stored XSS: hostile text typed into every free-text field, through the real forms (public and back office)
and the API, renders inert wherever it is shown: public pages in Vietnamese and English, back-office pages,
structured data (JSON-LD), OpenGraph tags, the Atom feed, Open311 XML and JSON, CSV exports, GeoJSON and the
e-mails of the outbox.

The forms are filled by reading them: every text input and textarea of a form gets the payload, so a field
added later is attacked too. Only fields with a strict format (phone, e-mail, numbers, dates, codes) keep a
valid value."""

from __future__ import annotations

import csv
import email
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import policy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from service.catalog.models import Category, Product, Seller
from service.db import PLATFORM, Scope, database, utcnow
from service.engagement.models import Announcement, Poll, Question
from service.orders.models import Order, SellerOrder
from service.tenants.services import SYSTEM
from service.tourism import places
from service.tourism.models import Homestay
from tests.admin.helpers import sign_in
from tests.engagement.open311_helpers import new_key
from tests.engagement.report_helpers import setup_categories
from tests.factories import World
from tests.tourism import make_listing

MARKER = "{{7*7}}"  # shown as typed: a template that evaluated it would print 49
TINY = f'"><img src=x onerror=alert(1)>{MARKER}'  # for fields of 40 characters
SHORT = f'"><img src=x onerror=alert(1)><script>alert("x1")</script>{MARKER}'
LONG = f"{SHORT}</script><script>alert(2)</script><!--<script>"
URLISH = "javascript:alert(3)"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data", "srcset", "content"}
A = "/c/cam-thanh"
ADMIN = f"{A}/admin"


# -- reading forms and pages ---------------------------------------------------------------------------

@dataclass
class Form:
    action: str
    method: str
    fields: list[dict[str, str]] = field(default_factory=list)  # attributes of each input/textarea/select
    options: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)  # select name -> (value, selected)


class _Page(HTMLParser):
    """What a hostile payload could have turned into: tags, attributes, script bodies; and the text shown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.text: list[str] = []
        self.forms: list[Form] = []
        self._script: dict[str, str] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.tags.append((tag, found))
        self.text.extend(found.values())
        if tag == "script":
            self._script = found
        elif tag == "form":
            self.forms.append(Form(found.get("action", ""), found.get("method", "get").lower()))
        elif tag in ("input", "textarea", "select", "button") and self.forms:
            self.forms[-1].fields.append({"tag": tag, **found})
            if tag == "select":
                self._select = found.get("name", "")
                self.forms[-1].options[self._select] = []
        elif tag == "option" and self._select is not None and self.forms:
            self.forms[-1].options[self._select].append((found.get("value", ""), "selected" in found))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None
        else:
            self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def assert_inert(html: str, where: str, shown: bool = True) -> None:
    """Nothing in the page came alive from a payload; with ``shown``, the payload is there, as text."""
    page = parse(html)
    for tag, attrs in page.tags:
        assert not (tag == "img" and attrs.get("src") == "x"), f"{where}: the payload made an <img>"
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, f"{where}: <{tag}> has the event handler {handlers}"
        for name, value in attrs.items():
            if name in URL_ATTRIBUTES:
                assert not re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith("javascript:"), \
                    f"{where}: <{tag} {name}={value!r}>"
    for attrs, body in page.scripts:
        assert "alert(" not in body or attrs.get("type") == "application/ld+json", \
            f"{where}: a <script> runs the payload: {body[:200]!r}"
        if attrs.get("type") == "application/ld+json":
            # no "<" at all: neither "</script>" nor "<!--" can change how the page around it is read
            assert "<" not in body, f"{where}: JSON-LD carries '<': {body[:300]!r}"
            try:
                json.loads(body)
            except ValueError as error:
                raise AssertionError(f"{where}: the JSON-LD is cut short ({error}): {body[:300]!r}") from error
    if shown:
        assert any(MARKER in text for text in page.text), f"{where}: the payload is not shown (or was evaluated)"


def read_form(client: FlaskClient, url: str, action: str | None = None) -> Form:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    wanted = action or urlsplit(url).path
    forms = [form for form in parse(response.get_data(as_text=True)).forms
             if form.method == "post" and urlsplit(form.action or url).path == wanted]
    assert forms, f"{url}: no form posting to {wanted}"
    return max(forms, key=lambda form: len(form.fields))


def hostile_values(form: Form, keep: dict[str, Any]) -> dict[str, Any]:
    """The form as a user would send it, with the payload in every free-text field."""
    data: dict[str, Any] = {}
    for attrs in form.fields:
        name, kind = attrs.get("name", ""), attrs.get("type", "text").lower()
        if not name or attrs["tag"] == "button" or kind in ("submit", "file", "button", "image"):
            continue
        if attrs["tag"] == "select":
            options = form.options.get(name, [])
            chosen = [value for value, selected in options if selected] or [value for value, _ in options if value]
            data.setdefault(name, chosen[0] if chosen else "")
        elif kind in ("checkbox", "radio"):
            if "checked" in attrs:
                data.setdefault(name, attrs.get("value", "on"))
        elif attrs["tag"] == "textarea" or (kind in ("text", "search") and "inputmode" not in attrs):
            limit = int(attrs.get("maxlength") or 10_000)
            payload = next((text for text in (LONG, SHORT, TINY) if len(text) <= limit), None)
            data[name] = payload if payload is not None else attrs.get("value", "")
        else:
            data.setdefault(name, attrs.get("value", ""))
    return {**data, **keep}


def submit(client: FlaskClient, url: str, keep: dict[str, Any] | None = None, action: str | None = None,
           expected: int = 303, **kwargs: Any) -> Any:
    form = read_form(client, url, action)
    target = form.action.split("#")[0] or url
    response = client.post(target, data=hostile_values(form, keep or {}), **kwargs)
    assert response.status_code == expected, f"{url}: {response.status_code}\n" + \
        " | ".join(re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]{0,200})', response.get_data(as_text=True)))
    return response


def signed_in(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    with database(app).session(PLATFORM) as session:
        sign_in(client, session, address)
    return client


# -- the hostile commune --------------------------------------------------------------------------------

@dataclass
class Hostile:
    product: str = ""  # slugs, codes and secrets of what was written with the payload
    product_id: int = 0
    seller_id: int = 0
    category_id: int = 0
    stay: str = ""
    stay_id: int = 0
    order: str = ""
    part_id: int = 0
    booking: str = ""
    report: str = ""
    question: str = ""
    question_id: int = 0
    announcement: str = ""
    announcement_id: int = 0
    poll: str = ""
    poll_id: int = 0
    api_product: str = ""
    api_product_id: int = 0
    room_id: int = 0
    place: str = ""
    event: str = ""
    story: str = ""


def _last(app: Flask, model: Any, commune_id: int) -> Any:
    with database(app).session(Scope(commune_id)) as session:
        found = session.scalars(select(model).order_by(model.id.desc())).first()
        session.expunge(found)
        return found


@pytest.fixture
def hostile(app: Flask, world: World) -> Hostile:
    made = Hostile()
    staff = signed_in(app, world.a.users["admin"])
    _catalog(app, world, staff, made)
    _tourism(app, world, staff, made)
    _buying(app, made)
    _civic(app, world, staff, made)
    return made


def _catalog(app: Flask, world: World, staff: FlaskClient, made: Hostile) -> None:
    """Branding, a category, a seller and a product through the back office; a product through the API."""
    submit(staff, f"{ADMIN}/branding", keep={"primary_color": "#1f6f50"})
    submit(staff, f"{ADMIN}/categories/new", keep={"position": "1"})
    made.category_id = _last(app, Category, world.a.id).id
    submit(staff, f"{ADMIN}/sellers/new", keep={"phone": "0905 123 456", "bank_bin": "", "bank_account_number": "",
                                                "bank_account_name": ""})
    made.seller_id = _last(app, Seller, world.a.id).id
    # the seller with a login, shown on their own dashboard (the account holder is a checked format)
    submit(staff, f"{ADMIN}/sellers/{world.a.sellers['own']}/edit", keep={
        "phone": "0905 123 456", "bank_bin": "970405", "bank_account_number": "3700205123456",
        "bank_account_name": "NGUYEN THI TU"})
    submit(staff, f"{ADMIN}/products/new", keep={"seller_id": str(made.seller_id), "category_id": str(made.category_id),
                                                 "price": "150.000", "stock": "20", "gtin": "", "ocop_stars": "",
                                                 "ocop_certificate_year": "", "weight_grams": "500",
                                                 "unit": TINY, "ocop_certificate_number": TINY})
    product = _last(app, Product, world.a.id)
    made.product, made.product_id = product.slug, product.id
    for action in ("submit", "approve"):
        staff.post(f"{ADMIN}/products/{product.id}/status", data={"action": action, "note": LONG})
    headers = world.auth(world.a.tokens["admin"])
    created = staff.post(f"/api/v1/communes/{world.a.slug}/products", headers=headers, json={
        "seller_id": made.seller_id, "category_id": made.category_id, "title_vi": f"API {SHORT}",
        "title_en": f"API {SHORT}", "description_vi": LONG, "brand": TINY, "price": 90_000, "stock": 5, "unit": TINY})
    assert created.status_code == 201, created.get_json()
    made.api_product_id = created.get_json()["id"]
    for action in ("submit", "approve"):
        staff.post(f"{ADMIN}/products/{made.api_product_id}/status", data={"action": action, "note": ""})
    made.api_product = _last(app, Product, world.a.id).slug


def _tourism(app: Flask, world: World, staff: FlaskClient, made: Hostile) -> None:
    """A homestay and its room edited through the back office; a place, an event and a story (staff write
    them through the services: they have no form yet)."""
    listing = make_listing(app, world.a.id, world.a.sellers["own"])
    made.stay_id, made.room_id = listing.homestay_id, listing.room_type_id
    submit(staff, f"{ADMIN}/stays/{listing.homestay_id}")
    submit(staff, f"{ADMIN}/stays/{listing.homestay_id}/rooms/{listing.room_type_id}")
    made.stay = _last(app, Homestay, world.a.id).slug
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        texts = {"name_vi": SHORT, "name_en": SHORT, "description_vi": LONG, "description_en": LONG}
        place = places.create_place(session, SYSTEM, {**texts, "kind": "attraction", "address": LONG,
                                                      "opening_hours": SHORT, "latitude": 15.88, "longitude": 108.35})
        starts = utcnow() + timedelta(days=5)
        event = places.create_event(session, SYSTEM, {**texts, "venue": LONG, "starts_at": starts,
                                                      "ends_at": starts + timedelta(hours=3)})
        story = places.create_article(session, SYSTEM, {"title_vi": SHORT, "title_en": SHORT, "summary_vi": LONG,
                                                        "summary_en": LONG, "body_vi": LONG, "body_en": LONG})
        for item in (place, event, story):
            places.publish(session, SYSTEM, item)
        made.place, made.event, made.story = place.slug, event.slug, story.slug
        session.commit()


def _buying(app: Flask, made: Hostile) -> None:
    """An order and a booking by a visitor, with the payload in their names, addresses and notes."""
    buyer = app.test_client()
    assert buyer.post(f"{A}/cart/add", data={"product_id": made.product_id}).status_code == 303
    placed = submit(buyer, f"{A}/checkout", keep={"phone": "0905 123 456", "email": "lan@example.vn",
                                                  "payment_method": "cod"})
    made.order = placed.headers["Location"].rsplit("/", 1)[1]
    check_in = date.today() + timedelta(days=30)
    dates = {"check_in": check_in.isoformat(), "check_out": (check_in + timedelta(days=2)).isoformat(), "guests": "2"}
    offers = f"{A}/stays/{made.stay}?" + "&".join(f"{key}={value}" for key, value in dates.items())
    booked = submit(buyer, offers, action=f"{A}/stays/{made.stay}/book", keep={
        **dates, "room_type_id": str(made.room_id), "phone": "0905 123 456",
        "email": "minh@example.vn", "payment_option": "on_arrival", "payment_method": ""})
    made.booking = booked.headers["Location"].rsplit("/", 1)[1]


def _civic(app: Flask, world: World, staff: FlaskClient, made: Hostile) -> None:
    """A field report filed and answered, a question asked and answered, an announcement and a poll."""
    setup_categories(app, world.a)  # a department for the new category
    submit(staff, f"{ADMIN}/departments", keep={"code": "van-hoa", "email": "vanhoa@example.vn"})
    submit(staff, f"{ADMIN}/response-templates")
    submit(staff, f"{ADMIN}/announcement-categories", keep={"code": "thong-bao-moi"})
    submit(staff, f"{ADMIN}/report-categories/new", keep={
        "code": "gop-y", "deadline_days": "5", "position": "1",
        "attributes": f"chi-tiet | string | no | {SHORT} | {SHORT} |"})
    citizen = app.test_client()
    filed = submit(citizen, f"{A}/reports/new?category=gop-y", action=f"{A}/reports/new", keep={
        "category": "gop-y", "lat": "15.8731", "long": "108.3512", "phone": "", "email": "dan@example.vn",
        "website": ""}, content_type="multipart/form-data")
    made.report = filed.headers["Location"].rsplit("/", 1)[1]
    app_key = new_key(app, world.a.id, name=SHORT)  # a partner app files through Open311
    through_app = citizen.post(f"{A}/open311/v2/requests.json", data={
        "api_key": app_key, "service_code": "gop-y", "lat": "15.8794", "long": "108.3352", "description": LONG,
        "address_string": SHORT, "first_name": SHORT, "attribute[chi-tiet]": LONG})
    assert through_app.status_code in (200, 201), through_app.get_data(as_text=True)
    submit(staff, f"{ADMIN}/reports/{made.report}", action=f"{ADMIN}/reports/{made.report}/status",
           keep={"status": "in_progress"})
    asked = submit(citizen, f"{A}/questions/new", keep={"phone": "", "email": "hoi@example.vn", "website": ""})
    made.question = asked.headers["Location"].rsplit("/", 1)[1]
    with database(app).session(Scope(world.a.id)) as session:
        made.question_id = session.scalars(select(Question.id).where(Question.code == made.question)).one()
    submit(staff, f"{ADMIN}/questions/{made.question_id}", keep={"action": "answer"})
    submit(staff, f"{ADMIN}/announcements/new", keep={"publish_mode": "now", "publish_at": "", "expires_at": ""})
    announcement = _last(app, Announcement, world.a.id)
    made.announcement, made.announcement_id = announcement.slug, announcement.id
    submit(staff, f"{ADMIN}/polls/new", keep={"status": "published", "opens_at": "", "closes_at": "",
                                              "results_visibility": "after_vote"})
    poll = _last(app, Poll, world.a.id)
    made.poll, made.poll_id = poll.slug, poll.id


def _page(client: FlaskClient, url: str, expected: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == expected, f"{url}: {response.status_code}"
    return str(response.get_data(as_text=True))


def test_the_check_catches_a_live_payload() -> None:
    """The inertness check itself: raw payloads (what a missing escape would print) are caught."""
    for raw, what in ((f"<p>{SHORT}</p>", "<img>"), (f"<a href='{URLISH}'>x</a>", "href"),
                      ('<script type="application/ld+json">{"a": "</script><script>alert(2)</script>"}</script>',
                       "JSON-LD"), ("<p>49</p>", "not shown")):
        with pytest.raises(AssertionError):
            assert_inert(raw, what)
    assert_inert(f"<p>{escape(LONG)}</p><input value=\"{escape(SHORT)}\">", "escaped")


def check_public_pages(client: FlaskClient, hostile: Hostile) -> None:
    pages = [f"{A}/", f"{A}/products", f"{A}/products?category={hostile.category_id}",
             f"{A}/products/{hostile.product}", f"{A}/products/{hostile.api_product}",
             f"{A}/stays", f"{A}/stays/{hostile.stay}", f"{A}/explore", f"{A}/places/{hostile.place}",
             f"{A}/events/{hostile.event}", f"{A}/stories/{hostile.story}", f"{A}/orders/{hostile.order}",
             f"{A}/bookings/{hostile.booking}", f"{A}/reports", f"{A}/reports/{hostile.report}",
             f"{A}/reports/new?category=gop-y", f"{A}/questions", f"{A}/questions/{hostile.question}",
             f"{A}/announcements", f"{A}/announcements/{hostile.announcement}", f"{A}/polls",
             f"{A}/polls/{hostile.poll}", f"{A}/community", "/"]
    for language in ("vi", "en"):
        for url in pages:
            joiner = "&" if "?" in url else "?"
            assert_inert(_page(client, f"{url}{joiner}lang={language}"), f"{url} ({language})")
    # reflected: what a visitor types comes back as text
    query = quote(LONG)
    for url, status in ((f"{A}/search?q={query}", 200), (f"/search?q={query}", 200),
                        (f"{A}/products?q={query}", 200), (f"{A}/reports/track?code={query}", 404)):
        assert_inert(_page(client, url, status), url)


def check_back_office(app: Flask, world: World, hostile: Hostile) -> None:
    with database(app).session(Scope(world.a.id)) as session:
        part_id = session.scalars(select(SellerOrder.id).join(Order, Order.id == SellerOrder.order_id)
                                  .where(Order.secret == hostile.order)).first()
    staff = signed_in(app, world.a.users["admin"])
    pages = ["/", "/products", f"/products/{hostile.product_id}/edit", "/moderation", "/sellers",
             f"/sellers/{hostile.seller_id}/edit", "/categories", f"/categories/{hostile.category_id}/edit",
             "/branding", "/orders", f"/orders/{part_id}", "/reports", f"/reports/{hostile.report}",
             "/report-categories", "/questions", f"/questions/{hostile.question_id}", "/announcements",
             f"/announcements/{hostile.announcement_id}/edit", "/polls", f"/polls/{hostile.poll_id}/edit",
             "/stays", f"/stays/{hostile.stay_id}", f"/stays/{hostile.stay_id}/bookings",
             f"/stays/{hostile.stay_id}/rooms/{hostile.room_id}", "/audit", "/departments", "/response-templates",
             "/announcement-categories", "/open311-keys"]
    for page in pages:  # in Vietnamese: the back office's English shows the same stored text the same way
        assert_inert(_page(staff, f"{ADMIN}{page}"), f"{ADMIN}{page}")
    host = signed_in(app, world.a.users["seller"])  # the host of the stay booked with a hostile name
    assert_inert(_page(host, f"{ADMIN}/"), "the seller's dashboard")


def check_machine_outputs(app: Flask, client: FlaskClient, world: World, hostile: Hostile) -> None:
    atom = ET.fromstring(_page(client, f"{A}/announcements.atom").encode())
    assert any(MARKER in (node.text or "") for node in atom.iter()), "the Atom feed lost the title"
    for fmt in ("xml", "json"):
        for url in (f"{A}/open311/v2/requests.{fmt}", f"{A}/open311/v2/requests/{hostile.report}.{fmt}",
                    f"{A}/open311/v2/services.{fmt}", f"{A}/open311/v2/services/gop-y.{fmt}"):
            body = _page(client, url)
            data = ET.fromstring(body.encode()) if fmt == "xml" else json.loads(body)
            assert data is not None and MARKER in body, url
    for url in (f"{A}/reports.geojson", f"{A}/explore.geojson", f"{A}/feeds/products.json",
                f"/api/v1/communes/{world.a.slug}/products/{hostile.api_product_id}"):
        assert MARKER in json.dumps(json.loads(_page(client, url)), ensure_ascii=False), url
    rows = list(csv.reader(io.StringIO(_page(client, f"{A}/feeds/products.csv"))))
    assert any(MARKER in cell for row in rows for cell in row)
    staff = signed_in(app, world.a.users["admin"])
    rows = list(csv.reader(io.StringIO(_page(staff, f"{ADMIN}/dashboard/top_products.csv").lstrip("\ufeff"))))
    assert any(MARKER in cell for row in rows for cell in row)
    # an address that would run script is refused where the API takes one
    refused = staff.post(f"/api/v1/communes/{world.a.slug}/webhook_endpoints",
                         headers=world.auth(world.a.tokens["admin"]), json={"url": URLISH, "events": ["*"]})
    assert refused.status_code == 422


def check_emails(app: Flask) -> None:
    mails = sorted(Path(app.config["INSTANCE_PATH"], "mail").glob("*.eml"))
    assert mails
    bodies = []
    for path in mails:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert "\n" not in str(message["Subject"])  # no header smuggled through a name
        part = message.get_body(preferencelist=("plain",))
        assert part is not None and part.get_content_type() == "text/plain", path.name  # no HTML part to run
        bodies.append(part.get_content())
    assert any(MARKER in body for body in bodies)  # the buyer's name, as typed (a template would print 49)


def test_hostile_text_is_inert_everywhere(app: Flask, client: FlaskClient, world: World, hostile: Hostile) -> None:
    """One arrangement (it takes a while), every place the text is shown."""
    check_public_pages(client, hostile)
    check_back_office(app, world, hostile)
    check_machine_outputs(app, client, world, hostile)
    check_emails(app)
