"""The Open311 GeoReport v2 server: both formats of every method, every filter of GET requests, the error
format and statuses, API keys on POST, the rate limit, and the reporter's contact absent from every answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import select

from service import create_app
from service.core.clock import DISPLAY_ZONE
from service.db import PLATFORM, database, utcnow
from service.engagement import services
from service.engagement.models import FieldReport, PrivateContact, ReportChannel, ReportStatus
from service.engagement.open311_keys import key_for, revoke_key
from service.media.services import UploadPolicy, attach, upload
from service.media.storage import get_storage
from tests.conftest import app_config
from tests.engagement.open311_helpers import (
    add_report,
    add_services,
    children,
    in_commune,
    json_of,
    new_key,
    xml,
)
from tests.factories import build_world
from tests.media.imagegen import encode, photo

A = "/c/cam-thanh/open311/v2"
B = "/c/nam-phuoc/open311/v2"


@pytest.fixture
def communes(app, world):
    add_services(app, world.a.id)
    add_services(app, world.b.id)
    return world


def post(client, fmt="json", base=A, **form):
    return client.post(f"{base}/requests.{fmt}", data=form)


def light_form(key, **extra):
    form = {"api_key": key, "service_code": "den-duong", "lat": "15.8794", "long": "108.3352",
            "description": "Đèn đường trước đình làng không sáng 3 đêm nay", "attribute[pole_type]": "steel"}
    form.update(extra)
    return {name: value for name, value in form.items() if value is not None}


def error_of(response, status, fmt="json"):
    """The Open311 error body: [{code, description}] / <errors><error>; its code is the HTTP status."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    if fmt == "json":
        body = json_of(response)
        assert isinstance(body, list) and len(body) == 1 and body[0]["code"] == status
        return body[0]["description"]
    root = xml(response)
    assert root.tag == "errors" and [child.tag for child in root] == ["error"]
    error = children(root[0])
    assert error["code"] == str(status)
    return error["description"]


# -- services --------------------------------------------------------------------------------------

def test_services_list_in_both_formats_in_vietnamese_or_english(client, communes):
    body = json_of(client.get(f"{A}/services.json"))
    assert [service["service_code"] for service in body] == ["den-duong", "rac-thai"]
    light, litter = body
    assert light == {"service_code": "den-duong", "service_name": "Đèn đường hỏng",
                     "description": "Đèn không sáng & chập chờn", "metadata": True, "type": "realtime",
                     "keywords": "đèn, chiếu sáng", "group": "Hạ tầng"}
    assert litter["metadata"] is False and litter["group"] == "Môi trường"

    root = xml(client.get(f"{A}/services.xml"))
    assert root.tag == "services" and [child.tag for child in root] == ["service", "service"]
    first = children(root[0])
    assert first["service_code"] == "den-duong" and first["metadata"] == "true" and first["type"] == "realtime"
    assert first["description"] == "Đèn không sáng & chập chờn"  # escaped in the XML, whole again once parsed
    assert "&amp;" in client.get(f"{A}/services.xml").get_data(as_text=True)
    assert children(root[1])["metadata"] == "false"

    english = json_of(client.get(f"{A}/services.json?lang=en"))
    assert (english[0]["service_name"], english[0]["group"]) == ("Broken street light", "Infrastructure")


