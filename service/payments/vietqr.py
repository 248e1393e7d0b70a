"""VietQR: the NAPAS 24/7 bank-transfer QR that every Vietnamese banking app scans.

The payload is an EMVCo merchant-presented QR (tag-length-value, two-digit ids and lengths)
as NAPAS specifies it for an inter-bank transfer to an account (service ``QRIBFTTA``):

    00 "01"                           payload format
    01 "12"                           dynamic: the code carries the amount (an order's)
       "11"                           static: no amount, the payer types it (a seller's own code)
    38 00 "A000000727"                NAPAS' GUID
       01 00 <bank BIN> 01 <account>  beneficiary organisation
       02 "QRIBFTTA"                  transfer to an account
    53 "704"   54 <amount>   58 "VN"  đồng, whole amount (dynamic only), Vietnam
    62 08 <purpose>                   what the transfer is for: our order number
    63 <CRC-16/CCITT-FALSE of everything before, "6304" included>

The buyer's app fills in the bank, account, amount and purpose; the seller sees the order
number on the transfer and confirms it arrived (service.orders).
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import segno
from sqlalchemy.orm import Session

from service.catalog.models import Seller
from service.core.errors import Invalid
from service.orders.models import SellerOrder
from service.payments.models import PaymentIntent
from service.payments.services import provider
from service.tenants.models import Tenant

NAPAS_GUID = "A000000727"
SERVICE_TRANSFER_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"  # ISO 4217
COUNTRY_VN = "VN"
PURPOSE_MAX = 25  # characters of tag 62/08
AMOUNT_MAX_DIGITS = 13  # tag 54 holds at most 13 characters

ACCOUNT_NUMBER_RE = re.compile(r"^[0-9]{6,19}$")
ACCOUNT_NAME_RE = re.compile(r"^[A-Z]+(?: [A-Z]+)*$")
ACCOUNT_NAME_MAX = 70


@dataclass(frozen=True)
class Bank:
    bin: str  # NAPAS bank identification number (the "acquirer id" of tag 38/01/00)
    short_name: str
    name: str


# Banks of the NAPAS 24/7 network that households and cooperatives use, by BIN.
BANKS: dict[str, Bank] = {bank.bin: bank for bank in (
    Bank("970405", "Agribank", "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam"),
    Bank("970436", "Vietcombank", "Ngân hàng TMCP Ngoại thương Việt Nam"),
    Bank("970415", "VietinBank", "Ngân hàng TMCP Công thương Việt Nam"),
    Bank("970418", "BIDV", "Ngân hàng TMCP Đầu tư và Phát triển Việt Nam"),
    Bank("970407", "Techcombank", "Ngân hàng TMCP Kỹ thương Việt Nam"),
    Bank("970422", "MB", "Ngân hàng TMCP Quân đội"),
    Bank("970416", "ACB", "Ngân hàng TMCP Á Châu"),
    Bank("970432", "VPBank", "Ngân hàng TMCP Việt Nam Thịnh Vượng"),
    Bank("970403", "Sacombank", "Ngân hàng TMCP Sài Gòn Thương Tín"),
    Bank("970423", "TPBank", "Ngân hàng TMCP Tiên Phong"),
    Bank("970437", "HDBank", "Ngân hàng TMCP Phát triển TP. Hồ Chí Minh"),
    Bank("970441", "VIB", "Ngân hàng TMCP Quốc tế Việt Nam"),
    Bank("970443", "SHB", "Ngân hàng TMCP Sài Gòn - Hà Nội"),
    Bank("970431", "Eximbank", "Ngân hàng TMCP Xuất Nhập khẩu Việt Nam"),
    Bank("970426", "MSB", "Ngân hàng TMCP Hàng Hải Việt Nam"),
    Bank("970448", "OCB", "Ngân hàng TMCP Phương Đông"),
    Bank("970440", "SeABank", "Ngân hàng TMCP Đông Nam Á"),
    Bank("970449", "LPBank", "Ngân hàng TMCP Lộc Phát Việt Nam"),
    Bank("970454", "BVBank", "Ngân hàng TMCP Bản Việt"),
    Bank("970428", "Nam A Bank", "Ngân hàng TMCP Nam Á"),
    Bank("970409", "Bac A Bank", "Ngân hàng TMCP Bắc Á"),
    Bank("970452", "KienlongBank", "Ngân hàng TMCP Kiên Long"),
    Bank("970412", "PVcomBank", "Ngân hàng TMCP Đại Chúng Việt Nam"),
    Bank("970438", "BaoViet Bank", "Ngân hàng TMCP Bảo Việt"),
    Bank("970400", "Saigonbank", "Ngân hàng TMCP Sài Gòn Công Thương"),
    Bank("970406", "DongA Bank", "Ngân hàng TMCP Đông Á"),
    Bank("970419", "NCB", "Ngân hàng TMCP Quốc Dân"),
    Bank("970433", "Vietbank", "Ngân hàng TMCP Việt Nam Thương Tín"),
    Bank("970427", "VietABank", "Ngân hàng TMCP Việt Á"),
    Bank("970425", "ABBANK", "Ngân hàng TMCP An Bình"),
    Bank("970430", "PGBank", "Ngân hàng TMCP Thịnh vượng và Phát triển"),
    Bank("970408", "GPBank", "Ngân hàng TM TNHH MTV Dầu Khí Toàn Cầu"),
    Bank("970429", "SCB", "Ngân hàng TMCP Sài Gòn"),
    Bank("970446", "Co-opBank", "Ngân hàng Hợp tác xã Việt Nam"),
)}


def bank_choices() -> list[tuple[str, str]]:
    """(BIN, "Short name - full name") for a select, by short name."""
    return [(bank.bin, f"{bank.short_name} - {bank.name}")
            for bank in sorted(BANKS.values(), key=lambda bank: bank.short_name.lower())]


# -- text rules ---------------------------------------------------------------------------

def _strip_marks(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def purpose_text(text: str) -> str:
    """Tag 62/08 is plain ASCII of at most 25 characters: marks folded, anything else dropped."""
    spaced = " ".join(_strip_marks(text).split())  # tabs and newlines become single spaces
    ascii_only = "".join(ch for ch in spaced if " " <= ch <= "~")
    return " ".join(ascii_only.split())[:PURPOSE_MAX].strip()


def account_holder_name(text: str) -> str:
    """How banks show a holder: 'Nguyễn Thị Tư' -> 'NGUYEN THI TU'."""
    return " ".join(_strip_marks(text).upper().split())


def check_bank_account(bank_bin: str, account_number: str, account_name: str) -> None:
    """A seller's account is complete (all three) or absent (none); raises Invalid naming the field."""
    given = {"bank_bin": bank_bin, "bank_account_number": account_number, "bank_account_name": account_name}
    if not any(given.values()):
        return
    if bank_bin not in BANKS:
        raise Invalid("Choose the seller's bank from the list of VietQR banks.", param="bank_bin",
                      code="invalid_bank")
    if not ACCOUNT_NUMBER_RE.match(account_number):
        raise Invalid("The account number is 6 to 19 digits, without spaces.", param="bank_account_number",
                      code="invalid_account_number")
    if len(account_name) > ACCOUNT_NAME_MAX or not ACCOUNT_NAME_RE.match(account_name):
        raise Invalid("The account holder's name is written as the bank shows it: capital letters without "
                      "marks and spaces, e.g. NGUYEN THI TU (at most 70).", param="bank_account_name",
                      code="invalid_account_name")


