"""The Google Merchant Center feed: RSS 2.0 with the ``g:`` namespace, one ``<item>`` per product.

Attributes follow Google's product data specification: required ones (id, title, description, link,
image_link, availability, price "150000 VND" — đồng have no minor unit, condition) and the useful
optional ones (additional_image_link ≤ 10, brand, gtin or identifier_exists "no", product_type,
shipping_weight, custom_label_0 for the OCOP rating). Items Google would disapprove (``rules``: a
blocking problem) are left out — the feed report lists them; over-long texts are shortened.

Written with ``xml.sax.saxutils.XMLGenerator`` (escaping, namespace prefixes) into a small buffer
emptied after every item, so memory stays flat however long the feed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesNSImpl

from service.feeds.formats import FeedContext, feed_format
from service.feeds.items import FeedItem
from service.feeds.rules import LIMITS, blocking, problems, shorten

G = "http://base.google.com/ns/1.0"
NO_ATTRIBUTES = AttributesNSImpl({}, {})
# Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF).
NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    return NOT_XML.sub("", text)


class _Writer:
    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.xml = XMLGenerator(self.buffer, encoding="utf-8", short_empty_elements=False)

    def flush(self) -> bytes:
        data = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return data

    def start(self, name: str, namespace: str | None = None, attributes: dict[str, str] | None = None) -> None:
        attrs = AttributesNSImpl({(None, k): v for k, v in (attributes or {}).items()}, {})
        self.xml.startElementNS((namespace, name), None, attrs)  # type: ignore[arg-type]

    def end(self, name: str, namespace: str | None = None) -> None:
        self.xml.endElementNS((namespace, name), None)  # type: ignore[arg-type]

    def element(self, name: str, text: str, namespace: str | None = None) -> None:
        self.start(name, namespace)
        self.xml.characters(xml_text(text))
        self.end(name, namespace)

    def g(self, name: str, text: str) -> None:
        self.element(name, text, G)

    def newline(self) -> None:
        self.xml.ignorableWhitespace("\n")


def ocop_label(stars: int | None, language: str) -> str:
    if not stars:
        return ""
    return f"OCOP {stars} stars" if language == "en" else f"OCOP {stars} sao"


def _item(out: _Writer, item: FeedItem, language: str) -> None:
    out.start("item")
    out.g("id", item.id)
    out.g("title", shorten(item.title, LIMITS["title"]))
    out.g("description", shorten(item.description, LIMITS["description"]))
    out.g("link", item.link)
    out.g("image_link", item.image_link)
    for url in item.additional_image_links[: LIMITS["additional_image_link"]]:
        out.g("additional_image_link", url)
    out.g("availability", item.availability)
    out.g("price", f"{item.price} {item.currency}")
    out.g("condition", item.condition)
    if item.brand:
        out.g("brand", shorten(item.brand, LIMITS["brand"]))
    if item.gtin:
        out.g("gtin", item.gtin)
    else:
        out.g("identifier_exists", "no")
    if item.product_type:
        out.g("product_type", shorten(item.product_type, LIMITS["product_type"]))
    if item.weight_grams:
        out.g("shipping_weight", f"{item.weight_grams} g")
    label = ocop_label(item.ocop_stars, language)
    if label:
        out.g("custom_label_0", shorten(label, LIMITS["custom_label"]))
    out.end("item")
    out.newline()


@feed_format("google-merchant", "google-merchant.xml", "application/xml; charset=utf-8")
def render(items: Iterable[FeedItem], context: FeedContext) -> Iterator[bytes]:
    out = _Writer()
    tenant = context.tenant
    tagline = (tenant.tagline_en if context.language == "en" and tenant.tagline_en else tenant.tagline_vi)
    out.xml.startDocument()
    out.xml.startPrefixMapping("g", G)
    out.start("rss", attributes={"version": "2.0"})
    out.newline()
    out.start("channel")
    out.newline()
    out.element("title", tenant.name)
    out.element("link", context.link)
    out.element("description", tagline or tenant.name)
    out.newline()
    yield out.flush()
    for item in items:
        if blocking(problems(item, "google")):
            continue  # Google would disapprove it: the feed report says why
        _item(out, item, context.language)
        yield out.flush()
    out.end("channel")
    out.end("rss")
    out.xml.endPrefixMapping("g")
    out.xml.endDocument()
    out.newline()
    yield out.flush()