def test_service_definition_in_both_formats(client, communes):
    body = json_of(client.get(f"{A}/services/den-duong.json"))
    assert body["service_code"] == "den-duong"
    assert [attribute["code"] for attribute in body["attributes"]] == ["pole_type", "hazards", "note"]
    pole = body["attributes"][0]
    assert pole == {"variable": True, "code": "pole_type", "datatype": "singlevaluelist", "required": True,
                    "datatype_description": "", "order": 1, "description": "Loại cột đèn",
                    "values": [{"key": "concrete", "name": "Cột bê tông"}, {"key": "steel", "name": "Cột thép"}]}
    assert body["attributes"][2]["values"] == [] and body["attributes"][2]["required"] is False

    root = xml(client.get(f"{A}/services/den-duong.xml?lang=en"))
    assert root.tag == "service_definition"
    assert root.find("service_code").text == "den-duong"
    attributes = root.find("attributes")
    assert [attribute.find("code").text for attribute in attributes.findall("attribute")] == [
        "pole_type", "hazards", "note"]
    hazards = attributes.findall("attribute")[1]
    assert (hazards.find("datatype").text, hazards.find("required").text, hazards.find("variable").text,
            hazards.find("order").text, hazards.find("description").text) == (
        "multivaluelist", "false", "true", "2", "Hazards")
    assert [(value.find("key").text, value.find("name").text) for value in hazards.find("values")] == [
        ("wire", "Fallen wire"), ("dark", "Dark road")]

    assert client.get(f"{A}/services/rac-thai.json").get_json() == {"service_code": "rac-thai", "attributes": []}
    assert "No such report category" in error_of(client.get(f"{A}/services/no-such.json"), 404)
    error_of(client.get(f"{A}/services/no-such.xml"), 404, "xml")


# -- posting and reading back ----------------------------------------------------------------------

def test_a_posted_request_reads_back_by_id_by_token_and_in_the_list(app, client, communes):
    key = new_key(app, communes.a.id)
    response = post(client, **light_form(key, **{"attribute[hazards]": ["wire", "dark"],
                                                 "address_string": "Đình làng Cẩm Thanh"}))
    assert response.status_code == 201
    (created,) = json_of(response)
    assert set(created) == {"service_request_id", "token", "service_notice", "account_id"}
    code, token = created["service_request_id"], created["token"]
    assert code.startswith("CT-") and len(token) >= 20
    assert created["service_notice"] == "Xã sẽ trả lời trong vòng 5 ngày."

    with in_commune(app, communes.a.id) as session:
        report = services.report_by_code(session, code)
        assert report.channel == ReportChannel.OPEN311 and report.status == ReportStatus.SUBMITTED
        assert report.attribute_values == {"pole_type": "steel", "hazards": ["wire", "dark"]}
        assert (report.latitude, report.longitude, report.address) == (15.8794, 108.3352, "Đình làng Cẩm Thanh")
        assert report.department.code == "dia-chinh"

    (row,) = json_of(client.get(f"{A}/requests/{code}.json"))
    assert row["service_request_id"] == code and row["status"] == "open"
    assert row["service_code"] == "den-duong" and row["service_name"] == "Đèn đường hỏng"
    assert row["agency_responsible"] == "Địa chính - Xây dựng"
    assert row["lat"] == 15.8794 and row["long"] == 108.3352 and row["address"] == "Đình làng Cẩm Thanh"
    assert row["description"].startswith("Đèn đường trước đình")
    assert row["requested_datetime"].endswith("+07:00") and row["updated_datetime"].endswith("+07:00")
    assert len(row["requested_datetime"]) == len("2026-11-28T09:30:00+07:00")
    assert row["expected_datetime"] > row["requested_datetime"]
    assert row["media_url"] == "" and row["status_notes"] == ""

    root = xml(client.get(f"{A}/requests/{code}.xml"))
    assert root.tag == "service_requests" and [child.tag for child in root] == ["request"]
    fields = children(root[0])
    assert fields["service_request_id"] == code and fields["lat"] == "15.8794" and fields["long"] == "108.3352"
    assert fields["status"] == "open" and fields["requested_datetime"] == row["requested_datetime"]

    assert json_of(client.get(f"{A}/tokens/{token}.json")) == [{"service_request_id": code, "token": token}]
    token_root = xml(client.get(f"{A}/tokens/{token}.xml"))
    assert token_root.tag == "service_requests"
    assert children(token_root[0]) == {"service_request_id": code, "token": token}

    listed = json_of(client.get(f"{A}/requests.json"))
    assert [item["service_request_id"] for item in listed] == [code]

    # a staff answer shows as closed with its status notes
    with in_commune(app, communes.a.id) as session:
        report = services.report_by_code(session, code)
        services.change_status(session, report, status=ReportStatus.RESOLVED, public_note="Đã thay bóng đèn mới")
    (row,) = json_of(client.get(f"{A}/requests/{code}.json"))
    assert (row["status"], row["status_notes"]) == ("closed", "Đã thay bóng đèn mới")