def has_bank_account(seller: Seller) -> bool:
    return bool(seller.bank_bin and seller.bank_account_number and seller.bank_account_name)


# -- the payload --------------------------------------------------------------------------

def tlv(tag: str, value: str) -> str:
    if len(tag) != 2 or not tag.isdigit():
        raise ValueError(f"an EMVCo tag is two digits, not {tag!r}")
    if not 1 <= len(value) <= 99:
        raise ValueError(f"tag {tag}: a value has 1 to 99 characters, not {len(value)}")
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def payload(*, bank_bin: str, account_number: str, amount: int | None, purpose: str = "") -> str:
    """The EMVCo string of a dynamic VietQR transfer of ``amount`` đồng, or with ``amount=None`` of the
    account's static code (tag 01 "11", no tag 54: the payer's app asks for the amount)."""
    if not (len(bank_bin) == 6 and bank_bin.isdigit()):
        raise ValueError("a bank BIN is 6 digits")
    if not ACCOUNT_NUMBER_RE.match(account_number):
        raise ValueError("an account number is 6 to 19 digits")
    if amount is not None and (amount <= 0 or len(str(amount)) > AMOUNT_MAX_DIGITS):
        raise ValueError("the amount is a positive whole number of đồng")
    beneficiary = tlv("00", bank_bin) + tlv("01", account_number)
    merchant = tlv("00", NAPAS_GUID) + tlv("01", beneficiary) + tlv("02", SERVICE_TRANSFER_TO_ACCOUNT)
    body = tlv("00", "01") + tlv("01", "11" if amount is None else "12") + tlv("38", merchant) + tlv("53", CURRENCY_VND)
    if amount is not None:
        body += tlv("54", str(amount))
    body += tlv("58", COUNTRY_VN)
    purpose = purpose_text(purpose)
    if purpose:
        body += tlv("62", tlv("08", purpose))
    body += "6304"
    return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def _qr(data: str) -> segno.QRCode:
    return segno.make(data, error="m", micro=False, boost_error=False)


