"""Stored XSS: hostile text typed into every free-text field, through the real forms (public and back office)
and the API, renders inert wherever it is shown: public pages in Vietnamese and English, back-office pages,
structured data (JSON-LD), OpenGraph tags, the Atom feed, Open311 XML and JSON, CSV exports, GeoJSON and the
e-mails of the outbox.

The forms are filled by reading them: every text input and textarea of a form gets the payload, so a field
added later is attacked too. Only fields with a strict format (phone, e-mail, numbers, dates, codes) keep a
valid value."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.db import PLATFORM, Scope, database
from tests.admin.helpers import sign_in
from tests.factories import World

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
            json.loads(body)
    if shown:
        assert any(MARKER in text for text in page.text), f"{where}: the payload is not shown (or was evaluated)"


def read_form(client: FlaskClient, url: str, action: str | None = None) -> Form:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    wanted = action or urlsplit(url).path
    forms = [form for form in parse(response.get_data(as_text=True)).forms
             if form.method == "post" and (form.action or urlsplit(url).path).split("?")[0] == wanted]
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
        elif attrs["tag"] == "textarea" or kind in ("text", "search"):
            limit = int(attrs.get("maxlength") or 10_000)
            payload = next((text for text in (LONG, SHORT, TINY) if len(text) <= limit), None)
            data[name] = payload if payload is not None else attrs.get("value", "")
        else:
            data.setdefault(name, attrs.get("value", ""))
    return {**data, **keep}


def submit(client: FlaskClient, url: str, keep: dict[str, Any] | None = None, action: str | None = None,
           expected: int = 303, **kwargs: Any) -> Any:
    form = read_form(client, url, action)
    response = client.post(form.action or url, data=hostile_values(form, keep or {}), **kwargs)
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
    from service.catalog.models import Category, Product, Seller

    made = Hostile()
    staff = signed_in(app, world.a.users["admin"])
    submit(staff, f"{ADMIN}/branding", keep={"primary_color": "#1f6f50"})
    submit(staff, f"{ADMIN}/categories/new", keep={"position": "1"})
    made.category_id = _last(app, Category, world.a.id).id
    submit(staff, f"{ADMIN}/sellers/new", keep={"phone": "0905 123 456", "bank_bin": "", "bank_account_number": "",
                                                "bank_account_name": ""})
    made.seller_id = _last(app, Seller, world.a.id).id
    submit(staff, f"{ADMIN}/products/new", keep={"seller_id": str(made.seller_id), "category_id": str(made.category_id),
                                                 "price": "150.000", "stock": "20", "gtin": "", "ocop_stars": "",
                                                 "ocop_certificate_year": "", "weight_grams": "500",
                                                 "unit": TINY, "ocop_certificate_number": TINY})
    product = _last(app, Product, world.a.id)
    made.product, made.product_id = product.slug, product.id
    for action in ("submit", "approve"):
        staff.post(f"{ADMIN}/products/{product.id}/status", data={"action": action, "note": LONG})
    return made


def test_public_pages_show_the_payload_as_text(app: Flask, client: FlaskClient, hostile: Hostile) -> None:
    pages = [f"{A}/", f"{A}/products", f"{A}/products/{hostile.product}"]
    for language in ("vi", "en"):
        for url in pages:
            response = client.get(f"{url}?lang={language}")
            assert response.status_code == 200, url
            assert_inert(response.get_data(as_text=True), f"{url} ({language})")
