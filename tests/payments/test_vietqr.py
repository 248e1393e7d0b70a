"""VietQR: the EMVCo payload (checked against a published vector and an independent parser and CRC),
the seller's bank account, the display_qr next action and the public SVG of an intent."""

from __future__ import annotations

import binascii
import secrets
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.catalog import services as catalog
from service.catalog.models import Seller
from service.core.errors import Invalid
from service.db import PLATFORM, Scope, scoped
from service.orders.models import Order, OrderLine, PaymentMethod, SellerOrder
from service.payments import services as payments
from service.payments import vietqr
from service.payments.models import IntentStatus
from service.tenants.services import SYSTEM
from tests.admin.helpers import sign_in, text
from tests.api.conftest import assert_error

AGRIBANK = "970405"


def parse_tlv(data: str) -> list[tuple[str, str]]:
    """An EMVCo tag-length-value string as (tag, value) pairs, written apart from the encoder."""
    pairs, position = [], 0
    while position < len(data):
        tag, length = data[position:position + 2], int(data[position + 2:position + 4])
        value = data[position + 4:position + 4 + length]
        assert len(value) == length, f"tag {tag} is cut short"
        pairs.append((tag, value))
        position += 4 + length
    return pairs


def fields_of(payload: str) -> dict[str, str]:
    pairs = parse_tlv(payload)
    assert [tag for tag, _ in pairs][-1] == "63", "the CRC comes last"
    return dict(pairs)


# -- the payload ------------------------------------------------------------------------------

def test_crc16_ccitt_false_known_vector():
    assert vietqr.crc16_ccitt_false(b"123456789") == 0x29B1
    # the standard library's CRC-CCITT started at 0xFFFF is the same function
    assert vietqr.crc16_ccitt_false(b"000201010212") == binascii.crc_hqx(b"000201010212", 0xFFFF)


def test_payload_matches_a_published_vietqr_string():
    # The example of a public VietQR generator: 120.000 đ to VietinBank 0011001932418, "ủng hộ lũ lụt".
    published = ("00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA"
                 "530370454061200005802VN62170813ung ho lu lut6304C15C")
    assert vietqr.payload(bank_bin="970415", account_number="0011001932418", amount=120_000,
                          purpose="ủng hộ lũ lụt") == published


def test_payload_layout_parses_back():
    data = vietqr.payload(bank_bin=AGRIBANK, account_number="3700205123456", amount=345_000,
                          purpose="CT-261127-AB12X")
    root = fields_of(data)
    assert [tag for tag, _ in parse_tlv(data)] == ["00", "01", "38", "53", "54", "58", "62", "63"]
    assert (root["00"], root["01"], root["53"], root["54"], root["58"]) == ("01", "12", "704", "345000", "VN")
    merchant = dict(parse_tlv(root["38"]))
    assert merchant == {"00": "A000000727", "01": merchant["01"], "02": "QRIBFTTA"}
    assert dict(parse_tlv(merchant["01"])) == {"00": AGRIBANK, "01": "3700205123456"}
    assert dict(parse_tlv(root["62"])) == {"08": "CT-261127-AB12X"}
    # CRC over everything before its value, "6304" included, as 4 upper-case hex digits
    assert data[-8:-4] == "6304" and root["63"] == f"{binascii.crc_hqx(data[:-4].encode(), 0xFFFF):04X}"
    assert data.isascii()


def test_static_payload_has_no_amount_and_a_valid_crc():
    # A seller's own code: tag 01 "11" (static) and no tag 54, so the payer's app asks for the amount.
    data = vietqr.payload(bank_bin=AGRIBANK, account_number="3700205123456", amount=None)
    assert data == ("00020101021138570010A00000072701270006970405011337002051234560208QRIBFTTA"
                    "53037045802VN6304" + f"{binascii.crc_hqx(data[:-4].encode(), 0xFFFF):04X}")
    assert [tag for tag, _ in parse_tlv(data)] == ["00", "01", "38", "53", "58", "63"]
    root = fields_of(data)
    assert (root["01"], root["53"], root["58"]) == ("11", "704", "VN")
    assert dict(parse_tlv(dict(parse_tlv(root["38"]))["01"])) == {"00": AGRIBANK, "01": "3700205123456"}
    with_purpose = fields_of(vietqr.payload(bank_bin=AGRIBANK, account_number="3700205123456", amount=None,
                                            purpose="Chợ quê"))
    assert dict(parse_tlv(with_purpose["62"])) == {"08": "Cho que"} and "54" not in with_purpose