def svg(data: str) -> bytes:
    """The QR as a standalone SVG (error correction M, no external resources)."""
    out = io.BytesIO()
    _qr(data).save(out, kind="svg", scale=6, border=4, xmldecl=True, svgns=True, title="VietQR",
                   dark="#000", light="#fff")
    return out.getvalue()


def svg_inline(data: str, title: str = "VietQR") -> str:
    """The same picture as an <svg> element for an HTML page (saves a request on a slow line)."""
    return str(_qr(data).svg_inline(scale=6, border=4, title=title, dark="#000", light="#fff"))


# -- the provider -------------------------------------------------------------------------

def qr_image_path(commune_slug: str, intent_public_id: str) -> str:
    return f"/c/{commune_slug}/pay/{intent_public_id}/qr.svg"


def _commune_slug(session: Session, tenant_id: int) -> str:
    tenant = session.get(Tenant, tenant_id)
    return tenant.slug if tenant is not None else ""


def _payee(session: Session, intent: PaymentIntent) -> tuple[Seller, str]:
    """(the seller the money goes to, the reference the transfer carries)."""
    part = session.get(SellerOrder, intent.seller_order_id) if intent.seller_order_id else None
    if part is not None:
        return part.seller, part.order.number
    from service.tourism.models import Booking  # late: tourism builds on payments

    booking = session.get(Booking, intent.booking_id) if intent.booking_id else None
    if booking is not None:
        return booking.room_type.homestay.host, booking.number
    raise Invalid("A VietQR payment pays a seller's part of an order or a homestay booking.",
                  param="payment_method", code="vietqr_unavailable")


@provider("vietqr")
def next_action(session: Session, intent: PaymentIntent, context: dict[str, Any]) -> dict[str, Any]:
    """Show the QR of a transfer to whoever this intent pays: a seller for its part of an order, or a
    homestay's host for a booking."""
    seller, reference = _payee(session, intent)
    if not has_bank_account(seller):
        raise Invalid(f"{seller.name} has no bank account for VietQR transfers; choose another way to pay.",
                      param="payment_method", code="vietqr_unavailable")
    purpose = purpose_text(reference or str(context.get("order_number", "")))
    data = payload(bank_bin=seller.bank_bin, account_number=seller.bank_account_number, amount=intent.amount,
                   purpose=purpose)
    bank = BANKS.get(seller.bank_bin)
    slug = context.get("commune_slug") or _commune_slug(session, intent.tenant_id)
    return {"type": "display_qr", "display_qr": {
        "payload": data,
        "image_url_svg": qr_image_path(str(slug), intent.public_id),
        "bank_bin": seller.bank_bin,
        "bank_name": bank.short_name if bank else seller.bank_bin,
        "account_number": seller.bank_account_number,
        "account_name": seller.bank_account_name,
        "amount": intent.amount,
        "purpose": purpose,
    }}
