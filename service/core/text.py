"""Text helpers shared by every domain: slugs and Vietnamese folding."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower case, Vietnamese marks removed, đ -> d: 'Nước mắm' -> 'nuoc mam'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped).lower()


def slugify(text: str, max_length: int = 80) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
    return slug[:max_length].strip("-") or "item"