def test_inline_svg_draws_the_same_code_for_a_page():
    data = vietqr.payload(bank_bin=AGRIBANK, account_number="3700205123456", amount=None)
    inline = vietqr.svg_inline(data, title="VietQR <Tư>")
    assert inline.startswith("<svg") and "<?xml" not in inline and "<title>VietQR &lt;Tư&gt;</title>" in inline
    standalone = ET.fromstring(vietqr.svg(data))
    ns = "{http://www.w3.org/2000/svg}"
    drawn = ET.fromstring(inline.replace("<svg ", f'<svg xmlns="{ns[1:-1]}" ', 1))
    assert [p.get("d") for p in drawn.iter(f"{ns}path")] == [p.get("d") for p in standalone.iter(f"{ns}path")]


def test_purpose_is_folded_ascii_of_at_most_25_characters():
    assert vietqr.purpose_text("Đơn hàng CT-261127-AB12X của Cẩm Thanh") == "Don hang CT-261127-AB12X"
    assert vietqr.purpose_text("  Bưởi\tTân  Triều \n") == "Buoi Tan Trieu"
    assert vietqr.purpose_text("☕ cà phê 😀") == "ca phe"
    data = vietqr.payload(bank_bin=AGRIBANK, account_number="123456", amount=1, purpose="Đặc sản " * 10)
    assert len(dict(parse_tlv(fields_of(data)["62"]))["08"]) == 25
    assert "62" not in fields_of(vietqr.payload(bank_bin=AGRIBANK, account_number="123456", amount=1, purpose="😀"))


@pytest.mark.parametrize("changes", [{"bank_bin": "97040"}, {"account_number": "12345"},
                                     {"account_number": "12345678901234567890"}, {"account_number": "12AB5678"},
                                     {"amount": 0}, {"amount": 10 ** 13}])
def test_payload_refuses_what_banks_would_refuse(changes):
    arguments = {"bank_bin": AGRIBANK, "account_number": "123456789", "amount": 50_000, "purpose": "x"} | changes
    with pytest.raises(ValueError):
        vietqr.payload(**arguments)


def test_svg_is_a_standalone_document():
    data = vietqr.payload(bank_bin=AGRIBANK, account_number="3700205123456", amount=345_000, purpose="CT-1")
    image = vietqr.svg(data)
    root = ET.fromstring(image)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == root.get("height") and int(root.get("width")) > 100
    lowered = image.decode().lower()
    assert "href" not in lowered and "<image" not in lowered and "<script" not in lowered and "@import" not in lowered
    assert vietqr.svg(data) == image  # the same payload always draws the same picture (cacheable)


def test_bank_table_has_the_common_banks():
    assert {"970436", "970415", "970418", "970405", "970407", "970422", "970416", "970432", "970403",
            "970423"} <= set(vietqr.BANKS)
    assert vietqr.BANKS["970436"].short_name == "Vietcombank" and vietqr.BANKS["970405"].short_name == "Agribank"
    choices = vietqr.bank_choices()
    assert len(choices) == len(vietqr.BANKS) and all(len(bin_) == 6 and bin_.isdigit() for bin_, _ in choices)


# -- the seller's bank account ------------------------------------------------------------------

def _patch_seller(client, world, seller_id, body):
    return client.patch(f"/api/v1/communes/cam-thanh/sellers/{seller_id}", headers=world.auth(world.a.tokens["admin"]),
                        json=body)


def _seller(db_session, seller_id) -> Seller:
    db_session.expire_all()
    with scoped(db_session, PLATFORM):
        seller = db_session.get(Seller, seller_id)
    assert seller is not None
    return seller


