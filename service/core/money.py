"""Money is an integer number of đồng: VND has no minor unit."""

from __future__ import annotations

MAX_PRICE_VND = 10_000_000_000  # ten billion đồng: above any plausible listing


def format_vnd(amount: int | None) -> str:
    """150000 -> '150.000 ₫' (Vietnamese grouping with dots, symbol after the amount)."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    grouped = f"{abs(int(amount)):,}".replace(",", ".")
    return f"{sign}{grouped} ₫"


def parse_vnd(text: str) -> int:
    """Parse what a person types for a price: '150.000', '150,000 ₫', '150000đ'.

    Raises ValueError for anything that is not a whole number of đồng.
    """
    cleaned = text.strip().lower()
    for token in ("₫", "vnd", "vnđ", "đ", " ", "\u00a0"):
        cleaned = cleaned.replace(token, "")
    cleaned = cleaned.replace(".", "").replace(",", "")
    if not cleaned.isdigit():
        raise ValueError("not a whole number of đồng")
    return int(cleaned)
