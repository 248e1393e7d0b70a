"""Open311 GeoReport v2 server of a commune at /c/<slug>/open311/v2/ (JSON and XML).

Read-only methods are public; posting a request needs an API key issued by the commune's staff
(``open311_keys``). Requests are the public field reports: hidden ones never appear, and the
reporter's contact (kept apart, encrypted) is never part of any answer. Every error, including an
unknown commune, answers in Open311's error format with the matching HTTP status.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask_babel import gettext
from flask_limiter.util import get_remote_address
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from service.core.clock import DISPLAY_ZONE, to_local
from service.core.errors import AppError, Forbidden, Invalid, NotFound
from service.core.i18n import current_language, localized
from service.core.security import limiter
from service.db import get_session, utcnow
from service.engagement.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    FieldReport,
    ReportCategory,
    ReportChannel,
    ReportStatus,
)
from service.engagement.open311_keys import key_for
from service.engagement.services import (
    PHOTO_OWNER,
    category_by_code,
    check_contact,
    check_location,
    list_categories,
    public_reports_query,
    report_by_code,
    submit_report,
)
from service.engagement.web import open311_rate_limit
from service.media.models import MediaAttachment
from service.media.services import UploadPolicy, attach, upload
from service.media.storage import get_storage
from service.media.web import media_url, prefetch, read_upload
from service.tenants.web import require_tenant

bp = Blueprint("open311", __name__, url_prefix="/c/<commune>/open311")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00+07:00"  # when this server's interface last changed (discovery)
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "application/xml; charset=utf-8"}
MAX_RESULTS = 1000  # GET requests answers at most this many, newest first
DEFAULT_WINDOW = timedelta(days=90)  # without dates, GET requests covers the last 90 days
# The element of each item when a list becomes XML ({"attributes": [...]} -> <attributes><attribute>).
XML_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
STATUS_FILTERS = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES}


# -- rendering -----------------------------------------------------------------------------------

def _format() -> str | None:
    fmt = (request.view_args or {}).get("fmt", "")
    return fmt if fmt in CONTENT_TYPES else None


# Control characters XML 1.0 cannot carry at all (not even escaped): a pasted one must not break the document.
_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_value(element, key, item)
    elif isinstance(value, list):
        for item in value:
            _xml_value(element, XML_ITEMS.get(name, "item"), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _XML_FORBIDDEN.sub("", str(value))


def _render(payload: Any, root: str, item: str | None = None, status: int = 200) -> Response:
    """``payload`` as JSON, or as XML under ``root`` (a list: one ``item`` element per entry). An unknown
    format's error answers in XML, the spec's required format."""
    fmt = _format() or "xml"
    if fmt == "json":
        body = json.dumps(payload, ensure_ascii=False)
    else:
        element = ET.Element(root)
        for key, value in (payload.items() if isinstance(payload, dict) else ((item, row) for row in payload)):
            _xml_value(element, str(key), value)
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode")
    return Response(body, status=status, content_type=CONTENT_TYPES[fmt])


def _error(status: int, description: str) -> Response:
    return _render([{"code": status, "description": description}], "errors", "error", status=status)


@bp.errorhandler(AppError)
def _app_error(error: AppError) -> Response:
    get_session().rollback()  # nothing a refused request touched is kept
    # The service layer's 422 (a value it refuses) is Open311's 400; 401 does not exist there.
    status = {422: 400, 401: 403, 409: 400}.get(error.status, error.status)
    return _error(status, error.message)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    get_session().rollback()
    status = error.code or 500
    description = error.description if status == 429 and error.description else (error.name or "Error")
    return _error(status, str(description))


@bp.after_request
def _allow_browser_clients(response: Response) -> Response:
    # Public data for map apps on other sites; posting still needs a key and no cookie is ever used.
    if request.method == "GET":
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _check_request() -> None:
    """The extension names a known format, and a ``jurisdiction_id`` (if any) is this commune."""
    if _format() is None:
        raise NotFound("Unknown format: use .json or .xml.", param="format")
    jurisdiction = (request.values.get("jurisdiction_id") or "").strip()
    if jurisdiction and jurisdiction != require_tenant().slug:
        raise NotFound(f"jurisdiction_id {jurisdiction} is not served here.", param="jurisdiction_id")


def w3c(moment: datetime | None) -> str | None:
    """2026-11-28T09:30:00+07:00: the commune's local time with its offset, as the spec's W3C format."""
    return to_local(moment).isoformat(timespec="seconds") if moment is not None else None


# -- services ------------------------------------------------------------------------------------

def _notice(category: ReportCategory) -> str:
    return gettext("The commune aims to answer within %(days)s days.", days=category.deadline_days)


def _service(category: ReportCategory) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": localized(category, "name"),
        "description": localized(category, "description"),
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": ", ".join(word.strip() for word in category.keywords.split(",") if word.strip()),
        "group": localized(category, "group"),
    }


def _pick(definition: dict[str, Any], field: str) -> str:
    """``<field>_en`` in English when filled in, else ``<field>_vi`` (attribute definitions are JSON)."""
    if current_language() == "en" and str(definition.get(f"{field}_en") or "").strip():
        return str(definition[f"{field}_en"])
    return str(definition.get(f"{field}_vi") or definition.get(field) or "")


def _attribute(definition: dict[str, Any], position: int) -> dict[str, Any]:
    datatype = definition.get("datatype", "string")
    return {
        "variable": bool(definition.get("variable", True)),
        "code": definition["code"],
        "datatype": datatype,
        "required": bool(definition.get("required", False)),
        "datatype_description": _pick(definition, "datatype_description"),
        "order": int(definition.get("order") or position),
        "description": _pick(definition, "description"),
        "values": [{"key": str(value["key"]), "name": _pick(value, "name")}
                   for value in definition.get("values", [])],
    }


@bp.get("/v2/services.<fmt>")
def services(fmt: str) -> Response:
    _check_request()
    return _render([_service(category) for category in list_categories(get_session())], "services", "service")


@bp.get("/v2/services/<service_code>.<fmt>")
def service_definition(service_code: str, fmt: str) -> Response:
    _check_request()
    category = category_by_code(get_session(), service_code, param="service_code")
    attributes = sorted((_attribute(definition, position)
                         for position, definition in enumerate(category.attributes or [], start=1)),
                        key=lambda attribute: attribute["order"])
    return _render({"service_code": category.code, "attributes": attributes}, "service_definition")


# -- reading requests ----------------------------------------------------------------------------

def _cover_urls(reports: list[FieldReport]) -> dict[int, str]:
    """The first ready photo of each report, as an absolute URL (one query for the whole list)."""
    if not reports:
        return {}
    attached = get_session().scalars(
        select(MediaAttachment).where(MediaAttachment.owner_type == PHOTO_OWNER,
                                      MediaAttachment.owner_id.in_([report.id for report in reports]))
        .order_by(MediaAttachment.owner_id, MediaAttachment.position, MediaAttachment.id))
    keys: dict[int, str] = {}
    for attachment in attached:
        if attachment.asset.is_ready:
            keys.setdefault(attachment.owner_id, attachment.asset.key)
    prefetch(keys.values())
    base = current_app.config["PUBLIC_BASE_URL"]
    urls: dict[int, str] = {}
    for owner_id, key in keys.items():
        url = media_url(key)
        if url:
            urls[owner_id] = url if url.startswith(("https://", "http://")) else base + url
    return urls


def _request_row(report: FieldReport, covers: dict[int, str]) -> dict[str, Any]:
    """The public face of a report. Never add the reporter's contact or attribute answers here."""
    return {
        "service_request_id": report.code,
        "status": "open" if report.is_open else "closed",
        "status_notes": report.public_note,
        "service_name": localized(report.category, "name"),
        "service_code": report.category.code,
        "description": report.description,
        "agency_responsible": localized(report.department, "name") if report.department else "",
        "service_notice": _notice(report.category),
        "requested_datetime": w3c(report.created_at),
        "updated_datetime": w3c(report.updated_at),
        "expected_datetime": w3c(report.due_at),
        "address": report.address,
        "address_id": "",
        "zipcode": "",
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": covers.get(report.id) or report.media_url,
    }


