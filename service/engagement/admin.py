"""Staff triage of field reports: assign, move through the workflow, answer; categories, departments, templates.

Commune staff (administrators and editors) only; volunteers and sellers get 403. Another commune's report
or category is invisible to the data layer and answers 404. Every change is in the audit log.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext
from sqlalchemy import select

from service.accounts.models import User
from service.audit.services import record
from service.core.errors import AppError, Invalid, NotFound
from service.core.i18n import current_language, localized
from service.db import get_session
from service.engagement import configuration as config
from service.engagement import services
from service.engagement.labels import report_status_label
from service.engagement.models import (
    Department,
    FieldReport,
    ReportCategory,
    ReportChannel,
    ReportStatus,
    ResponseTemplate,
)
from service.media.services import attachments
from service.tenants.admin import ADMIN_PREFIX, admin_labels, checkbox, form_failed, int_arg, page_arg, saved
from service.tenants.web import commune_member_required, current_actor

reports_admin = Blueprint("reports_admin", __name__, url_prefix=ADMIN_PREFIX)
reports_admin.context_processor(admin_labels)

PER_PAGE = 25


@reports_admin.context_processor
def _labels() -> dict[str, Any]:
    # report_status_label and REPORT_STATUS_LABELS come from the app-wide processor of the public views.
    return {"is_overdue": services.is_overdue, "days_overdue": services.days_overdue}


def _require_staff() -> None:
    actor = current_actor()
    actor.require(actor.is_staff, gettext("Only commune staff can handle field reports."))


def _user_id() -> int | None:
    user = current_actor().user
    return user.id if user else None


def _refused(error: AppError) -> dict[str, str]:
    """Roll back; a refusal of the input becomes a message next to its field, 401/403/404 stay errors."""
    form_failed()
    if error.status in (401, 403, 404):
        raise error
    return {error.param or "_": gettext(error.message)}


# -- the triage list ----------------------------------------------------------------------------

def _status_filter() -> list[ReportStatus]:
    known = {status.value for status in ReportStatus}
    return [ReportStatus(value) for value in request.args.getlist("status") if value in known]


@reports_admin.get("/reports")
@commune_member_required
def reports() -> Any:
    _require_staff()
    session = get_session()
    statuses = _status_filter()
    category_id, department_id = int_arg("category"), int_arg("department")
    overdue_only = request.args.get("overdue") == "1"
    page = services.staff_reports(session, statuses=statuses, category_id=category_id, department_id=department_id,
                                  overdue_only=overdue_only, page=page_arg(), per_page=PER_PAGE)
    return render_template(
        "admin/engagement/reports.html", page=page, counts=services.status_counts(session),
        overdue=services.overdue_count(session), statuses=[status.value for status in statuses],
        category_id=category_id, department_id=department_id, overdue_only=overdue_only,
        categories=services.list_categories(session, include_inactive=True),
        departments=config.all_departments(session), now=services.utcnow())


# -- a report typed in by staff (a call to the hotline, a visit) ---------------------------------

CONTACT_FIELDS = ("name", "phone", "email")


def _attribute_input(category: ReportCategory) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for definition in category.attributes or []:
        name = f"attribute[{definition['code']}]"
        given[definition["code"]] = request.form.getlist(name) if definition.get("datatype") == "multivaluelist" \
            else request.form.get(name, "").strip()
    return given


def _new_report_page(category: ReportCategory | None, values: dict[str, Any], errors: dict[str, str],
                     status: int = 200) -> Any:
    attributes = sorted(category.attributes or [], key=lambda item: item.get("order", 0)) if category else []
    return render_template("admin/engagement/report_new.html", category=category, attributes=attributes,
                           categories=services.list_categories(get_session()), values=values, errors=errors,
                           pick=_pick), status


@reports_admin.route("/reports/new", methods=["GET", "POST"])
@commune_member_required
def report_new() -> Any:
    """Two steps that work without JavaScript: the category first, then its questions and the rest."""
    _require_staff()
    session = get_session()
    code = request.values.get("category", "")
    try:
        category = services.category_by_code(session, code) if code else None
    except NotFound:
        category = None
    if request.method == "GET" or category is None:
        errors = {"category": gettext("Choose a category from the list.")} if code and category is None else {}
        return _new_report_page(category, {"language": "vi"}, errors, 422 if errors else 200)
    values: dict[str, Any] = {**request.form.to_dict(), "attributes": _attribute_input(category)}
    try:
        contact = services.check_contact(**{name: request.form.get(name, "") for name in CONTACT_FIELDS})
        location = services.check_location(request.form.get("address", ""), request.form.get("lat"),
                                           request.form.get("long"))
        report = services.submit_report(session, category=category, description=request.form.get("description", ""),
                                        location=location, contact=contact, attributes=values["attributes"],
                                        channel=ReportChannel.STAFF, language=request.form.get("language", "vi"),
                                        actor_user_id=_user_id())
    except AppError as error:
        return _new_report_page(category, values, _refused(error), 422)
    record(session, current_actor(), "report.filed_by_staff", report, {"code": report.code})
    return saved(gettext("Report %(code)s filed. Give this code to the caller.", code=report.code),
                 "reports_admin.report", code=report.code)


# -- one report ---------------------------------------------------------------------------------

def _report(code: str) -> FieldReport:
    return services.report_by_code(get_session(), code, public=False)


def _attribute_rows(report: FieldReport) -> list[tuple[str, str]]:
    """(question, answer) in the category's order; list answers shown by their labels."""
    rows: list[tuple[str, str]] = []
    given = report.attribute_values or {}
    definitions = sorted(report.category.attributes or [], key=lambda item: item.get("order", 0))
    for definition in definitions:
        code = definition["code"]
        if code not in given:
            continue
        labels = {str(value["key"]): _pick(value, "name") or str(value["key"])
                  for value in definition.get("values") or []}
        raw = given[code]
        shown = ", ".join(labels.get(str(item), str(item)) for item in (raw if isinstance(raw, list) else [raw]))
        rows.append((_pick(definition, "description") or code, shown))
    known = {definition["code"] for definition in definitions}
    rows += [(code, str(value)) for code, value in given.items() if code not in known]
    return rows