def test_staff_sets_a_sellers_bank_account_through_the_api(client, db_session, world):
    seller_id = world.a.sellers["own"]
    response = _patch_seller(client, world, seller_id, {"bank_bin": AGRIBANK, "bank_account_number": "3700 205.123-456",
                                                        "bank_account_name": "  Nguyễn Thị   Tư "})
    assert response.status_code == 200, response.json
    assert {key: response.json[key] for key in ("bank_bin", "bank_account_number", "bank_account_name")} == {
        "bank_bin": AGRIBANK, "bank_account_number": "3700205123456", "bank_account_name": "NGUYEN THI TU"}
    seller = _seller(db_session, seller_id)
    assert (seller.bank_bin, seller.bank_account_number, seller.bank_account_name) == (
        AGRIBANK, "3700205123456", "NGUYEN THI TU")
    with scoped(db_session, PLATFORM):
        entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "seller.updated")
                                   .order_by(AuditEntry.id.desc())).first()
    assert entry is not None and entry.changes["bank_account_number"] == ["", "3700205123456"]
    # a partial change keeps the rest; clearing all three removes the account
    response = _patch_seller(client, world, seller_id, {"bank_account_number": "111222333"})
    assert response.status_code == 200 and response.json["bank_bin"] == AGRIBANK
    cleared = {"bank_bin": "", "bank_account_number": "", "bank_account_name": ""}
    response = _patch_seller(client, world, seller_id, cleared)
    assert response.status_code == 200 and response.json["bank_account_number"] == ""


@pytest.mark.parametrize(("account", "param", "code"), [
    ({"bank_bin": "123456", "bank_account_number": "3700205123456", "bank_account_name": "NGUYEN THI TU"},
     "bank_bin", "invalid_bank"),
    ({"bank_bin": AGRIBANK, "bank_account_number": "37002O5", "bank_account_name": "NGUYEN THI TU"},
     "bank_account_number", "invalid_account_number"),
    ({"bank_bin": AGRIBANK, "bank_account_number": "12345", "bank_account_name": "NGUYEN THI TU"},
     "bank_account_number", "invalid_account_number"),
    ({"bank_bin": AGRIBANK, "bank_account_number": "3700205123456", "bank_account_name": "HTX SO 1"},
     "bank_account_name", "invalid_account_name"),
    ({"bank_bin": AGRIBANK}, "bank_account_number", "invalid_account_number"),  # all three or none
    ({"bank_account_name": "NGUYEN THI TU"}, "bank_bin", "invalid_bank"),
])
def test_invalid_bank_accounts_are_refused_and_nothing_changes(client, db_session, world, account, param, code):
    seller_id = world.a.sellers["other"]
    response = _patch_seller(client, world, seller_id, account)
    assert_error(response, 422, code, param)
    seller = _seller(db_session, seller_id)
    assert (seller.bank_bin, seller.bank_account_number, seller.bank_account_name) == ("", "", "")


def test_only_those_who_may_edit_a_seller_set_its_account(client, world):
    seller_id = world.a.sellers["own"]
    account = {"bank_bin": AGRIBANK, "bank_account_number": "3700205123456", "bank_account_name": "TU TAI"}
    # the seller itself may read but not change its profile; a volunteer does not even see a seller
    # that gave no consent; another commune's admin sees nothing
    for role, status in (("seller", 403), ("volunteer", 404)):
        response = client.patch(f"/api/v1/communes/cam-thanh/sellers/{seller_id}",
                                headers=world.auth(world.a.tokens[role]), json=account)
        assert response.status_code == status, (role, response.json)
    response = client.patch(f"/api/v1/communes/nam-phuoc/sellers/{seller_id}",
                            headers=world.auth(world.b.tokens["admin"]), json=account)
    assert response.status_code == 404


def test_volunteer_registers_a_household_with_its_bank_account(client, world):
    response = client.post("/api/v1/communes/cam-thanh/sellers", headers=world.auth(world.a.tokens["volunteer"]),
                           json={"name": "Bà Chín", "assisted_listing_consent": True, "bank_bin": "970436",
                                 "bank_account_number": "0071000123456", "bank_account_name": "Lê Thị Chín"})
    assert response.status_code == 201, response.json
    assert response.json["bank_account_name"] == "LE THI CHIN"


