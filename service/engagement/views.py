"""Public pages of field reports: file one, follow it by its tracking code, the list and the map.

Nothing here ever reads the reporter's contact (``services.contact_of``): public pages and the GeoJSON
are built from the public record only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext, lazy_gettext
from werkzeug.datastructures import FileStorage

from service.core.clock import to_local
from service.core.errors import AppError, Invalid, NotFound
from service.core.i18n import current_language, localized
from service.core.security import limiter
from service.db import get_session
from service.engagement import services
from service.engagement.labels import REPORT_STATUS_LABELS, report_status_label
from service.engagement.models import FieldReport, ReportCategory, ReportStatus
from service.engagement.web import citizen_rate_limit, filled_by_a_robot
from service.media import services as media
from service.media.services import UploadPolicy
from service.media.storage import get_storage
from service.media.web import read_upload, upload_problem
from service.tenants.web import current_user, require_tenant
from service.tourism.explore import map_url

bp = Blueprint("reports", __name__, url_prefix="/c/<commune>/reports")

MAX_PHOTOS = 4
PER_PAGE = 20
MAP_LIMIT = 300  # the newest matching reports on the map; the GeoJSON has them all
MAP_WIDTH, MAP_HEIGHT, MAP_PAD = 600, 360, 18
CONTACT_FIELDS = ("name", "phone", "email")
FORM_FIELDS = ("category", "description", "address", "lat", "long", *CONTACT_FIELDS)

PROBLEMS = {
    ("description", "too_short"): lazy_gettext("Describe the problem in a few words (10 characters at least)."),
    ("description", "too_long"): lazy_gettext("The description is too long (4000 characters at most)."),
    ("address", "too_long"): lazy_gettext("The address is too long (250 characters at most)."),
    ("address", "location_required"): lazy_gettext("Type the address or give the position (latitude and "
                                                   "longitude)."),
    ("name", "too_long"): lazy_gettext("The name is too long (120 characters at most)."),
    "incomplete_location": lazy_gettext("Give both latitude and longitude, or neither."),
    "invalid_location": lazy_gettext("Latitude and longitude are numbers in degrees, like 15.8794 and 108.3350."),
    "invalid_phone": lazy_gettext("Enter a Vietnamese phone number, for example 0905 123 456."),
    "invalid_email": lazy_gettext("Enter a valid e-mail address, or leave it empty."),
    "attribute_required": lazy_gettext("This field is required."),
    "invalid_attribute": lazy_gettext("Choose one of the values offered, or enter a valid value."),
    "too_many_photos": lazy_gettext("At most %(max)d photos per report.", max=MAX_PHOTOS),
}


@bp.app_context_processor
def _report_labels() -> dict[str, Any]:
    return {"REPORT_STATUS_LABELS": REPORT_STATUS_LABELS, "report_status_label": report_status_label}


def _message(error: AppError) -> str:
    known = PROBLEMS.get((error.param or "", error.code)) or PROBLEMS.get(error.code)
    return str(known) if known is not None else gettext(error.message)


def _too_many() -> str:
    return gettext("You have sent many reports in a short time. Please wait a while and try again, or call the "
                   "commune office.")


# -- filing ----------------------------------------------------------------------------------------

def _category_from(code: str) -> ReportCategory | None:
    if not code:
        return None
    try:
        return services.category_by_code(get_session(), code)
    except NotFound:
        return None


def _attribute_input(category: ReportCategory) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for definition in category.attributes or []:
        name = f"attribute[{definition['code']}]"
        if definition.get("datatype") == "multivaluelist":
            given[definition["code"]] = request.form.getlist(name)
        else:
            given[definition["code"]] = request.form.get(name, "").strip()
    return given


def _form_page(category: ReportCategory | None, values: dict[str, Any], errors: dict[str, str],
               photo_problems: list[str] | None = None, status: int = 200) -> Any:
    session = get_session()
    categories = services.list_categories(session)
    attributes = sorted(category.attributes or [], key=lambda a: a.get("order", 0)) if category else []
    return render_template("engagement/report_new.html", categories=categories, category=category,
                           attributes=attributes, values=values, errors=errors, photo_problems=photo_problems or [],
                           max_photos=MAX_PHOTOS), status


@bp.route("/new", methods=["GET", "POST"])
@limiter.limit(citizen_rate_limit, methods=["POST"], error_message=_too_many,
               deduct_when=lambda response: response.status_code != 422)  # a citizen's typos cost nothing
def new_report() -> Any:
    require_tenant()
    if request.method == "POST":
        return _file_report()
    category = _category_from(request.args.get("category", ""))
    errors = {}
    if request.args.get("category") and category is None:
        errors["category"] = gettext("Choose a kind of problem from the list.")
    return _form_page(category, {"category": category.code if category else "", "attributes": {}}, errors)


def _file_report() -> Any:
    if filled_by_a_robot():
        # A robot filled the field people never see: tell it all went well, keep nothing.
        return redirect(url_for("reports.thanks"), code=303)
    session = get_session()
    values: dict[str, Any] = {name: request.form.get(name, "").strip() for name in FORM_FIELDS}
    category = _category_from(values["category"])
    errors: dict[str, str] = {}
    if category is None:
        return _form_page(None, values | {"attributes": {}},
                          {"category": gettext("Choose a kind of problem from the list.")}, status=422)
    given = _attribute_input(category)
    values["attributes"] = given

    def check(step: Any) -> Any:
        try:
            return step()
        except Invalid as error:
            errors.setdefault(error.param or "_", _message(error))
            return None

    attributes = check(lambda: services.check_attributes(category, given))
    location = check(lambda: services.check_location(values["address"], values["lat"], values["long"]))
    contact = check(lambda: services.check_contact(values["name"], values["phone"], values["email"]))
    description = values["description"]
    if len(description) < 10:
        errors["description"] = str(PROBLEMS[("description", "too_short")])
    elif len(description) > services.DESCRIPTION_MAX:
        errors["description"] = str(PROBLEMS[("description", "too_long")])
    photos = [file for file in request.files.getlist("photos") if file.filename]
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = str(PROBLEMS["too_many_photos"])
    if errors:
        return _form_page(category, values, errors, status=422)

    user = current_user()
    try:
        report = services.submit_report(session, category=category, description=description, location=location,
                                        contact=contact, attributes=attributes, language=current_language(),
                                        actor_user_id=user.id if user else None)
        problems = _attach_photos(report, photos, user.id if user else None)
    except Invalid as error:
        session.rollback()
        return _form_page(category, values, {error.param or "_": _message(error)}, status=422)
    if problems:
        session.rollback()  # nothing half-written: the report and every photo, or nothing
        return _form_page(category, values, {"photos": gettext("Nothing was sent yet: fix or remove these photos "
                                                               "and send the report again.")},
                          photo_problems=problems, status=422)
    session.commit()
    flash(gettext("Thank you! Your report was received. Tracking code: %(code)s. Keep it to follow the report.",
                  code=report.code), "success")
    return redirect(url_for("reports.report_page", code=report.code), code=303)


def _attach_photos(report: FieldReport, photos: list[FileStorage], user_id: int | None) -> list[str]:
    """Each photo through the media pipeline (EXIF and GPS stripped); what went wrong, photo by photo."""
    session = get_session()
    policy = replace(UploadPolicy.from_config(current_app.config), max_per_owner=MAX_PHOTOS)
    storage = get_storage()
    problems = []
    for file in photos:
        try:
            asset = media.upload(session, storage, policy, read_upload(file, policy), file.filename or "", user_id)
            media.attach(session, policy, services.PHOTO_OWNER, report.id, asset)
        except Invalid as error:
            problems.append(f"{file.filename}: {upload_problem(error, policy)}")
    return problems


@bp.get("/thanks")
def thanks() -> Any:
    require_tenant()
    return render_template("engagement/report_thanks.html")


# -- one report ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One public line of the history: a status change or a hand-over, with the note the public may read."""

    at: Any
    at_iso: str
    label: str
    note: str