def _pick(values: dict[str, Any], field: str) -> str:
    """A dict's ``<field>_vi`` / ``<field>_en`` in the page's language (Vietnamese as the fallback)."""
    text = str(values.get(f"{field}_{current_language()}") or "")
    return text or str(values.get(f"{field}_vi") or "")


def _report_page(report: FieldReport, errors: dict[str, str] | None = None, form: str = "",
                 values: dict[str, Any] | None = None, status: int = 200) -> Any:
    session = get_session()
    actor_ids = {update.actor_user_id for update in report.updates if update.actor_user_id}
    actors = {user.id: user for user in session.scalars(select(User).where(User.id.in_(actor_ids)))} \
        if actor_ids else {}
    department_names = {department.id: department for department in config.all_departments(session)}
    templates = services.list_response_templates(session)
    duplicate_of = session.get(FieldReport, report.duplicate_of_id) if report.duplicate_of_id else None
    return render_template(
        "admin/engagement/report.html", report=report, contact=services.contact_of(session, "report", report.id),
        photos=attachments(session, services.PHOTO_OWNER, report.id), attribute_rows=_attribute_rows(report),
        actors=actors, departments=services.list_departments(session), department_names=department_names,
        next_statuses=[s for s in ReportStatus if s in services.TRANSITIONS[report.status]],
        templates=templates, template_bodies={t.id: services.template_body(t, report.language) for t in templates},
        duplicate_of=duplicate_of, duplicates=services.duplicates_of(session, report),
        overdue=services.is_overdue(report), late_days=services.days_overdue(report),
        errors=errors or {}, form=form, values=values or {}), status


@reports_admin.get("/reports/<code>")
@commune_member_required
def report(code: str) -> Any:
    _require_staff()
    return _report_page(_report(code))


def _chosen_template(report: FieldReport) -> str:
    """The picked answer template's text, used when the public note is left empty (works without JS)."""
    raw = request.form.get("template_id", "")
    if not raw.isdigit():
        return ""
    template = get_session().get(ResponseTemplate, int(raw))
    if template is None:
        raise Invalid(gettext("Choose an answer template from the list."), param="template_id")
    return services.template_body(template, report.language)