def test_posting_in_xml_and_multipart(app, client, communes):
    key = new_key(app, communes.a.id)
    response = client.post(f"{A}/requests.xml", data={"api_key": key, "service_code": "rac-thai",
                                                      "address_string": "Bến thuyền Thanh Nhứt"},
                           content_type="multipart/form-data")
    assert response.status_code == 201
    root = xml(response)
    assert root.tag == "service_requests" and root[0].tag == "request"
    created = children(root[0])
    assert created["service_request_id"].startswith("CT-") and created["token"] and created["account_id"] == ""
    (row,) = json_of(client.get(f"{A}/requests/{created['service_request_id']}.json"))
    assert row["lat"] is None and row["address"] == "Bến thuyền Thanh Nhứt"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_errors_answer_in_the_open311_format(app, client, communes, fmt):
    key = new_key(app, communes.a.id)
    other_commune_key = new_key(app, communes.b.id)
    revoked = new_key(app, communes.a.id, "Ứng dụng cũ")
    with in_commune(app, communes.a.id) as session:
        revoke_key(session, key_for(session, revoked).id)

    def refused(status, **form):
        return error_of(post(client, fmt, **form), status, fmt)

    assert "api_key" in refused(403, **light_form(None))
    assert "api_key" in refused(403, **light_form("x311_not-a-key"))
    assert "revoked" in refused(403, **light_form(revoked))
    assert "api_key" in refused(403, **light_form(other_commune_key))
    assert "service_code" in refused(400, **light_form(key, service_code=None))
    assert "no-such" in refused(400, **light_form(key, service_code="no-such"))
    assert "location" in refused(400, **light_form(key, lat=None, long=None))
    assert "Coordinates" in refused(400, **light_form(key, lat="north"))
    assert "out of range" in refused(400, **light_form(key, lat="95"))
    assert "longitude" in refused(400, **light_form(key, long=None))
    assert "pole_type" in refused(400, **light_form(key, **{"attribute[pole_type]": "wooden"}))
    assert "pole_type" in refused(400, **light_form(key, **{"attribute[pole_type]": None}))
    assert "hazards" in refused(400, **light_form(key, **{"attribute[hazards]": ["wire", "fire"]}))
    refused(400, **light_form(key, email="not-an-email"))
    assert "media_url" in refused(400, **light_form(key, media_url="ftp://example.org/a.jpg"))
    assert "jurisdiction_id" in refused(404, **light_form(key, jurisdiction_id="nam-phuoc"))
    error_of(client.post(f"{A}/requests.html", data=light_form(key)), 404, "xml")
    with database(app).session(PLATFORM) as session:
        assert session.scalar(select(FieldReport.id)) is None  # nothing was filed
    # the same form with the right jurisdiction goes through
    assert post(client, fmt, **light_form(key, jurisdiction_id="cam-thanh")).status_code == 201


