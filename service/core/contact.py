"""What people type to be reached and found again: phone numbers, e-mail addresses, reference numbers."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import date

from service.core.errors import Invalid

_PHONE = re.compile(r"^(\+?84|0)[0-9]{8,10}$")
# Reference numbers people read out on the phone: no look-alikes (0/O, 1/I, 5/S, 8/B, 2/Z).
_REFERENCE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"


def check_phone(phone: str, param: str = "phone") -> None:
    if not _PHONE.match(re.sub(r"[\s.\-]", "", phone)):
        raise Invalid("Enter a Vietnamese phone number, for example 0905 123 456.", param=param,
                      code="invalid_phone")


def normalize_phone(phone: str, param: str = "phone") -> str:
    """'0905 123 456' and '+84 905-123-456' are both '+84905123456' (one form to compare and to send to)."""
    check_phone(phone, param)
    digits = re.sub(r"[\s.\-]", "", phone).lstrip("+")
    return "+84" + (digits[2:] if digits.startswith("84") else digits[1:])


def check_optional_email(email: str, param: str = "email") -> None:
    if email and ("@" not in email or len(email) > 254 or any(ch.isspace() for ch in email.strip())):
        raise Invalid("Enter a valid e-mail address, or leave it empty.", param=param, code="invalid_email")


def reference_number(commune_slug: str, day: date, taken: Callable[[str], bool], marker: str = "") -> str:
    """'CT-261128-7KQ4M' for Cẩm Thanh on 28/11/2026 (``marker`` 'B' gives 'CT-B261128-...' for bookings)."""
    prefix = "".join(word[0] for word in commune_slug.split("-") if word)[:3].upper() or "XS"
    while True:
        number = f"{prefix}-{marker}{day:%y%m%d}-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(5))
        if not taken(number):
            return number
