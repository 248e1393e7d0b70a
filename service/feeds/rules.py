"""What a marketplace would refuse in a feed, and why: one list of problems per item.

(The rule sets are filled by the issue-8 work; the shapes below are the contract other modules use.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from service.feeds.items import FeedItem

MARKETPLACES = ("google", "postmart")


@dataclass(frozen=True)
class Problem:
    field: str  # the feed attribute at fault: "image_link", "title", "shipping_weight", ...
    code: str  # stable machine code: "missing", "too_long", "invalid", ...
    message: str  # English, for people (pages translate by code)


def problems(item: FeedItem, marketplace: str) -> list[Problem]:
    """Everything ``marketplace`` would refuse in ``item``; empty when it is fine."""
    return []


def report(items: Iterable[FeedItem], marketplace: str) -> Iterator[tuple[FeedItem, list[Problem]]]:
    """The items that fail, each with its problems (streams like the items)."""
    for item in items:
        found = problems(item, marketplace)
        if found:
            yield item, found
