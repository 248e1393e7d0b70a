"""The citizen's report pages: filing (fields, photos, errors, honeypot, rate limit), the report page, tracking,
the list with filters, pagination and map, and the GeoJSON."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from service import create_app
from service.db import PLATFORM, Scope, database
from service.engagement.models import FieldReport, PrivateContact, ReportStatus, ReportUpdate
from service.jobs.models import OutboxMessage
from service.media.models import MediaAsset, MediaAttachment
from tests.conftest import app_config
from tests.engagement.report_helpers import file_report, report, setup_categories
from tests.factories import build_world
from tests.media.imagegen import GPS_IFD, encode, exif, photo

S = ReportStatus


@pytest.fixture
def ready(app, world):
    setup_categories(app, world.a)
    return world


def _count(app, model, *where):
    with database(app).session(PLATFORM) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def jpeg_with_gps(seed: int = 1, width: int = 640, height: int = 480) -> bytes:
    return encode(photo(width, height, seed), "JPEG", quality=85, exif=exif(gps=True))


def _form(**changes):
    data = {"category": "ngap-ung", "description": "Nước ngập tới đầu gối ở ngã ba chợ",
            "address": "Ngã ba chợ Cẩm Thanh", "lat": "15.8731", "long": "108.3512", "attribute[do-sau-cm]": "40",
            "name": "", "phone": "", "email": "", "website": ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _post(client, data, files=(), lang=""):
    payload = dict(data)
    if files:
        payload["photos"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/c/cam-thanh/reports/new{lang}", data=payload, content_type="multipart/form-data")


def _code_from(response) -> str:
    assert response.status_code == 303, response.text
    match = re.search(r"/c/cam-thanh/reports/([A-Z0-9-]+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


# -- the form ------------------------------------------------------------------------------------------

def test_the_form_starts_with_the_categories_then_shows_the_chosen_ones_fields(client, ready):
    page = client.get("/c/cam-thanh/reports/new")
    assert page.status_code == 200
    assert 'name="category" value="den-duong"' in page.text and "Mô tả Đèn đường hỏng" in page.text
    light = client.get("/c/cam-thanh/reports/new?category=den-duong")
    assert '<select id="attr-loai-su-co" name="attribute[loai-su-co]"' in light.text
    assert 'value="khong-sang"' in light.text and "Không sáng" in light.text
    assert 'type="file"' in light.text and 'accept="image/*" multiple' in light.text
    assert 'name="website"' in light.text and 'tabindex="-1"' in light.text and 'aria-hidden="true"' in light.text
    assert "navigator.geolocation" in light.text and 'id="lat"' in light.text and 'id="long"' in light.text
    litter = client.get("/c/cam-thanh/reports/new?category=rac-thai&lang=en")
    assert litter.text.count('type="checkbox" id="attr-loai-rac-') == 2 and "Plastic" in litter.text
    assert "Never shown publicly." in litter.text
    unknown = client.get("/c/cam-thanh/reports/new?category=nope")
    assert 'name="category" value="den-duong"' in unknown.text and 'class="field-error"' in unknown.text


def test_an_anonymous_report_is_filed_and_shows_its_tracking_code(app, client, ready):
    response = _post(client, _form())
    code = _code_from(response)
    assert re.fullmatch(r"CT-R\d{6}-[A-Z0-9]{5}", code)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Mã theo dõi" in page.text and f'<span class="tracking-code">{code}</span>' in page.text
    assert code in page.text.split('class="flash')[1]  # the flash names the code too
    filed = report(app, ready.a, code)
    assert filed is not None and filed.status == S.SUBMITTED and filed.language == "vi"
    assert (filed.latitude, filed.longitude, filed.attribute_values) == (15.8731, 108.3512, {"do-sau-cm": 40})
    assert _count(app, PrivateContact) == 0 and _count(app, OutboxMessage) == 0


def test_a_report_with_contact_keeps_it_sealed_and_queues_the_receipt(app, client, ready):
    code = _code_from(_post(client, _form(name="Ông Ba", phone="0905 123 456", email="ba@example.test"),
                            lang="?lang=en"))
    filed = report(app, ready.a, code)
    assert filed is not None and filed.language == "en"
    with app.app_context(), database(app).session(Scope(ready.a.id)) as session:
        from service.engagement.services import contact_of

        contact = contact_of(session, "report", filed.id)
    assert contact is not None and (contact.name, contact.phone, contact.email) == (
        "Ông Ba", "+84905123456", "ba@example.test")
    assert _count(app, OutboxMessage) == 1


def test_photos_go_through_the_pipeline_without_gps(app, client, ready, tmp_path):
    source = jpeg_with_gps(1)
    with Image.open(io.BytesIO(source)) as original:
        assert original.getexif().get_ifd(GPS_IFD), "the test photo must carry GPS"
    code = _code_from(_post(client, _form(), files=[("a.jpg", source), ("b.jpg", jpeg_with_gps(2))]))
    filed = report(app, ready.a, code)
    assert filed is not None
    assert _count(app, MediaAttachment, MediaAttachment.owner_type == "report",
                  MediaAttachment.owner_id == filed.id) == 2
    page = client.get(f"/c/cam-thanh/reports/{code}")
    urls = re.findall(r'<img src="([^"]+)"', page.text)
    assert len(urls) == 2
    for url in urls:
        served = client.get(url)
        assert served.status_code == 200
        with Image.open(io.BytesIO(served.data)) as stored:
            assert not stored.getexif() and "exif" not in stored.info
    assert list((tmp_path / "media").rglob("incoming/*/*")) == []


def test_a_bad_photo_refuses_the_whole_form_and_keeps_nothing(app, client, ready):
    response = _post(client, _form(description="Một mô tả đủ dài cho phản ánh"),
                     files=[("good.jpg", jpeg_with_gps(3)), ("notes.jpg", b"this is not an image at all")])
    assert response.status_code == 422
    assert "notes.jpg:" in response.text and "Một mô tả đủ dài cho phản ánh" in response.text
    assert "chọn lại" in response.text  # photos must be chosen again: said so
    assert _count(app, FieldReport) == 0 and _count(app, MediaAttachment) == 0 and _count(app, ReportUpdate) == 0


def test_more_than_four_photos_are_refused(app, client, ready):
    files = [(f"p{n}.jpg", jpeg_with_gps(n, 64, 48)) for n in range(5)]
    response = _post(client, _form(), files=files)
    assert response.status_code == 422 and 'id="photos-error"' in response.text
    assert _count(app, FieldReport) == 0 and _count(app, MediaAsset) == 0


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"description": "ngắn"}, "description", "10 ký tự"),
    ({"description": "x" * 4001}, "description", "4000"),
    ({"address": "", "lat": "", "long": ""}, "address", ""),
    ({"lat": "15.87", "long": ""}, "long", ""),
    ({"lat": "abc"}, "lat", ""),
    ({"lat": "95"}, "lat", ""),
    ({"address": "x" * 251}, "address", "250"),
    ({"phone": "12345"}, "phone", "0905 123 456"),
    ({"email": "not-an-address"}, "email", ""),
    ({"name": "n" * 121}, "name", "120"),
    ({"attribute[do-sau-cm]": "sâu lắm"}, "attr-do-sau-cm", ""),
    ({"category": "den-duong", "attribute[do-sau-cm]": None}, "attr-loai-su-co", ""),
    ({"category": "den-duong", "attribute[loai-su-co]": "chay-no"}, "attr-loai-su-co", ""),
    ({"category": "rac-thai", "attribute[loai-rac]": ["nhua", "lua"]}, "attr-loai-rac", ""),
])
def test_each_mistake_is_named_by_its_field_and_the_values_stay(app, client, ready, changes, field, message):
    response = _post(client, _form(**changes))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text, response.text
    assert message in response.text
    assert "Vui lòng sửa" in response.text or "form-errors" in response.text
    if "description" not in changes:
        assert "Nước ngập tới đầu gối ở ngã ba chợ" in response.text  # kept
    assert _count(app, FieldReport) == 0


def test_an_unknown_category_on_post_asks_for_one(app, client, ready):
    response = _post(client, _form(category="khong-co"))
    assert response.status_code == 422 and 'id="category-error"' in response.text
    assert _count(app, FieldReport) == 0


def test_the_honeypot_pretends_success_and_files_nothing(app, client, ready):
    response = _post(client, _form(website="http://spam.example"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/c/cam-thanh/reports/thanks")
    assert client.get(response.headers["Location"]).status_code == 200
    assert _count(app, FieldReport) == 0 and _count(app, OutboxMessage) == 0


def test_posting_too_often_gives_a_friendly_429(database_url, tmp_path):
    app = create_app(app_config(database_url, tmp_path, ENGAGEMENT_RATE_LIMIT="2 per hour"))
    try:
        world = build_world(app)
        setup_categories(app, world.a)
        client = app.test_client()
        for _ in range(3):  # a citizen's mistakes do not count against them
            assert _post(client, _form(description="ngắn")).status_code == 422
        for _ in range(2):
            assert _post(client, _form()).status_code == 303
        refused = _post(client, _form())
        assert refused.status_code == 429
        assert "Quá nhiều" in refused.text or "vui lòng chờ" in refused.text.lower()
        assert "gửi nhiều phản ánh" in refused.text
        assert client.get("/c/cam-thanh/reports/new").status_code == 200  # reading is never limited
        assert _count(app, FieldReport) == 2
    finally:
        database(app).engine.dispose()


# -- one report ---------------------------------------------------------------------------------------

def test_the_report_page_shows_the_public_record_and_history(app, client, ready):
    code = file_report(app, ready.a, category="den-duong", attributes={"loai-su-co": "chap-chon"}, steps=(
        (S.ACKNOWLEDGED, "Đã tiếp nhận, giao địa chính.", "NỘI-BỘ-1 gọi anh Tư"),
        (S.RESOLVED, "Đã thay bóng đèn mới.", "NỘI-BỘ-2 hết kinh phí")))
    page = client.get(f"/c/cam-thanh/reports/{code}")
    assert page.status_code == 200
    text = page.text
    for expected in ("Đèn đường hỏng", "Đã xử lý xong", "Đã tiếp nhận", "Mới gửi", "Đã thay bóng đèn mới.",
                     "Đã tiếp nhận, giao địa chính.", "Địa chính - Xây dựng", "Thôn 1", "Chập chờn",
                     "Loại sự cố", "openstreetmap.org/?mlat=15.87&amp;mlon=108.35", "Đường ngập sâu sau mưa"):
        assert expected in text, expected
    assert "NỘI-BỘ" not in text  # internal notes never
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", text)
    english = client.get(f"/c/cam-thanh/reports/{code}?lang=en")
    assert english.status_code == 200
    assert "Street light out" in english.text and "Resolved" in english.text and "Flickering" in english.text
    assert "Land and construction" in english.text and "Tracking code" in english.text


def test_an_overdue_report_says_so(app, client, ready):
    code = file_report(app, ready.a)
    with database(app).session(Scope(ready.a.id)) as session:
        found = session.scalars(select(FieldReport).where(FieldReport.code == code)).one()
        found.due_at = found.created_at - timedelta(days=1)
        session.commit()
    page = client.get(f"/c/cam-thanh/reports/{code}")
    assert 'class="overdue"' in page.text
    assert 'class="overdue"' in client.get("/c/cam-thanh/reports").text


def test_a_duplicate_links_to_the_original(app, client, ready):
    first = file_report(app, ready.a)
    with app.app_context(), database(app).session(Scope(ready.a.id)) as session:
        from service.engagement import services

        original = services.report_by_code(session, first)
        again = services.submit_report(session, category=original.category, description="Lại ngập như hôm trước",
                                       location=services.check_location("Thôn 1"))
        services.change_status(session, again, status=S.DUPLICATE, public_note="Trùng phản ánh trước.",
                               duplicate_of=original)
        session.commit()
        second = again.code
    page = client.get(f"/c/cam-thanh/reports/{second}")
    assert f'href="/c/cam-thanh/reports/{first}"' in page.text and "Trùng lặp" in page.text
    assert "openstreetmap" not in page.text  # no coordinates, no map link


def test_hidden_reports_and_other_communes_codes_are_404(app, client, ready):
    setup_categories(app, ready.b)
    hidden = file_report(app, ready.a, hidden=True)
    theirs = file_report(app, ready.b, description="Phản ánh của Nam Phước")
    assert client.get(f"/c/cam-thanh/reports/{hidden}").status_code == 404
    assert client.get(f"/c/cam-thanh/reports/{theirs}").status_code == 404
    assert client.get(f"/c/nam-phuoc/reports/{theirs}").status_code == 200
    assert client.get(f"/c/cam-thanh/reports/track?code={theirs}").status_code == 404
    listing = client.get("/c/cam-thanh/reports").text
    assert hidden not in listing and theirs not in listing
    assert hidden not in client.get("/c/cam-thanh/reports.geojson").text


def test_tracking_by_code_redirects_or_explains(app, client, ready):
    code = file_report(app, ready.a)
    assert client.get("/c/cam-thanh/reports/track").status_code == 200
    found = client.get(f"/c/cam-thanh/reports/track?code=+{code.lower()}+")
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/c/cam-thanh/reports/{code}")
    missing = client.get("/c/cam-thanh/reports/track?code=CT-R000000-XXXXX")
    assert missing.status_code == 404 and "CT-R000000-XXXXX" in missing.text and 'name="code"' in missing.text


# -- the list, the map and the GeoJSON ----------------------------------------------------------------

def test_the_list_filters_by_category_and_status_and_maps_what_it_shows(app, client, ready):
    flood = file_report(app, ready.a, latitude=15.80, longitude=108.30)
    light = file_report(app, ready.a, category="den-duong", attributes={"loai-su-co": "khong-sang"},
                        latitude=15.90, longitude=108.40, steps=((S.RESOLVED, "Xong rồi.", ""),))
    litter = file_report(app, ready.a, category="rac-thai", latitude=None, longitude=None,
                         steps=((S.IN_PROGRESS, "", ""),))
    everything = client.get("/c/cam-thanh/reports")
    assert everything.status_code == 200
    assert all(code in everything.text for code in (flood, light, litter))
    svg = everything.text.split("<svg")[1].split("</svg>")[0]
    assert svg.count("<circle") == 2 and "pt-open" in svg and "pt-closed" in svg
    assert re.search(r'<text [^>]*>\d+ k?m</text>', svg)  # a scale bar
    assert f'<a href="/c/cam-thanh/reports/{flood}">' in svg and litter not in svg
    # the two points sit in opposite corners of the box: south-west low left, north-east high right
    points = {code: tuple(map(float, re.search(rf'reports/{code}"><circle cx="([\d.]+)" cy="([\d.]+)"',
                                                  svg).groups())) for code in (flood, light)}
    assert points[flood][0] < points[light][0] and points[flood][1] > points[light][1]

    only_light = client.get("/c/cam-thanh/reports?category=den-duong").text
    assert light in only_light and flood not in only_light and litter not in only_light
    two = client.get("/c/cam-thanh/reports?category=den-duong&category=rac-thai").text
    assert light in two and litter in two and flood not in two
    open_ones = client.get("/c/cam-thanh/reports?status=submitted&status=in_progress").text
    assert flood in open_ones and litter in open_ones and light not in open_ones
    both = client.get("/c/cam-thanh/reports?status=resolved&category=ngap-ung").text
    assert "Không có phản ánh nào" in both or (flood not in both and light not in both)
    nonsense = client.get("/c/cam-thanh/reports?status=bogus&page=x")
    assert nonsense.status_code == 200 and flood in nonsense.text
    assert 'href="/c/cam-thanh/reports.geojson?category=den-duong"' in only_light
    english = client.get("/c/cam-thanh/reports?lang=en")
    assert "Street light out" in english.text and "Resolved" in english.text


def test_the_list_is_paginated(app, client, ready):
    codes = [file_report(app, ready.a, description=f"Phản ánh số {n:02d} về ngập") for n in range(23)]
    first = client.get("/c/cam-thanh/reports")
    listed = first.text.split('class="report-list"')[1]  # the map above shows them all
    assert sum(code in listed for code in codes) == 20
    assert codes[-1] in listed and codes[0] not in listed  # newest first
    assert 'rel="next" href="/c/cam-thanh/reports?page=2"' in first.text
    second = client.get("/c/cam-thanh/reports?page=2").text.split('class="report-list"')[1]
    assert sum(code in second for code in codes) == 3 and codes[0] in second


def test_geojson_has_public_fields_and_honours_the_filters(app, client, ready):
    flood = file_report(app, ready.a, latitude=15.8, longitude=108.3)
    light = file_report(app, ready.a, category="den-duong", attributes={"loai-su-co": "khong-sang"},
                        steps=((S.RESOLVED, "Xong.", "nội bộ"),))
    file_report(app, ready.a, latitude=None, longitude=None)
    response = client.get("/c/cam-thanh/reports.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    data = json.loads(response.data)
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 2
    feature = next(f for f in data["features"] if f["id"] == flood)
    assert feature["geometry"] == {"type": "Point", "coordinates": [108.3, 15.8]}
    props = feature["properties"]
    assert props["code"] == flood and props["category"] == "ngap-ung" and props["status"] == "submitted"
    assert props["url"] == f"http://localhost/c/cam-thanh/reports/{flood}"
    assert props["requested_at"].endswith("+07:00") and props["closed_at"] is None
    resolved = json.loads(client.get("/c/cam-thanh/reports.geojson?status=resolved").data)
    assert [f["id"] for f in resolved["features"]] == [light]
    by_category = json.loads(client.get("/c/cam-thanh/reports.geojson?category=ngap-ung").data)
    assert [f["id"] for f in by_category["features"]] == [flood]


def test_the_status_labels_are_available_to_every_template(app):
    from service.engagement.labels import REPORT_STATUS_LABELS

    assert set(REPORT_STATUS_LABELS) == set(ReportStatus)
    with app.test_request_context("/?lang=vi"):
        rendered = app.jinja_env.from_string(
            "{{ report_status_label('in_progress') }}|{{ REPORT_STATUS_LABELS[s] }}").render(
            s=ReportStatus.DUPLICATE, **{k: v for p in app.template_context_processors[None] for k, v in p().items()})
    assert rendered == "Đang xử lý|Trùng lặp"




def test_an_open311_clients_photo_url_is_a_plain_link(app, client, ready):
    with app.app_context(), database(app).session(Scope(ready.a.id)) as session:
        from service.engagement import services
        from service.engagement.models import ReportChannel

        filed = services.submit_report(session, category=services.category_by_code(session, "ngap-ung"),
                                       description="Ngập", location=services.check_location("Chợ"),
                                       channel=ReportChannel.OPEN311, media_url="https://photos.example/abc.jpg")
        session.commit()
        code = filed.code
    page = client.get(f"/c/cam-thanh/reports/{code}").text
    assert '<a href="https://photos.example/abc.jpg" rel="nofollow noopener noreferrer ugc">' in page
    assert 'src="https://photos.example' not in page  # never loaded from a stranger's server by our page