def _steps(report: FieldReport) -> list[Step]:
    names = {department.id: localized(department, "name") for department in services.list_departments(get_session())}
    if report.department is not None:
        names[report.department.id] = localized(report.department, "name")
    steps = []
    for update in report.updates:
        if update.status_from is None or update.status_from != update.status_to:
            label = str(report_status_label(update.status_to))
        elif update.department_id in names:
            label = gettext("Passed to %(department)s", department=names[update.department_id])
        else:
            continue
        # the public note only, never the internal one
        steps.append(Step(update.created_at, _iso(update.created_at) or "", label, update.public_note))
    return steps


def _attribute_lines(report: FieldReport) -> list[tuple[str, str]]:
    lines = []
    for definition in sorted(report.category.attributes or [], key=lambda a: a.get("order", 0)):
        value = (report.attribute_values or {}).get(definition["code"])
        if value is None or value == "" or value == []:
            continue
        names = {str(v["key"]): localized(_Named(v), "name") for v in definition.get("values", [])}
        shown = ", ".join(names.get(str(item), str(item)) for item in (value if isinstance(value, list) else [value]))
        lines.append((localized(_Named(definition), "description") or definition["code"], shown))
    return lines


class _Named:
    """Lets ``localized`` read the *_vi / *_en keys of an attribute definition (a dict)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)


@bp.get("/<code>")
def report_page(code: str) -> Any:
    require_tenant()
    session = get_session()
    report = services.report_by_code(session, code)
    duplicate_of = None
    if report.duplicate_of_id is not None:
        original = session.get(FieldReport, report.duplicate_of_id)
        duplicate_of = original if original is not None and not original.is_hidden else None
    photos = [attachment.asset.key for attachment in media.attachments(session, services.PHOTO_OWNER, report.id)]
    return render_template("engagement/report.html", report=report, steps=_steps(report), photos=photos,
                           attribute_lines=_attribute_lines(report), duplicate_of=duplicate_of,
                           overdue=services.is_overdue(report), map_link=map_url(report.latitude, report.longitude))


@bp.get("/track")
def track() -> Any:
    """The "follow my report" form: a code typed in (any case, spaces around) leads to its page."""
    require_tenant()
    code = request.args.get("code", "").strip().upper()
    if not code:
        return render_template("engagement/report_track.html", code="", unknown=False)
    try:
        report = services.report_by_code(get_session(), code)
    except NotFound:
        return render_template("engagement/report_track.html", code=code, unknown=True), 404
    return redirect(url_for("reports.report_page", code=report.code), code=303)


# -- the list, the map and the GeoJSON ---------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    categories: list[str]
    statuses: list[ReportStatus]

    @classmethod
    def from_args(cls) -> Filters:
        codes = [code for code in request.args.getlist("category") if code]
        statuses = [ReportStatus(s) for s in request.args.getlist("status") if s in ReportStatus._value2member_map_]
        return cls(categories=list(dict.fromkeys(codes)), statuses=list(dict.fromkeys(statuses)))

    def query(self) -> Any:
        return services.public_reports_query(category_codes=self.categories or None, statuses=self.statuses or None)


@dataclass(frozen=True)
class MapPoint:
    x: float
    y: float
    url: str
    title: str
    is_open: bool


@dataclass(frozen=True)
class ReportMap:
    points: list[MapPoint]
    bar_pixels: float = 0  # a scale bar this long ...
    bar_label: str = ""  # ... is this far on the ground


SCALE_STEPS = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)


def report_map(reports: list[FieldReport]) -> ReportMap:
    """Reports placed in the box around them (equirectangular, fine for a commune), north up."""
    located = [r for r in reports if r.latitude is not None and r.longitude is not None]
    if not located:
        return ReportMap([])
    lats = [float(r.latitude) for r in located if r.latitude is not None]
    lons = [float(r.longitude) for r in located if r.longitude is not None]
    middle_lat, middle_lon = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
    shrink = math.cos(math.radians(middle_lat))  # a degree of longitude is shorter away from the equator
    span_x = max((max(lons) - min(lons)) * shrink, 0.002)
    span_y = max(max(lats) - min(lats), 0.002)
    scale = min((MAP_WIDTH - 2 * MAP_PAD) / span_x, (MAP_HEIGHT - 2 * MAP_PAD) / span_y)  # pixels per degree
    points = []
    for report in located:
        assert report.latitude is not None and report.longitude is not None
        x = MAP_WIDTH / 2 + (report.longitude - middle_lon) * shrink * scale
        y = MAP_HEIGHT / 2 - (report.latitude - middle_lat) * scale
        title = f"{report.code} · {localized(report.category, 'name')} · {report_status_label(report.status)}"
        points.append(MapPoint(round(x, 1), round(y, 1), url_for("reports.report_page", code=report.code), title,
                               report.is_open))
    metres_per_pixel = 111_320 / scale
    metres = max([step for step in SCALE_STEPS if step / metres_per_pixel <= MAP_WIDTH / 4] or [SCALE_STEPS[0]])
    label = f"{metres // 1000} km" if metres >= 1000 else f"{metres} m"
    return ReportMap(points, round(metres / metres_per_pixel, 1), label)


@bp.get("")
def report_list() -> Any:
    require_tenant()
    session = get_session()
    categories = services.list_categories(session)
    filters = Filters.from_args()
    try:
        page_number = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page_number = 1
    page = services.public_reports(session, category_codes=filters.categories or None,
                                   statuses=filters.statuses or None, page=page_number, per_page=PER_PAGE)
    on_map = list(session.scalars(filters.query().where(FieldReport.latitude.is_not(None)).limit(MAP_LIMIT)))
    geojson_url = url_for("reports.reports_geojson", category=filters.categories or None,
                          status=[s.value for s in filters.statuses] or None)
    return render_template("engagement/reports.html", page=page, categories=categories, filters=filters,
                           statuses=list(ReportStatus), report_map=report_map(on_map), map_size=(MAP_WIDTH, MAP_HEIGHT),
                           geojson_url=geojson_url, is_overdue=services.is_overdue)


def _iso(moment: Any) -> str | None:
    return to_local(moment).isoformat(timespec="seconds") if moment is not None else None


def _feature(report: FieldReport, root: str) -> dict[str, Any]:
    """Public fields only: never the reporter, never internal notes."""
    return {
        "type": "Feature", "id": report.code,
        "geometry": {"type": "Point", "coordinates": [report.longitude, report.latitude]},  # RFC 7946: lon first
        "properties": {
            "code": report.code, "category": report.category.code,
            "category_name": report.category.name_vi, "category_name_en": report.category.name_en or None,
            "status": report.status.value, "status_label": str(report_status_label(report.status)),
            "is_open": report.is_open, "address": report.address,
            "requested_at": _iso(report.created_at), "updated_at": _iso(report.updated_at),
            "closed_at": _iso(report.closed_at),
            "url": root + url_for("reports.report_page", code=report.code),
        },
    }


def reports_geojson() -> Any:
    require_tenant()
    filters = Filters.from_args()
    root = request.host_url.rstrip("/")
    reports = get_session().scalars(filters.query().where(FieldReport.latitude.is_not(None),
                                                          FieldReport.longitude.is_not(None)))
    body = json.dumps({"type": "FeatureCollection", "features": [_feature(r, root) for r in reports]},
                      ensure_ascii=False)
    return Response(body, mimetype="application/geo+json")


@bp.record_once
def _geojson_route(state: BlueprintSetupState) -> None:
    # /c/<commune>/reports.geojson sits beside the blueprint's prefix, not under it
    state.app.add_url_rule("/c/<commune>/reports.geojson", "reports.reports_geojson", reports_geojson)