def _render_requests(reports: list[FieldReport]) -> Response:
    covers = _cover_urls(reports)
    return _render([_request_row(report, covers) for report in reports], "service_requests", "request")


def _listed(name: str) -> list[str]:
    return [part.strip() for part in request.args.get(name, "").split(",") if part.strip()]


_SPACED_OFFSET = re.compile(r" (\d\d:?\d\d)$")


def _moment(name: str) -> datetime | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    # An unencoded "+07:00" in a query string arrives as " 07:00": put the plus back.
    text = _SPACED_OFFSET.sub(r"+\1", text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{name} must be a W3C datetime such as 2026-11-28T09:30:00+07:00.", param=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=DISPLAY_ZONE)  # no offset given: the commune's local time
    return moment.astimezone(UTC)


@bp.get("/v2/requests.<fmt>")
def requests(fmt: str) -> Response:
    _check_request()
    session = get_session()
    codes = [code.upper() for code in _listed("service_request_id")]
    if codes:
        # The spec: with service_request_id, every other filter is ignored.
        stmt = public_reports_query().where(FieldReport.code.in_(codes[:MAX_RESULTS]))
        return _render_requests(list(session.scalars(stmt.limit(MAX_RESULTS)).unique()))
    statuses: set[ReportStatus] = set()
    for name in _listed("status"):
        if name.lower() not in STATUS_FILTERS:
            raise Invalid("status must be open, closed or both (comma-separated).", param="status")
        statuses |= STATUS_FILTERS[name.lower()]
    start, end = _moment("start_date"), _moment("end_date")
    if start is None and end is None:
        start = utcnow() - DEFAULT_WINDOW
    elif start is None and end is not None:
        start = end - DEFAULT_WINDOW
    if start is not None and end is not None and start > end:
        raise Invalid("start_date must come before end_date.", param="start_date")
    stmt = public_reports_query(category_codes=_listed("service_code") or None,
                                statuses=sorted(statuses) or None)
    if start is not None:
        stmt = stmt.where(FieldReport.created_at >= start)
    if end is not None:
        stmt = stmt.where(FieldReport.created_at <= end)
    return _render_requests(list(session.scalars(stmt.limit(MAX_RESULTS)).unique()))


@bp.get("/v2/requests/<service_request_id>.<fmt>")
def request_detail(service_request_id: str, fmt: str) -> Response:
    _check_request()
    report = report_by_code(get_session(), service_request_id)
    return _render_requests([report])


@bp.get("/v2/tokens/<token>.<fmt>")
def token(token: str, fmt: str) -> Response:
    _check_request()
    report = get_session().scalars(select(FieldReport).where(FieldReport.open311_token == token,
                                                             FieldReport.is_hidden.is_(False))).first()
    if report is None:
        raise NotFound("No service request has this token.", param="token")
    return _render([{"service_request_id": report.code, "token": report.open311_token}], "service_requests",
                   "request")


# -- posting a request ---------------------------------------------------------------------------

def _api_key() -> str:
    # The spec posts it with the form; some clients put it in the query string: both work.
    return (request.form.get("api_key") or request.args.get("api_key") or "").strip()


def _post_limit_key() -> str:
    # Per client app and address; the key itself is hashed so it never sits in the limiter's storage.
    key = hashlib.sha256(_api_key().encode("utf-8")).hexdigest()[:16]
    return f"open311:{key}:{get_remote_address()}"


def _too_many() -> str:
    return "Too many service requests from this app and address; please try again later."


def _form(name: str) -> str:
    return (request.form.get(name) or "").strip()


_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](?:\[\])?$")


