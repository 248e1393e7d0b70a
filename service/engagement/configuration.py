"""What staff configure for field reports: categories (Open311 services with their attributes),
departments and answer templates.

Plain functions on a tenant-scoped session; each checks its input and raises ``Invalid`` naming the
field. A category's ``code`` is its Open311 ``service_code``: it is fixed once created, since client
apps keep it. Categories and departments are deactivated, never deleted (old reports point at them).
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Invalid, NotFound
from service.engagement.models import Department, ReportCategory, ReportStatus, ResponseTemplate
from service.engagement.services import ATTRIBUTE_TYPES, LIST_TYPES, N_
from service.notifications.email import ADDRESS_RE

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DEADLINE_MIN, DEADLINE_MAX = 1, 365
ATTRIBUTES_MAX = 20
# (field, maximum length) of the free texts of each kind
CATEGORY_TEXTS = (("name_vi", 150), ("name_en", 150), ("description_vi", 2000), ("description_en", 2000),
                  ("group_vi", 100), ("group_en", 100), ("keywords", 300))
DEPARTMENT_TEXTS = (("name_vi", 150), ("name_en", 150))
TEMPLATE_TEXTS = (("title", 120), ("body_vi", 4000), ("body_en", 4000))
YES = ("yes", "y", "true", "1", "có", "co", "bắt buộc", "required")
NO = ("no", "n", "false", "0", "không", "khong", "")


# -- shared checks -------------------------------------------------------------------------------

def _texts(data: dict[str, Any], fields: tuple[tuple[str, int], ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, limit in fields:
        value = str(data.get(name) or "").strip()
        if len(value) > limit:
            raise Invalid(N_("This text is too long."), param=name, code="too_long")
        values[name] = value
    return values


def _required(values: dict[str, Any], name: str) -> None:
    if not values.get(name):
        raise Invalid(N_("This field is required."), param=name, code="required")


def check_code(code: str, *, limit: int) -> str:
    code = (code or "").strip().lower()
    if not code:
        raise Invalid(N_("This field is required."), param="code", code="required")
    if len(code) > limit or not CODE_RE.match(code):
        raise Invalid(N_("Use lowercase letters without accents, digits, - and _ (for example street-light)."),
                      param="code", code="invalid_code")
    return code


def _integer(data: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = data.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise Invalid(N_("Enter a whole number."), param=name, code="invalid_number") from None
    if not low <= number <= high:
        raise Invalid(N_("This number is out of range."), param=name, code="out_of_range")
    return number


def _department_id(session: Session, raw: Any) -> int | None:
    if raw in (None, "", 0, "0"):
        return None
    try:
        department = session.get(Department, int(raw))
    except (TypeError, ValueError):
        department = None
    if department is None:
        raise Invalid(N_("Choose a department from the list."), param="department_id", code="unknown_department")
    return department.id


def _changes(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``values`` on ``obj``; the audit trail's ``{field: [old, new]}`` of what really changed."""
    changes: dict[str, list[Any]] = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = [old, value]
            setattr(obj, name, value)
    return changes


# -- attribute definitions -----------------------------------------------------------------------

def _problem_at(number: int) -> Any:
    """Errors of the n-th question, translated here since they carry its number."""
    def problem(message: str) -> Invalid:
        return Invalid(gettext("Question %(number)d: %(problem)s", number=number, problem=gettext(message)),
                       param="attributes", code="invalid_attribute")
    return problem