@reports_admin.post("/reports/<code>/status")
@commune_member_required
def report_status(code: str) -> Any:
    _require_staff()
    session = get_session()
    report = _report(code)
    values = request.form.to_dict()
    old = report.status
    try:
        raw_status = values.get("status", "")
        if raw_status not in {status.value for status in ReportStatus}:
            raise Invalid(gettext("Choose the new status."), param="status")
        public_note = values.get("public_note", "").strip() or _chosen_template(report)
        duplicate_of = None
        duplicate_code = values.get("duplicate_of", "").strip()
        if raw_status == ReportStatus.DUPLICATE.value and duplicate_code:
            try:
                duplicate_of = services.report_by_code(session, duplicate_code, public=False)
            except NotFound:
                raise Invalid(gettext("No report has this code."), param="duplicate_of") from None
        services.change_status(session, report, status=ReportStatus(raw_status), public_note=public_note,
                               internal_note=values.get("internal_note", ""), actor_user_id=_user_id(),
                               duplicate_of=duplicate_of)
    except AppError as error:
        errors = _refused(error)
        return _report_page(_report(code), errors, "status", values, 422)
    changes: dict[str, Any] = {"status": [old, report.status]}
    if report.duplicate_of_id:
        changes["duplicate_of"] = duplicate_code.upper()
    record(session, current_actor(), "report.status_changed", report, changes)
    return saved(gettext("Status changed to %(status)s.", status=report_status_label(report.status)),
                 "reports_admin.report", code=report.code)


@reports_admin.post("/reports/<code>/assign")
@commune_member_required
def report_assign(code: str) -> Any:
    _require_staff()
    session = get_session()
    report = _report(code)
    values = request.form.to_dict()
    old = report.department_id
    try:
        department: Department | None = None
        if values.get("department_id", "").isdigit():
            department = session.get(Department, int(values["department_id"]))
            if department is None:
                raise Invalid(gettext("Choose a department from the list."), param="department_id")
        services.assign(session, report, department, internal_note=values.get("internal_note", ""),
                        actor_user_id=_user_id())
    except AppError as error:
        errors = _refused(error)
        return _report_page(_report(code), errors, "assign", values, 422)
    record(session, current_actor(), "report.assigned", report, {"department_id": [old, report.department_id]})
    message = gettext("Assigned to %(department)s.", department=localized(department, "name")) if department \
        else gettext("No department handles it now.")
    return saved(message, "reports_admin.report", code=report.code)


@reports_admin.post("/reports/<code>/visibility")
@commune_member_required
def report_visibility(code: str) -> Any:
    _require_staff()
    session = get_session()
    report = _report(code)
    values = request.form.to_dict()
    hide = values.get("action") == "hide"
    try:
        changed = services.set_hidden(session, report, hide, internal_note=values.get("internal_note", ""),
                                      actor_user_id=_user_id())
    except AppError as error:
        errors = _refused(error)
        return _report_page(_report(code), errors, "visibility", values, 422)
    if changed is not None:
        record(session, current_actor(), "report.hidden" if hide else "report.unhidden", report,
               {"is_hidden": [not hide, hide]})
    return saved(gettext("Hidden from the public.") if hide else gettext("Shown to the public again."),
                 "reports_admin.report", code=report.code)


# -- categories ---------------------------------------------------------------------------------

CATEGORY_FIELDS = ("code", "name_vi", "name_en", "description_vi", "description_en", "group_vi", "group_en",
                   "keywords", "department_id", "deadline_days", "position", "attributes")


def _category_values(category: ReportCategory | None) -> dict[str, Any]:
    if category is None:
        return {"deadline_days": 7, "position": 0, "is_active": True, "attributes": ""}
    values: dict[str, Any] = {name: getattr(category, name) for name in CATEGORY_FIELDS if name != "attributes"}
    values["attributes"] = config.format_attributes(category.attributes)
    values["is_active"] = category.is_active
    values["department_id"] = category.department_id or ""
    return values


def _category_form() -> dict[str, Any]:
    data: dict[str, Any] = {name: request.form.get(name, "") for name in CATEGORY_FIELDS}
    data["is_active"] = checkbox("is_active")
    return data


def _category_page(category: ReportCategory | None, values: dict[str, Any], errors: dict[str, str],
                   status: int = 200) -> Any:
    return render_template("admin/engagement/category_form.html", category=category, values=values, errors=errors,
                           departments=config.all_departments(get_session()),
                           attribute_types=services.ATTRIBUTE_TYPES), status


@reports_admin.get("/report-categories")
@commune_member_required
def categories() -> Any:
    _require_staff()
    return render_template("admin/engagement/categories.html",
                           categories=services.list_categories(get_session(), include_inactive=True))


@reports_admin.route("/report-categories/new", methods=["GET", "POST"])
@commune_member_required
def category_new() -> Any:
    _require_staff()
    if request.method == "GET":
        return _category_page(None, _category_values(None), {})
    session = get_session()
    data = _category_form()
    try:
        category = config.create_category(session, data)
    except AppError as error:
        return _category_page(None, data, _refused(error), 422)
    record(session, current_actor(), "report_category.created", category, {"code": category.code})
    return saved(gettext("Category created."), "reports_admin.categories")