def test_admin_seller_form_has_a_bank_select_and_saves_the_account(client, db_session, world):
    seller_id = world.a.sellers["assisted"]
    sign_in(client, db_session, world.a.users["admin"])
    page = text(client.get(f"/c/cam-thanh/admin/sellers/{seller_id}/edit"))
    assert '<select id="bank_bin" name="bank_bin"' in page
    assert f'<option value="{AGRIBANK}">Agribank - Ngân hàng Nông nghiệp' in page
    assert 'name="bank_account_number"' in page and 'name="bank_account_name"' in page
    form = {"name": "Bà Năm Cẩm Thanh", "assisted_listing_consent": "1", "consent_note": "Đồng ý tại nhà",
            "is_active": "1", "bank_bin": AGRIBANK, "bank_account_number": "3700 205 123 456",
            "bank_account_name": "Trần Thị Năm"}
    response = client.post(f"/c/cam-thanh/admin/sellers/{seller_id}/edit", data=form)
    assert response.status_code in (302, 303), text(response)
    seller = _seller(db_session, seller_id)
    assert (seller.bank_bin, seller.bank_account_number, seller.bank_account_name) == (
        AGRIBANK, "3700205123456", "TRAN THI NAM")
    page = text(client.get(f"/c/cam-thanh/admin/sellers/{seller_id}/edit"))
    assert f'<option value="{AGRIBANK}" selected>' in page and 'value="TRAN THI NAM"' in page
    # a wrong account number is shown next to its field and nothing is saved
    response = client.post(f"/c/cam-thanh/admin/sellers/{seller_id}/edit?lang=en",
                           data=form | {"bank_account_number": "12"})
    assert response.status_code == 422
    page = text(response)
    assert 'id="bank_account_number-error"' in page and "6 to 19 digits" in page
    assert _seller(db_session, seller_id).bank_account_number == "3700205123456"


# -- the provider and the image -----------------------------------------------------------------

def make_order(db_session, commune, seller_ids, number="CT-261127-AB12X", method=PaymentMethod.VIETQR):
    """An order with one part per seller, one line each (the orders module makes them at checkout)."""
    with scoped(db_session, Scope(commune.id)):
        order = Order(number=number, secret=secrets.token_urlsafe(32), payment_method=method,
                      buyer_name="Nguyễn Thị Lan", buyer_phone="0905 123 456", buyer_email="lan@example.vn",
                      province="Quảng Nam", district="Hội An", ward="Cẩm Thanh", street="12 Thôn 2",
                      subtotal=0, total=0)
        for index, seller_id in enumerate(seller_ids, start=1):
            price = 100_000 * index
            part = SellerOrder(seller_id=seller_id, subtotal=price)
            part.lines = [OrderLine(title=f"Sản phẩm {index}", unit="chai", unit_price=price, quantity=1,
                                    line_total=price)]
            order.parts.append(part)
        order.subtotal = order.total = sum(part.subtotal for part in order.parts)
        db_session.add(order)
        db_session.flush()
        return order


def _give_account(db_session, commune, seller_id):
    with scoped(db_session, Scope(commune.id)):
        seller = catalog.get_seller(db_session, seller_id)
        catalog.update_seller(db_session, SYSTEM, seller, {"bank_bin": AGRIBANK,
                                                           "bank_account_number": "3700205123456",
                                                           "bank_account_name": "Nguyễn Văn Tư Tài"})


def _vietqr_intent(db_session, commune, part, context):
    with scoped(db_session, Scope(commune.id)):
        return payments.create_intent(db_session, amount=part.subtotal, payment_method="vietqr",
                                      order_id=part.order_id, seller_order_id=part.id, context=context)


