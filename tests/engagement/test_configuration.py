"""Configuring field reports: categories with their Open311 attributes, departments, answer templates."""

from __future__ import annotations

import pytest

from service.core.errors import Invalid, NotFound
from service.engagement import configuration as config
from service.engagement import services
from service.engagement.models import ReportStatus
from tests.engagement.triage_helpers import LIGHT_ATTRIBUTES, commune_session, setup_commune


def test_the_attribute_editor_text_is_parsed_checked_and_written_back(app):
    with app.test_request_context("/"):
        definitions = config.parse_attributes("# comment\n\n" + LIGHT_ATTRIBUTES)
        assert [d["code"] for d in definitions] == ["so-cot", "muc-do", "gio", "so-bong"]
        assert [d["order"] for d in definitions] == [1, 2, 3, 4]
        level = definitions[1]
        assert level == {"code": "muc-do", "datatype": "singlevaluelist", "required": True, "variable": True,
                         "description_vi": "Mức độ", "description_en": "How bad", "order": 2,
                         "values": [{"key": "tat", "name_vi": "Tắt hẳn", "name_en": "Off"},
                                    {"key": "chap-chon", "name_vi": "Chập chờn", "name_en": "Flickering"}]}
        assert definitions[0]["required"] is False and definitions[0]["values"] == []
        assert config.parse_attributes(config.format_attributes(definitions)) == definitions
        assert config.parse_attributes("  ") == []


@pytest.mark.parametrize("text, problem", [
    ("so-cot | string", "write code"),
    ("Số Cột | string | no | Số cột", "lowercase"),
    ("so-cot | color | no | Số cột", "the type is one of"),
    ("so-cot | string | maybe | Số cột", "yes or no"),
    ("so-cot | string | no | ", "Vietnamese wording"),
    ("muc-do | singlevaluelist | yes | Mức độ | How bad", "needs its choices"),
    ("muc-do | multivaluelist | yes | Mức độ | How bad | =Tắt", "key=Label"),
    ("muc-do | singlevaluelist | yes | Mức độ | | a=A; a=B", "same key"),
    ("a | string | no | A\nb | string | no | B\na | number | no | C", "same code"),
])
def test_bad_attribute_lines_are_refused_with_their_number(app, text, problem):
    with app.test_request_context("/?lang=en"), pytest.raises(Invalid) as refused:
        config.parse_attributes(text)
    assert refused.value.param == "attributes" and problem in refused.value.message
    expected_line = text.count("\n") + 1
    assert refused.value.message.startswith(f"Question {expected_line}:")


def test_too_many_attributes_are_refused(app):
    with app.test_request_context("/"), pytest.raises(Invalid):
        config.parse_attributes("\n".join(f"q{n} | string | no | Câu {n}" for n in range(21)))


