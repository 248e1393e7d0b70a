"""What a marketplace would refuse in a feed, and why: one list of problems per item.

Two rule sets:

- ``google``: the Google Merchant Center product data specification. Required attributes (id, title,
  description, link, image_link, availability, price) must be present and valid, else Google disapproves
  the item: such problems are *blocking* and the Google feed leaves the item out. Length limits of free
  texts (title 150, description 5,000, brand 70, product_type 750) are *not* blocking: the feed cuts the
  text on a word boundary (``LIMITS`` and ``shorten`` are what google_merchant uses), the report says so.
- ``postmart``: a postal marketplace's bulk upload (Vietnam Post's Postmart and the like): a title, a
  price, a photo, a category, a description worth reading, and the shipping weight the post office
  prices the parcel by. Every problem is blocking.

Problem codes are stable (pages translate them, machines match them): ``missing``, ``too_long``,
``too_short``, ``too_many``, ``invalid``, ``not_positive``, ``bad_check_digit``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from service.catalog.services import valid_gtin
from service.feeds.items import FeedItem, iter_items
from service.media.storage import Storage
from service.tenants.models import Tenant

MARKETPLACES = ("google", "postmart")

# Google Merchant Center limits (characters, or counts for additional images).
LIMITS = {"id": 50, "title": 150, "description": 5000, "brand": 70, "product_type": 750,
          "custom_label": 100, "additional_image_link": 10}
GOOGLE_AVAILABILITY = ("in_stock", "out_of_stock", "preorder", "backorder")
GOOGLE_CONDITIONS = ("new", "refurbished", "used")
GTIN_LENGTHS = (8, 12, 13, 14)
POSTMART_MIN_DESCRIPTION = 20


@dataclass(frozen=True)
class Problem:
    field: str  # the feed attribute at fault: "image_link", "title", "shipping_weight", ...
    code: str  # stable machine code: "missing", "too_long", "invalid", ...
    message: str  # English, for people (pages translate by code)
    blocking: bool = True  # False: the feed still carries the item (a too-long text is shortened)


def problems(item: FeedItem, marketplace: str) -> list[Problem]:
    """Everything ``marketplace`` would refuse in ``item``; empty when it is fine."""
    if marketplace not in RULE_SETS:
        raise ValueError(f"unknown marketplace {marketplace!r}")
    return RULE_SETS[marketplace](item)


def blocking(found: Iterable[Problem]) -> bool:
    return any(problem.blocking for problem in found)


def report(items: Iterable[FeedItem], marketplace: str) -> Iterator[tuple[FeedItem, list[Problem]]]:
    """The items that fail, each with its problems (streams like the items)."""
    for item in items:
        found = problems(item, marketplace)
        if found:
            yield item, found


def feed_report(session: Session, storage: Storage, tenant: Tenant, marketplace: str, *,
                language: str = "vi") -> Iterator[tuple[FeedItem, list[Problem]]]:
    """The session's commune's exported products that ``marketplace`` would refuse or alter, and why."""
    return report(iter_items(session, storage, tenant, language=language), marketplace)


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut on a word boundary when one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.7:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


# -- checks -----------------------------------------------------------------------------------------


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _gtin_problems(gtin: str) -> list[Problem]:
    if not gtin:
        return []
    if not gtin.isdigit() or len(gtin) not in GTIN_LENGTHS:
        return [Problem("gtin", "invalid", "A GTIN has 8, 12, 13 or 14 digits.")]
    if not valid_gtin(gtin):  # the length and digits are right: the check digit is not
        return [Problem("gtin", "bad_check_digit", "The GTIN's last digit (check digit) is wrong.")]
    return []


def _too_long(field: str, text: str, limit: int) -> list[Problem]:
    if len(text) > limit:
        return [Problem(field, "too_long", f"Longer than {limit} characters: the feed shortens it.",
                        blocking=False)]
    return []


def google_problems(item: FeedItem) -> list[Problem]:
    found: list[Problem] = []
    if not item.id:
        found.append(Problem("id", "missing", "The product has no id."))
    elif len(item.id) > LIMITS["id"]:
        found.append(Problem("id", "too_long", f"The id is longer than {LIMITS['id']} characters."))
    if not item.title.strip():
        found.append(Problem("title", "missing", "The product has no title."))
    found += _too_long("title", item.title, LIMITS["title"])
    if not item.description.strip():
        found.append(Problem("description", "missing", "The product has no description."))
    found += _too_long("description", item.description, LIMITS["description"])
    if not is_web_url(item.link):
        found.append(Problem("link", "invalid", "The product page address is not an absolute http(s) URL."))
    if not item.image_link:
        found.append(Problem("image_link", "missing", "The product has no photo."))
    elif not is_web_url(item.image_link):
        found.append(Problem("image_link", "invalid", "The photo address is not an absolute http(s) URL."))
    if len(item.image_links) - 1 > LIMITS["additional_image_link"]:
        found.append(Problem("additional_image_link", "too_many",
                             f"More than {LIMITS['additional_image_link']} extra photos: the rest are left out.",
                             blocking=False))
    if item.availability not in GOOGLE_AVAILABILITY:
        found.append(Problem("availability", "invalid", "Availability is not one Google accepts."))
    if item.price <= 0:
        found.append(Problem("price", "not_positive", "The product has no price."))
    if item.condition not in GOOGLE_CONDITIONS:
        found.append(Problem("condition", "invalid", "Condition must be new, refurbished or used."))
    found += _too_long("brand", item.brand, LIMITS["brand"])
    found += _too_long("product_type", item.product_type, LIMITS["product_type"])
    found += _gtin_problems(item.gtin)
    return found


def postmart_problems(item: FeedItem) -> list[Problem]:
    found: list[Problem] = []
    if not item.title.strip():
        found.append(Problem("title", "missing", "The product has no title."))
    if item.price <= 0:
        found.append(Problem("price", "not_positive", "The product has no price."))
    if not item.image_link:
        found.append(Problem("image_link", "missing", "The product has no photo."))
    if not item.weight_grams:
        found.append(Problem("weight_grams", "missing", "The shipping weight is needed to post the parcel."))
    if not item.description.strip():
        found.append(Problem("description", "missing", "The product has no description."))
    elif len(item.description.strip()) < POSTMART_MIN_DESCRIPTION:
        found.append(Problem("description", "too_short",
                             f"The description is shorter than {POSTMART_MIN_DESCRIPTION} characters."))
    if not item.category:
        found.append(Problem("category", "missing", "The product has no category."))
    found += _gtin_problems(item.gtin)
    return found


RULE_SETS = {"google": google_problems, "postmart": postmart_problems}