def test_vietqr_intent_shows_the_sellers_qr(app, db_session, world):
    _give_account(db_session, world.a, world.a.sellers["own"])
    order = make_order(db_session, world.a, [world.a.sellers["own"]])
    intent = _vietqr_intent(db_session, world.a, order.parts[0],
                            {"commune_slug": "cam-thanh", "order_number": order.number})
    db_session.commit()
    assert intent.status == IntentStatus.REQUIRES_ACTION and intent.expires_at is not None
    action = intent.next_action
    assert action is not None and action["type"] == "display_qr"
    qr = action["display_qr"]
    assert qr["image_url_svg"] == f"/c/cam-thanh/pay/{intent.public_id}/qr.svg"
    assert {key: qr[key] for key in ("bank_bin", "bank_name", "account_number", "account_name", "amount",
                                     "purpose")} == {
        "bank_bin": AGRIBANK, "bank_name": "Agribank", "account_number": "3700205123456",
        "account_name": "NGUYEN VAN TU TAI", "amount": 100_000, "purpose": "CT-261127-AB12X"}
    root = fields_of(qr["payload"])
    assert dict(parse_tlv(dict(parse_tlv(root["38"]))["01"])) == {"00": AGRIBANK, "01": "3700205123456"}
    assert root["54"] == "100000" and dict(parse_tlv(root["62"]))["08"] == order.number
    assert payments.serialize_intent(intent)["next_action"] == action


def test_each_part_of_an_order_pays_its_own_seller(db_session, world):
    own, other = world.a.sellers["own"], world.a.sellers["other"]
    _give_account(db_session, world.a, own)
    with scoped(db_session, Scope(world.a.id)):
        seller = catalog.get_seller(db_session, other)
        catalog.update_seller(db_session, SYSTEM, seller, {"bank_bin": "970436", "bank_account_number": "0071000999888",
                                                           "bank_account_name": "HTX RAU CAM THANH"})
    order = make_order(db_session, world.a, [own, other])
    first = _vietqr_intent(db_session, world.a, order.parts[0], {"commune_slug": "cam-thanh"})
    second = _vietqr_intent(db_session, world.a, order.parts[1], {"commune_slug": "cam-thanh"})
    accounts = [(intent.next_action["display_qr"]["bank_name"], intent.next_action["display_qr"]["account_number"],
                 intent.next_action["display_qr"]["amount"]) for intent in (first, second)]
    assert accounts == [("Agribank", "3700205123456", 100_000), ("Vietcombank", "0071000999888", 200_000)]


def test_a_seller_without_bank_account_cannot_take_vietqr(db_session, world):
    order = make_order(db_session, world.a, [world.a.sellers["other"]])
    with pytest.raises(Invalid) as raised:
        _vietqr_intent(db_session, world.a, order.parts[0], {"commune_slug": "cam-thanh"})
    assert (raised.value.code, raised.value.param) == ("vietqr_unavailable", "payment_method")
    assert "HTX Rau Cẩm Thanh" in raised.value.message and "bank account" in raised.value.message


def test_the_qr_image_is_public_cached_and_only_in_its_commune(app, client, db_session, world):
    _give_account(db_session, world.a, world.a.sellers["own"])
    order = make_order(db_session, world.a, [world.a.sellers["own"]])
    intent = _vietqr_intent(db_session, world.a, order.parts[0], {"commune_slug": "cam-thanh"})
    with scoped(db_session, Scope(world.a.id)):
        cod = payments.create_intent(db_session, amount=50_000, payment_method="cod", order_id=order.id)
    db_session.commit()
    response = client.get(f"/c/cam-thanh/pay/{intent.public_id}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == vietqr.svg(intent.next_action["display_qr"]["payload"])
    assert client.get(f"/c/nam-phuoc/pay/{intent.public_id}/qr.svg").status_code == 404
    assert client.get("/c/cam-thanh/pay/pi_000000000000000000000000/qr.svg").status_code == 404
    assert client.get(f"/c/cam-thanh/pay/{cod.public_id}/qr.svg").status_code == 404
    with app.app_context(), scoped(db_session, Scope(world.a.id)):  # the order's listeners e-mail the buyer
        payments.cancel(db_session, payments.get_intent(db_session, intent.public_id), "abandoned")
        db_session.commit()
    assert client.get(f"/c/cam-thanh/pay/{intent.public_id}/qr.svg").status_code == 404