def check_attribute_definitions(definitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open311 attribute definitions, checked and put in the stored shape (``order`` from 1)."""
    if len(definitions) > ATTRIBUTES_MAX:
        raise Invalid(N_("A category has at most 20 questions."), param="attributes", code="too_many")
    checked: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, definition in enumerate(definitions, start=1):
        problem = _problem_at(number)
        code = str(definition.get("code") or "").strip().lower()
        if not code or len(code) > 60 or not CODE_RE.match(code):
            raise problem(N_("the code uses lowercase letters without accents, digits, - and _."))
        if code in seen:
            raise problem(N_("two questions have the same code."))
        seen.add(code)
        datatype = str(definition.get("datatype") or "").strip().lower()
        if datatype not in ATTRIBUTE_TYPES:
            raise problem(N_("the type is one of string, number, datetime, text, singlevaluelist, "
                             "multivaluelist."))
        description_vi = str(definition.get("description_vi") or "").strip()
        description_en = str(definition.get("description_en") or "").strip()
        if not description_vi:
            raise problem(N_("the question needs its Vietnamese wording."))
        if len(description_vi) > 300 or len(description_en) > 300:
            raise problem(N_("the question is too long."))
        values: list[dict[str, str]] = []
        if datatype in LIST_TYPES:
            keys: set[str] = set()
            for value in definition.get("values") or []:
                key = str(value.get("key") or "").strip()
                name_vi = str(value.get("name_vi") or "").strip()
                if not key or not name_vi or len(key) > 60 or len(name_vi) > 150:
                    raise problem(N_("each choice is written key=Label."))
                if key in keys:
                    raise problem(N_("two choices have the same key."))
                keys.add(key)
                values.append({"key": key, "name_vi": name_vi,
                               "name_en": str(value.get("name_en") or "").strip()[:150]})
            if not values:
                raise problem(N_("a list question needs its choices."))
        checked.append({"code": code, "datatype": datatype, "required": bool(definition.get("required")),
                        "variable": True, "description_vi": description_vi, "description_en": description_en,
                        "order": number, "values": values})
    return checked


def parse_attributes(text: str) -> list[dict[str, Any]]:
    """The admin's plain-text editor: one question per line,
    ``code | datatype | required (yes/no) | question (vi) | question (en) | key1=Nhãn 1/Label 1; key2=...``.

    Blank lines and lines starting with ``#`` are skipped. A choice's label may give the English after
    a slash: ``large=Lớn/Large``."""
    definitions: list[dict[str, Any]] = []
    lines = [line.strip() for line in (text or "").splitlines()]
    for number, line in enumerate((line for line in lines if line and not line.startswith("#")), start=1):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 4 or len(parts) > 6:
            raise _problem_at(number)(N_("write code | type | required | question (vi) | question (en) | choices."))
        parts += [""] * (6 - len(parts))
        code, datatype, required, description_vi, description_en, choices = parts
        if required.lower() not in YES + NO:
            raise _problem_at(number)(N_("required is yes or no."))
        values = []
        for choice in (item.strip() for item in choices.split(";")):
            if not choice:
                continue
            key, _sep, label = choice.partition("=")
            name_vi, _slash, name_en = label.partition("/")
            values.append({"key": key.strip(), "name_vi": name_vi.strip(), "name_en": name_en.strip()})
        definitions.append({"code": code, "datatype": datatype, "required": required.lower() in YES,
                            "description_vi": description_vi, "description_en": description_en,
                            "values": values})
    return check_attribute_definitions(definitions)


def format_attributes(definitions: list[dict[str, Any]] | None) -> str:
    """The stored definitions as the editor's text (``parse_attributes`` reads it back unchanged)."""
    lines = []
    for definition in sorted(definitions or [], key=lambda item: item.get("order", 0)):
        choices = "; ".join(f"{value['key']}={value['name_vi']}" + (f"/{value['name_en']}" if value.get("name_en")
                                                                      else "")
                            for value in definition.get("values") or [])
        lines.append(" | ".join([definition["code"], definition.get("datatype", "string"),
                                 "yes" if definition.get("required") else "no",
                                 definition.get("description_vi", ""), definition.get("description_en", ""),
                                 choices]).rstrip(" |"))
    return "\n".join(lines)


# -- categories ----------------------------------------------------------------------------------

def get_category(session: Session, category_id: int) -> ReportCategory:
    category = session.get(ReportCategory, category_id)
    if category is None:
        raise NotFound("No such report category.", param="category_id")
    return category


def _category_values(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = _texts(data, CATEGORY_TEXTS)
    _required(values, "name_vi")
    values["keywords"] = ", ".join(word.strip() for word in values["keywords"].split(",") if word.strip())
    values["department_id"] = _department_id(session, data.get("department_id"))
    values["deadline_days"] = _integer(data, "deadline_days", 7, DEADLINE_MIN, DEADLINE_MAX)
    values["position"] = _integer(data, "position", 0, -10_000, 10_000)
    values["is_active"] = bool(data.get("is_active", True))
    attributes = data.get("attributes") or []
    values["attributes"] = parse_attributes(attributes) if isinstance(attributes, str) \
        else check_attribute_definitions(list(attributes))
    return values


def create_category(session: Session, data: dict[str, Any]) -> ReportCategory:
    """``data``: code, name/description/group _vi/_en, keywords, department_id, deadline_days, position,
    is_active, attributes (definitions, or the editor's text)."""
    code = check_code(str(data.get("code") or ""), limit=60)
    values = _category_values(session, data)
    if session.scalar(select(ReportCategory.id).where(ReportCategory.code == code)) is not None:
        raise Invalid(N_("Another category already has this code."), param="code", code="code_taken")
    category = ReportCategory(code=code, **values)
    session.add(category)
    session.flush()
    return category


def update_category(session: Session, category: ReportCategory, data: dict[str, Any]) -> dict[str, list[Any]]:
    """Everything but the code (Open311 clients keep it). Returns what changed."""
    values = _category_values(session, data)
    changes = _changes(category, values)
    if "department_id" in changes:
        category.department = session.get(Department, values["department_id"]) if values["department_id"] else None
    session.flush()
    return changes


def set_category_active(category: ReportCategory, active: bool) -> bool:
    """Retire a category (no new reports; old ones keep it) or bring it back; True when it changed."""
    changed = category.is_active != active
    category.is_active = active
    return changed


# -- departments ---------------------------------------------------------------------------------

def all_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.is_active.desc(), Department.name_vi,
                                                            Department.id)))


