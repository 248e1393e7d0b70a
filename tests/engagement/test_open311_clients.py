"""A third-party Open311 client (the ``georeport`` package from PyPI, JSON and XML) against our server over
real HTTP: what an existing Open311 app reads must parse the way it expects, with nothing private in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from georeport import GeoReport

from service.engagement import services
from tests.engagement.open311_helpers import add_report, add_services, new_key
from tests.live import serving

CONTACT = services.Contact(name="Trần Thị Bí Mật", phone="+84905111222", email="bimat@example.test",
                           device_id="device-secret-42")


@pytest.fixture
def endpoint(app, world) -> Iterator[str]:
    add_services(app, world.a.id)
    with serving(app) as url:
        yield f"{url}/c/{world.a.slug}/open311/v2"


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_georeport_reads_services_definitions_and_requests(app, world, endpoint, output_format):
    code = add_report(app, world.a.id, "den-duong", contact=CONTACT, attributes={"pole_type": "steel"})
    client = GeoReport(endpoint, jurisdiction=world.a.slug, output_format=output_format)

    services_list = client.get_service_list()
    assert {s["service_code"] for s in services_list} == {"den-duong", "rac-thai"}
    light = next(s for s in services_list if s["service_code"] == "den-duong")
    assert light["service_name"] == "Đèn đường hỏng"
    assert str(light["metadata"]).lower() == "true" and light["type"] == "realtime"

    definition = client.get_service_definition("den-duong")
    attributes = definition["attributes"]
    if output_format == "xml":  # xmltodict: <attributes><attribute>…</attribute></attributes>
        attributes = attributes["attribute"]
    assert [a["code"] for a in attributes] == ["pole_type", "hazards", "note"]

    listed = client.get_service_requests(status="open", service_code="den-duong")
    if output_format == "xml" and isinstance(listed, dict):  # a single <request> is not a list in xmltodict
        listed = [listed]
    assert [r["service_request_id"] for r in listed] == [code]
    one = client.get_service_request(code)
    assert one["service_request_id"] == code and one["status"] == "open"
    assert one["requested_datetime"].endswith("+07:00")
    assert one["agency_responsible"] == "Địa chính - Xây dựng"

    # Nothing the citizen gave privately travels to the client.
    raw = requests.get(f"{endpoint}/requests.{output_format}", timeout=10).text
    for secret in ("Bí Mật", "905111222", "bimat@", "device-secret-42"):
        assert secret not in raw


def test_a_client_app_posts_with_its_key_and_finds_the_request(app, world, endpoint):
    key = new_key(app, world.a.id)
    response = requests.post(f"{endpoint}/requests.json", data={
        "api_key": key, "service_code": "den-duong", "lat": "15.8790", "long": "108.3690",
        "attribute[pole_type]": "concrete", "attribute[hazards]": ["wire", "dark"],
        "description": "Đèn cột số 12 không sáng từ tối qua", "first_name": "Lan", "phone": "0905 333 444",
    }, timeout=10)
    assert response.status_code == 201, response.text
    [created] = response.json()
    client = GeoReport(endpoint, output_format="json")
    found = client.get_service_request(created["service_request_id"])
    assert found["description"] == "Đèn cột số 12 không sáng từ tối qua"
    assert (found["lat"], found["long"]) == (15.879, 108.369)
    assert "Lan" not in str(found) and "333444" not in str(found).replace(" ", "")
    refused = requests.post(f"{endpoint}/requests.json", data={"service_code": "den-duong", "lat": "15.8"},
                            timeout=10)
    assert refused.status_code == 403
    assert refused.json()[0]["code"] == 403 and refused.json()[0]["description"]