def test_categories_are_created_checked_updated_and_retired(app, world):
    ids = setup_commune(app, world.a.id)
    with commune_session(app, world.a.id) as session:
        light = config.get_category(session, ids["light"])
        assert (light.code, light.deadline_days, light.department_id, len(light.attributes)) == (
            "den-duong", 3, ids["land"], 4)
        base = {"code": "ngap-ung", "name_vi": "Ngập úng", "deadline_days": "2"}
        refused = [({**base, "code": "Ngập Úng"}, "code"), ({**base, "code": ""}, "code"),
                   ({**base, "code": "den-duong"}, "code"), ({**base, "name_vi": " "}, "name_vi"),
                   ({**base, "deadline_days": "0"}, "deadline_days"),
                   ({**base, "deadline_days": "366"}, "deadline_days"),
                   ({**base, "deadline_days": "ba"}, "deadline_days"),
                   ({**base, "department_id": "999999"}, "department_id"),
                   ({**base, "name_en": "x" * 151}, "name_en"),
                   ({**base, "attributes": "x | nope | no | X"}, "attributes")]
        for data, field in refused:
            with pytest.raises(Invalid) as error:
                config.create_category(session, data)
            assert error.value.param == field, data
        flood = config.create_category(session, {**base, "code": " Ngap-Ung ", "keywords": "mưa, ,  lũ ,",
                                                 "department_id": str(ids["culture"]), "deadline_days": "365",
                                                 "attributes": [{"code": "do-sau", "datatype": "number",
                                                                 "description_vi": "Độ sâu (cm)"}]})
        assert (flood.code, flood.keywords, flood.department_id, flood.deadline_days) == (
            "ngap-ung", "mưa, lũ", ids["culture"], 365)
        assert flood.attributes[0]["order"] == 1 and flood.attributes[0]["required"] is False
        changes = config.update_category(session, flood, {"code": "doi-ma", "name_vi": "Ngập nước",
                                                          "deadline_days": "1", "is_active": False})
        assert flood.code == "ngap-ung"  # the Open311 service code stays
        assert set(changes) == {"name_vi", "keywords", "department_id", "deadline_days", "is_active", "attributes"}
        assert flood.department is None and not flood.is_active
        assert config.update_category(session, flood, {"name_vi": "Ngập nước", "deadline_days": "1",
                                                       "is_active": False}) == {}
        assert config.set_category_active(flood, True) and not config.set_category_active(flood, True)
    setup_commune(app, world.b.id)  # the same codes are free in another commune
    with commune_session(app, world.b.id) as session, pytest.raises(NotFound):
        config.get_category(session, ids["light"])


def test_departments_are_created_checked_and_updated(app, world):
    ids = setup_commune(app, world.a.id)
    with commune_session(app, world.a.id) as session:
        for data, field in [({"code": "dia-chinh", "name_vi": "Trùng"}, "code"),
                            ({"code": "cong-an", "name_vi": ""}, "name_vi"),
                            ({"code": "cong-an", "name_vi": "Công an", "email": "ca@localhost"}, "email"),
                            ({"code": "công-an", "name_vi": "Công an"}, "code")]:
            with pytest.raises(Invalid) as error:
                config.create_department(session, data)
            assert error.value.param == field, data
        police = config.create_department(session, {"code": "cong-an", "name_vi": "Công an xã",
                                                    "email": " congan@xa.test "})
        assert police.email == "congan@xa.test" and police.is_active
        culture = config.get_department(session, ids["culture"])
        changes = config.update_department(session, culture, {"name_vi": "Văn hóa - Thông tin", "name_en": "Culture",
                                                              "email": "", "is_active": False})
        assert set(changes) == {"name_vi", "name_en", "is_active"}
        assert [d.code for d in services.list_departments(session)] == ["dia-chinh", "cong-an"]
        assert config.all_departments(session)[-1].code == "van-hoa"  # inactive ones last


def test_answer_templates_are_created_checked_updated_and_deleted(app, world):
    with commune_session(app, world.a.id) as session:
        for data, field in [({"title": "", "body_vi": "x"}, "title"), ({"title": "x", "body_vi": " "}, "body_vi"),
                            ({"title": "x", "body_vi": "y", "status": "closed"}, "status"),
                            ({"title": "x" * 121, "body_vi": "y"}, "title")]:
            with pytest.raises(Invalid) as error:
                config.create_template(session, data)
            assert error.value.param == field, data
        done = config.create_template(session, {"title": "Đã xử lý", "body_vi": "Xã đã xử lý xong.",
                                                "body_en": "The commune has fixed it.", "status": "resolved"})
        assert done.status == ReportStatus.RESOLVED
        assert services.template_body(done, "en") == "The commune has fixed it."
        assert services.template_body(done, "vi") == "Xã đã xử lý xong."
        changes = config.update_template(session, done, {"title": "Đã xử lý", "body_vi": "Đã sửa xong.",
                                                         "body_en": "", "status": ""})
        assert set(changes) == {"body_vi", "body_en", "status"}
        assert services.template_body(done, "en") == "Đã sửa xong."  # no English text: the Vietnamese one
        assert services.list_response_templates(session) == [done]
        config.delete_template(session, done)
        assert services.list_response_templates(session) == []