def get_department(session: Session, department_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound("No such department.", param="department_id")
    return department


def _department_values(data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = _texts(data, DEPARTMENT_TEXTS)
    _required(values, "name_vi")
    email = str(data.get("email") or "").strip()
    if email and (len(email) > 254 or not ADDRESS_RE.match(email)):
        raise Invalid(N_("Enter a valid e-mail address, or leave it empty."), param="email", code="invalid_email")
    values["email"] = email
    values["is_active"] = bool(data.get("is_active", True))
    return values


def create_department(session: Session, data: dict[str, Any]) -> Department:
    code = check_code(str(data.get("code") or ""), limit=40)
    values = _department_values(data)
    if session.scalar(select(Department.id).where(Department.code == code)) is not None:
        raise Invalid(N_("Another department already has this code."), param="code", code="code_taken")
    department = Department(code=code, **values)
    session.add(department)
    session.flush()
    return department


def update_department(session: Session, department: Department, data: dict[str, Any]) -> dict[str, list[Any]]:
    """Names, e-mail and whether it is active; the code stays (it names the department in exports)."""
    changes = _changes(department, _department_values(data))
    session.flush()
    return changes


# -- answer templates ----------------------------------------------------------------------------

def get_template(session: Session, template_id: int) -> ResponseTemplate:
    template = session.get(ResponseTemplate, template_id)
    if template is None:
        raise NotFound("No such answer template.", param="template_id")
    return template


def _template_values(data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = _texts(data, TEMPLATE_TEXTS)
    _required(values, "title")
    _required(values, "body_vi")
    status = str(data.get("status") or "").strip()
    if status and status not in {item.value for item in ReportStatus}:
        raise Invalid(N_("Choose a status from the list."), param="status", code="invalid_status")
    values["status"] = ReportStatus(status) if status else None
    return values


def create_template(session: Session, data: dict[str, Any]) -> ResponseTemplate:
    template = ResponseTemplate(**_template_values(data))
    session.add(template)
    session.flush()
    return template


def update_template(session: Session, template: ResponseTemplate, data: dict[str, Any]) -> dict[str, list[Any]]:
    changes = _changes(template, _template_values(data))
    session.flush()
    return changes


def delete_template(session: Session, template: ResponseTemplate) -> None:
    """Nothing points at a template: the answers sent with it are copies in the reports' history."""
    session.delete(template)
    session.flush()