def _attributes() -> dict[str, Any]:
    """``attribute[code]=value`` pairs; a repeated code (multivaluelist) gives a list."""
    given: dict[str, Any] = {}
    for name in request.form:
        match = _ATTRIBUTE.match(name)
        if match:
            values = [value.strip() for value in request.form.getlist(name) if value.strip()]
            code = match.group(1)
            given[code] = [*given.get(code, []), *values] if isinstance(given.get(code), list) else values
    return {code: values[0] if len(values) == 1 else values for code, values in given.items()}


def _attach_photo(report: FieldReport) -> None:
    """A photo sent as the multipart file ``media`` (an extension some clients use): through the media
    pipeline like the web form's, which drops its EXIF location; a refused file refuses the request."""
    file = request.files.get("media")
    if file is None or not file.filename:
        return
    policy = UploadPolicy.from_config(current_app.config)
    session = get_session()
    asset = upload(session, get_storage(), policy, read_upload(file, policy), file.filename)
    attach(session, policy, PHOTO_OWNER, report.id, asset)


@bp.post("/v2/requests.<fmt>")
@limiter.limit(open311_rate_limit, key_func=_post_limit_key, methods=["POST"], error_message=_too_many,
               deduct_when=lambda response: response.status_code == 201)
def post_request(fmt: str) -> Response:
    _check_request()
    session = get_session()
    if key_for(session, _api_key()) is None:
        raise Forbidden("api_key is missing, unknown or revoked.", param="api_key")
    service_code = _form("service_code")
    if not service_code:
        raise Invalid("service_code is required.", param="service_code")
    try:
        category = category_by_code(session, service_code, param="service_code")
    except NotFound:
        raise Invalid(f"service_code {service_code} is not a service of this commune.",
                      param="service_code") from None
    address = _form("address_string") or _form("address_id")
    if not address and not (_form("lat") or _form("long")):
        raise Invalid("A location is required: lat and long, address_string or address_id.", param="lat")
    location = check_location(address=address, latitude=_form("lat"), longitude=_form("long"))
    contact = check_contact(name=f"{_form('first_name')} {_form('last_name')}".strip(), phone=_form("phone"),
                            email=_form("email"), device_id=_form("device_id"), account_id=_form("account_id"))
    report = submit_report(session, category=category, description=_form("description"), location=location,
                           contact=contact, attributes=_attributes(), channel=ReportChannel.OPEN311,
                           language=current_language(), media_url=_form("media_url"))
    _attach_photo(report)
    session.commit()
    # Both the id and a token: clients expecting either work (the request exists at once).
    return _render([{"service_request_id": report.code, "token": report.open311_token,
                     "service_notice": _notice(category), "account_id": None}],
                   "service_requests", "request", status=201)


# -- discovery -----------------------------------------------------------------------------------

def _formats() -> list[str]:
    return ["text/xml", "application/json"]


@bp.get("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    _check_request()
    tenant = require_tenant()
    base = f"{current_app.config['PUBLIC_BASE_URL']}/c/{tenant.slug}"
    return _render({
        "changeset": CHANGESET,
        "contact": f"{tenant.name}: {base}/",
        "key_service": f"API keys are issued by the staff of {tenant.name}: {base}/",
        "endpoints": [{"specification": SPECIFICATION, "url": f"{base}/open311/v2", "changeset": CHANGESET,
                       "type": "production", "formats": _formats()}],
    }, "discovery")