def test_get_requests_filters(app, client, communes):
    a = communes.a.id
    light = add_report(app, a, "den-duong", description="Đèn ngõ 5 tắt")
    litter = add_report(app, a, "rac-thai", description="Rác ở chợ Cẩm Thanh")
    closed = add_report(app, a, "rac-thai", description="Rác ở bến đò")
    hidden = add_report(app, a, "rac-thai", description="Tên và số nhà người hàng xóm")
    old = add_report(app, a, "rac-thai", description="Rác từ mùa lũ năm ngoái")
    other = add_report(app, communes.b.id, "rac-thai", description="Rác ở Nam Phước")
    now = utcnow()
    with in_commune(app, a) as session:
        services.change_status(session, services.report_by_code(session, closed), status=ReportStatus.RESOLVED,
                               public_note="Đã thu gom")
        services.report_by_code(session, hidden).is_hidden = True
        services.report_by_code(session, old).created_at = now - timedelta(days=120)
        services.report_by_code(session, litter).created_at = now - timedelta(days=10)
        services.report_by_code(session, light).created_at = now - timedelta(days=2)

    def codes(query="", fmt="json"):
        response = client.get(f"{A}/requests.{fmt}{query}")
        if fmt == "xml":
            root = xml(response)
            assert root.tag == "service_requests" and {child.tag for child in root} <= {"request"}
            return [request.find("service_request_id").text for request in root]
        return [row["service_request_id"] for row in json_of(response)]

    # default: the last 90 days, newest first, hidden ones and other communes' never
    assert codes() == [closed, light, litter]
    assert codes(fmt="xml") == [closed, light, litter]
    assert codes("?service_code=den-duong") == [light]
    assert codes("?service_code=den-duong,rac-thai") == [closed, light, litter]
    assert codes("?status=open") == [light, litter]
    assert codes("?status=closed", "xml") == [closed]
    assert codes("?status=open,closed") == [closed, light, litter]
    assert codes("?status=closed&service_code=den-duong") == []
    # service_request_id: every other filter is ignored, the 90 days too; hidden and foreign ids stay out
    assert codes(f"?service_request_id={old},{light}&status=closed&service_code=none") == [light, old]
    assert codes(f"?service_request_id={hidden},{other}") == []
    assert codes(f"?service_request_id={old.lower()}", "xml") == [old]
    # dates (W3C, on requested_datetime), with an offset, Z, or an unencoded plus
    week_ago = (now - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert codes(f"?start_date={week_ago}") == [closed, light]
    assert codes(f"?end_date={week_ago}") == [litter]

    def local_days_ago(days):
        return (now - timedelta(days=days)).astimezone(DISPLAY_ZONE).strftime("%Y-%m-%dT%H:%M:%S+07:00")

    assert codes(f"?start_date={local_days_ago(200)}&end_date={local_days_ago(100)}") == [old]
    assert codes(f"?start_date={local_days_ago(200)}&end_date={local_days_ago(5)}".replace("+", "%2B")) == [
        litter, old]
    assert codes(f"?start_date={local_days_ago(3)}&end_date={local_days_ago(1)}", "xml") == [light]
    assert codes(f"?start_date={local_days_ago(200)}&end_date={local_days_ago(5)}") == [litter, old]
    error_of(client.get(f"{A}/requests.json?start_date=yesterday"), 400)
    error_of(client.get(f"{A}/requests.xml?start_date={local_days_ago(1)}&end_date={local_days_ago(3)}"), 400,
             "xml")
    assert "status" in error_of(client.get(f"{A}/requests.json?status=pending"), 400)


def test_single_request_and_token_not_found(app, client, communes):
    mine = add_report(app, communes.a.id)
    theirs = add_report(app, communes.b.id)
    hidden = add_report(app, communes.a.id, description="Chuyện riêng của một gia đình")
    with in_commune(app, communes.a.id) as session:
        services.report_by_code(session, hidden).is_hidden = True
        hidden_token = services.report_by_code(session, hidden, public=False).open311_token
    with in_commune(app, communes.b.id) as session:
        their_token = services.report_by_code(session, theirs).open311_token
    assert client.get(f"{A}/requests/{mine}.json").status_code == 200
    for fmt in ("json", "xml"):
        error_of(client.get(f"{A}/requests/CT-000000-NOPE0.{fmt}"), 404, fmt)
        error_of(client.get(f"{A}/requests/{theirs}.{fmt}"), 404, fmt)
        error_of(client.get(f"{A}/requests/{hidden}.{fmt}"), 404, fmt)
        error_of(client.get(f"{A}/tokens/not-a-token.{fmt}"), 404, fmt)
        error_of(client.get(f"{A}/tokens/{their_token}.{fmt}"), 404, fmt)
        error_of(client.get(f"{A}/tokens/{hidden_token}.{fmt}"), 404, fmt)
    assert client.get(f"{B}/requests/{theirs}.json").status_code == 200


def test_unknown_commune_and_unknown_format_answer_in_the_open311_format(client, communes):
    assert "commune" in error_of(client.get("/c/no-such-commune/open311/v2/services.json"), 404)
    error_of(client.get("/c/no-such-commune/open311/v2/requests.xml"), 404, "xml")
    error_of(client.post("/c/no-such-commune/open311/v2/requests.json", data={"api_key": "x"}), 404)
    assert "format" in error_of(client.get(f"{A}/services.html"), 404, "xml")
    error_of(client.get(f"{A}/requests.csv"), 404, "xml")
    assert "jurisdiction_id" in error_of(client.get(f"{A}/services.json?jurisdiction_id=nam-phuoc"), 404)
    assert client.get(f"{A}/services.json?jurisdiction_id=cam-thanh").status_code == 200
    assert client.get(f"{A}/services.json").headers["Access-Control-Allow-Origin"] == "*"


def test_contact_details_never_appear_in_any_answer(app, client, communes):
    key = new_key(app, communes.a.id)
    secrets = {"email": "chi.lan@example.vn", "phone": "0905123456", "first_name": "Nguyễn",
               "last_name": "Thị Lan", "device_id": "device-7f3a9c", "account_id": "acct-99871"}
    response = post(client, **light_form(key, **secrets))
    assert response.status_code == 201
    (created,) = json_of(response)
    code, token = created["service_request_id"], created["token"]
    xml_response = post(client, "xml", **light_form(key, **secrets))
    assert xml_response.status_code == 201
    # the contact was kept, sealed, for staff
    with in_commune(app, communes.a.id) as session:
        report = services.report_by_code(session, code)
        contact = services.contact_of(session, "report", report.id)
        assert (contact.name, contact.phone, contact.email, contact.device_id) == (
            "Nguyễn Thị Lan", "+84905123456", "chi.lan@example.vn", "device-7f3a9c")
        sealed = session.scalars(select(PrivateContact.sealed)).first()
        assert "chi.lan" not in sealed
    answers = [response, xml_response]
    for fmt in ("json", "xml"):
        for path in (f"requests.{fmt}", f"requests/{code}.{fmt}", f"tokens/{token}.{fmt}",
                     f"requests.{fmt}?service_request_id={code}", f"requests.{fmt}?status=open",
                     f"requests.{fmt}?lang=en", f"services.{fmt}", f"services/den-duong.{fmt}"):
            answer = client.get(f"{A}/{path}")
            assert answer.status_code == 200, path
            answers.append(answer)
    for answer in answers:
        body = answer.get_data(as_text=True)
        for value in (*secrets.values(), "+84905123456", "905123456", "Thị Lan", "chi.lan"):
            assert value not in body, (value, body[:300])


def test_media_url_is_the_cover_photo_or_the_clients_own(app, client, communes):
    with_photo = add_report(app, communes.a.id, description="Ổ gà lớn trên đường ĐT608")
    with_link = add_report(app, communes.a.id, media_url="https://example.org/o-ga.jpg")
    with in_commune(app, communes.a.id) as session:
        policy = replace(UploadPolicy.from_config(app.config), process_inline=True)
        asset = upload(session, get_storage(), policy, encode(photo(640, 480), "JPEG"), "o-ga.jpg")
        attach(session, policy, "report", services.report_by_code(session, with_photo).id, asset)
    rows = {row["service_request_id"]: row for row in json_of(client.get(f"{A}/requests.json"))}
    assert rows[with_link]["media_url"] == "https://example.org/o-ga.jpg"
    cover = rows[with_photo]["media_url"]
    assert cover.startswith(app.config["PUBLIC_BASE_URL"] + "/media/") and cover.endswith(".jpg")
    assert client.get(cover.removeprefix(app.config["PUBLIC_BASE_URL"])).status_code == 200
    root = xml(client.get(f"{A}/requests/{with_photo}.xml"))
    assert root[0].find("media_url").text == cover


def test_discovery_in_both_formats(client, communes):
    body = json_of(client.get("/c/cam-thanh/open311/discovery.json"))
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/c/cam-thanh/open311/v2") and endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert body["changeset"].endswith("+07:00") and "Cẩm Thanh" in body["contact"]
    root = xml(client.get("/c/cam-thanh/open311/discovery.xml"))
    assert root.tag == "discovery"
    xml_endpoint = root.find("endpoints").find("endpoint")
    assert xml_endpoint.find("url").text == endpoint["url"]
    assert [fmt.text for fmt in xml_endpoint.find("formats").findall("format")] == endpoint["formats"]


def test_posting_is_rate_limited_per_key_and_address(database_url, tmp_path):
    app = create_app(app_config(database_url, tmp_path, OPEN311_RATE_LIMIT="2 per hour"))
    try:
        world = build_world(app)
        add_services(app, world.a.id)
        key, other_key = new_key(app, world.a.id), new_key(app, world.a.id, "Ứng dụng khác")
        client = app.test_client()
        form = {"service_code": "rac-thai", "address_string": "Chợ Cẩm Thanh"}
        # refusals do not use up the allowance: only filed requests count
        assert post(client, api_key=key, service_code="rac-thai").status_code == 400
        assert [post(client, api_key=key, **form).status_code for _ in range(2)] == [201, 201]
        assert "Too many" in error_of(post(client, api_key=key, **form), 429)
        error_of(post(client, "xml", api_key=key, **form), 429, "xml")
        assert post(client, api_key=other_key, **form).status_code == 201  # another app has its own allowance
        assert client.get(f"{A}/requests.json").status_code == 200  # reading is not limited
    finally:
        database(app).engine.dispose()


def test_a_photo_posted_as_a_file_goes_through_the_media_pipeline(app, client, communes):
    key = new_key(app, communes.a.id)
    refused = client.post(f"{A}/requests.json", data={**light_form(key), "media": (BytesIO(b"not a photo"),
                                                                                    "anh.jpg")},
                          content_type="multipart/form-data")
    error_of(refused, 400)
    with database(app).session(PLATFORM) as session:
        assert session.scalar(select(FieldReport.id)) is None
    jpeg = encode(photo(800, 600, seed=3), "JPEG")
    response = client.post(f"{A}/requests.json?api_key={key}",  # the key in the query string works too
                           data={**light_form(None), "media": (BytesIO(jpeg), "den-hong.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    code = response.get_json()[0]["service_request_id"]
    (row,) = json_of(client.get(f"{A}/requests/{code}.json"))
    assert row["media_url"].startswith(app.config["PUBLIC_BASE_URL"] + "/media/")
    assert client.get(row["media_url"].removeprefix(app.config["PUBLIC_BASE_URL"])).status_code == 200


def test_text_with_control_characters_still_makes_valid_xml(app, client, communes):
    code = add_report(app, communes.a.id, description="Cống <số 3> & \x0bnắp\x01 vỡ")
    root = xml(client.get(f"{A}/requests/{code}.xml"))
    assert root[0].find("description").text == "Cống <số 3> & nắp vỡ"
    (row,) = json_of(client.get(f"{A}/requests/{code}.json"))
    assert row["description"] == "Cống <số 3> & \x0bnắp\x01 vỡ"