@reports_admin.route("/report-categories/<int:category_id>/edit", methods=["GET", "POST"])
@commune_member_required
def category_edit(category_id: int) -> Any:
    _require_staff()
    session = get_session()
    category = config.get_category(session, category_id)
    if request.method == "GET":
        return _category_page(category, _category_values(category), {})
    data = _category_form()
    try:
        changes = config.update_category(session, category, data)
    except AppError as error:
        errors = _refused(error)
        return _category_page(config.get_category(session, category_id), {**data, "code": category.code}, errors,
                              422)
    if changes:
        record(session, current_actor(), "report_category.updated", category,
               {name: change if name != "attributes" else "…" for name, change in changes.items()})
    return saved(gettext("Saved."), "reports_admin.categories")


# -- departments --------------------------------------------------------------------------------

DEPARTMENT_FIELDS = ("code", "name_vi", "name_en", "email")


def _departments_page(errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                      editing: int | None = None, status: int = 200) -> Any:
    return render_template("admin/engagement/departments.html", departments=config.all_departments(get_session()),
                           errors=errors or {}, values=values or {"is_active": True}, editing=editing), status


@reports_admin.route("/departments", methods=["GET", "POST"])
@commune_member_required
def departments() -> Any:
    _require_staff()
    if request.method == "GET":
        return _departments_page()
    session = get_session()
    data: dict[str, Any] = {name: request.form.get(name, "") for name in DEPARTMENT_FIELDS}
    data["is_active"] = True
    try:
        department = config.create_department(session, data)
    except AppError as error:
        return _departments_page(_refused(error), data, status=422)
    record(session, current_actor(), "department.created", department, {"code": department.code})
    return saved(gettext("Department added."), "reports_admin.departments")


@reports_admin.post("/departments/<int:department_id>")
@commune_member_required
def department_edit(department_id: int) -> Any:
    _require_staff()
    session = get_session()
    department = config.get_department(session, department_id)
    data: dict[str, Any] = {name: request.form.get(name, "") for name in DEPARTMENT_FIELDS}
    data["is_active"] = checkbox("is_active")
    try:
        changes = config.update_department(session, department, data)
    except AppError as error:
        return _departments_page(_refused(error), data, editing=department_id, status=422)
    if changes:
        record(session, current_actor(), "department.updated", department, changes)
    return saved(gettext("Saved."), "reports_admin.departments")


# -- answer templates ---------------------------------------------------------------------------

TEMPLATE_FIELDS = ("title", "body_vi", "body_en", "status")


def _templates_page(errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                    editing: int | None = None, status: int = 200) -> Any:
    return render_template("admin/engagement/templates.html",
                           templates=services.list_response_templates(get_session()),
                           errors=errors or {}, values=values or {}, editing=editing), status


@reports_admin.route("/response-templates", methods=["GET", "POST"])
@commune_member_required
def templates() -> Any:
    _require_staff()
    if request.method == "GET":
        return _templates_page()
    session = get_session()
    data = {name: request.form.get(name, "") for name in TEMPLATE_FIELDS}
    try:
        template = config.create_template(session, data)
    except AppError as error:
        return _templates_page(_refused(error), data, status=422)
    record(session, current_actor(), "response_template.created", template, {"title": template.title})
    return saved(gettext("Answer template added."), "reports_admin.templates")


@reports_admin.post("/response-templates/<int:template_id>")
@commune_member_required
def template_edit(template_id: int) -> Any:
    _require_staff()
    session = get_session()
    template = config.get_template(session, template_id)
    data = {name: request.form.get(name, "") for name in TEMPLATE_FIELDS}
    try:
        changes = config.update_template(session, template, data)
    except AppError as error:
        return _templates_page(_refused(error), data, editing=template_id, status=422)
    if changes:
        record(session, current_actor(), "response_template.updated", template, changes)
    return saved(gettext("Saved."), "reports_admin.templates")


@reports_admin.post("/response-templates/<int:template_id>/delete")
@commune_member_required
def template_delete(template_id: int) -> Any:
    _require_staff()
    session = get_session()
    template = config.get_template(session, template_id)
    record(session, current_actor(), "response_template.deleted", template, {"title": template.title})
    config.delete_template(session, template)
    return saved(gettext("Answer template deleted."), "reports_admin.templates")
