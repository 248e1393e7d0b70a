"""Field reports: filing, the status workflow, private contacts and the reporter's notifications.

Every channel (the web form, Open311, staff typing in a hotline call) files through ``submit_report``
and every change goes through ``change_status`` / ``assign``, so the history, the deadline and the
notifications are the same whoever acts. The tracking code is also Open311's ``service_request_id``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service.core.clock import to_local
from service.core.contact import check_optional_email, normalize_phone, reference_number
from service.core.crypto import decrypt, encrypt
from service.core.errors import Invalid, NotFound
from service.core.pagination import Page, paginate
from service.db import current_tenant_id, utcnow
from service.engagement.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Department,
    FieldReport,
    PrivateContact,
    Question,
    ReportCategory,
    ReportChannel,
    ReportStatus,
    ReportUpdate,
    ResponseTemplate,
)
from service.notifications.email import ADDRESS_RE, queue_email
from service.notifications.sms import queue_sms
from service.tenants.models import Tenant

DESCRIPTION_MAX = 4000
ADDRESS_MAX = 250
NOTE_MAX = 4000
# Where a status may go next. A closed report can be reopened (the light went out again).
TRANSITIONS: dict[ReportStatus, frozenset[ReportStatus]] = {
    ReportStatus.SUBMITTED: frozenset({ReportStatus.ACKNOWLEDGED, ReportStatus.IN_PROGRESS, *CLOSED_STATUSES}),
    ReportStatus.ACKNOWLEDGED: frozenset({ReportStatus.IN_PROGRESS, *CLOSED_STATUSES}),
    ReportStatus.IN_PROGRESS: frozenset({ReportStatus.ACKNOWLEDGED, *CLOSED_STATUSES}),
    ReportStatus.RESOLVED: frozenset({ReportStatus.IN_PROGRESS}),
    ReportStatus.REJECTED: frozenset({ReportStatus.ACKNOWLEDGED, ReportStatus.IN_PROGRESS}),
    ReportStatus.DUPLICATE: frozenset({ReportStatus.ACKNOWLEDGED, ReportStatus.IN_PROGRESS}),
}
NEEDS_PUBLIC_NOTE = frozenset({ReportStatus.REJECTED, ReportStatus.DUPLICATE, ReportStatus.RESOLVED})
ATTRIBUTE_TYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_TYPES = ("singlevaluelist", "multivaluelist")
PHOTO_OWNER = "report"  # media attachments of a report: owner_type "report", owner_id the report's id


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Marks a message for extraction: the services stay in English, pages translate what they show."""
    return message


# -- private contact -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Contact:
    """How to reach a citizen. Every field optional: a citizen may stay anonymous."""

    name: str = ""
    phone: str = ""  # normalised, +84...
    email: str = ""
    device_id: str = ""  # Open311 clients' device, kept to let them list their own requests
    account_id: str = ""

    @property
    def is_empty(self) -> bool:
        return not any(asdict(self).values())


def check_contact(name: str = "", phone: str = "", email: str = "", device_id: str = "",
                  account_id: str = "") -> Contact:
    """The contact a form or an Open311 client gave, checked; 422 names the wrong field."""
    name, phone, email = name.strip(), phone.strip(), email.strip()
    if len(name) > 120:
        raise Invalid(N_("The name is too long (120 characters at most)."), param="name", code="too_long")
    check_optional_email(email)
    if email and not ADDRESS_RE.match(email):  # the outbox would refuse it later, after the report is filed
        raise Invalid(N_("Enter a valid e-mail address, or leave it empty."), param="email", code="invalid_email")
    return Contact(name=name, phone=normalize_phone(phone) if phone else "", email=email,
                   device_id=device_id.strip()[:120], account_id=account_id.strip()[:120])


def seal_contact(session: Session, owner_type: str, owner_id: int, contact: Contact) -> None:
    if contact.is_empty:
        return
    session.add(PrivateContact(owner_type=owner_type, owner_id=owner_id,
                               sealed=encrypt(json.dumps(asdict(contact), ensure_ascii=False))))


def contact_of(session: Session, owner_type: str, owner_id: int) -> Contact | None:
    """Staff pages and the notifier only: never pass this to a public template or response."""
    row = session.scalars(select(PrivateContact).where(PrivateContact.owner_type == owner_type,
                                                       PrivateContact.owner_id == owner_id)).first()
    if row is None:
        return None
    return Contact(**json.loads(decrypt(row.sealed)))


# -- categories and departments ------------------------------------------------------------------

def list_categories(session: Session, *, include_inactive: bool = False) -> list[ReportCategory]:
    stmt = select(ReportCategory).order_by(ReportCategory.position, ReportCategory.id)
    if not include_inactive:
        stmt = stmt.where(ReportCategory.is_active.is_(True))
    return list(session.scalars(stmt))


def category_by_code(session: Session, code: str, *, param: str = "category") -> ReportCategory:
    category = session.scalars(select(ReportCategory).where(ReportCategory.code == code,
                                                           ReportCategory.is_active.is_(True))).first()
    if category is None:
        raise NotFound("No such report category.", param=param)
    return category


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.is_active.is_(True)).order_by(Department.id)))


def check_attributes(category: ReportCategory, given: dict[str, Any]) -> dict[str, Any]:
    """The category's attribute values from ``given`` (form or Open311 ``attribute[code]``), checked.

    Values of list types are keys of the definition; multivaluelist takes a list. Unknown codes are
    dropped (an old client may send attributes a category no longer has)."""
    values: dict[str, Any] = {}
    for definition in category.attributes or []:
        code = definition["code"]
        raw = given.get(code)
        if raw is None or raw == "" or raw == []:
            if definition.get("required") and definition.get("variable", True):
                raise Invalid(f"The attribute {code} is required.", param=f"attribute[{code}]",
                              code="attribute_required")
            continue
        values[code] = _attribute_value(definition, raw)
    return values


def _attribute_value(definition: dict[str, Any], raw: Any) -> Any:
    code, datatype = definition["code"], definition.get("datatype", "string")
    param = f"attribute[{code}]"
    keys = {str(value["key"]) for value in definition.get("values", [])}
    if datatype == "multivaluelist":
        chosen = list(dict.fromkeys(str(item) for item in (raw if isinstance(raw, list) else [raw])))
        if not set(chosen) <= keys:
            raise Invalid(f"Unknown value for {code}.", param=param, code="invalid_attribute")
        return chosen
    text = str(raw[0] if isinstance(raw, list) and raw else raw).strip()
    if datatype == "singlevaluelist":
        if text not in keys:
            raise Invalid(f"Unknown value for {code}.", param=param, code="invalid_attribute")
        return text
    if datatype == "number":
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if number != number or number in (float("inf"), float("-inf")):
            raise Invalid(f"{code} must be a number.", param=param, code="invalid_attribute")
        return number
    if datatype == "datetime":
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(f"{code} must be a date and time.", param=param, code="invalid_attribute") from None
        return text
    if len(text) > (2000 if datatype == "text" else 300):
        raise Invalid(f"{code} is too long.", param=param, code="invalid_attribute")
    return text


# -- filing --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Location:
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None


def check_location(address: str = "", latitude: Any = None, longitude: Any = None) -> Location:
    """A map pin, an address, or both; at least one. Coordinates in WGS 84 degrees."""
    address = " ".join((address or "").split())
    if len(address) > ADDRESS_MAX:
        raise Invalid(N_("The address is too long."), param="address", code="too_long")
    lat, lon = _coordinate(latitude, "lat", 90), _coordinate(longitude, "long", 180)
    if (lat is None) != (lon is None):
        raise Invalid(N_("Give both latitude and longitude."), param="lat" if lat is None else "long",
                      code="incomplete_location")
    if lat is None and not address:
        raise Invalid(N_("Put a pin on the map or type the address."), param="address", code="location_required")
    return Location(address=address, latitude=lat, longitude=lon)


def _coordinate(value: Any, param: str, limit: int) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Invalid(N_("Coordinates are numbers in degrees."), param=param, code="invalid_location") from None
    if not -limit <= number <= limit or number != number:
        raise Invalid(N_("Coordinates are out of range."), param=param, code="invalid_location")
    return round(number, 6)


def submit_report(session: Session, *, category: ReportCategory, description: str, location: Location,
                  contact: Contact = Contact(), attributes: dict[str, Any] | None = None,
                  channel: ReportChannel = ReportChannel.WEB, language: str = "vi", media_url: str = "",
                  actor_user_id: int | None = None) -> FieldReport:
    description = description.strip()
    if len(description) < 10 and channel != ReportChannel.OPEN311:
        raise Invalid(N_("Describe the problem in a few words (10 characters at least)."), param="description",
                      code="too_short")
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(N_("The description is too long (4000 characters at most)."), param="description",
                      code="too_long")
    if (media_url and not media_url.startswith(("https://", "http://"))) or len(media_url) > 500:
        raise Invalid("media_url must be an http(s) address.", param="media_url", code="invalid_media_url")
    tenant = session.get(Tenant, current_tenant_id(session))
    assert tenant is not None
    now = utcnow()
    report = FieldReport(
        code=tracking_code(session, FieldReport, "R"),
        open311_token=secrets.token_urlsafe(18), category_id=category.id, department_id=category.department_id,
        status=ReportStatus.SUBMITTED, description=description, address=location.address,
        latitude=location.latitude, longitude=location.longitude,
        attribute_values=check_attributes(category, attributes or {}), media_url=media_url, channel=channel,
        language=language if language in ("vi", "en") else "vi", due_at=now + timedelta(days=category.deadline_days),
        created_at=now, updated_at=now,
    )
    report.category = category
    session.add(report)
    session.flush()
    report.updates.append(ReportUpdate(status_to=ReportStatus.SUBMITTED, department_id=report.department_id,
                                       actor_user_id=actor_user_id, created_at=now))
    seal_contact(session, "report", report.id, contact)
    _notify(session, report, contact, tenant)
    return report


def tracking_code(session: Session, model: type[FieldReport] | type[Question], marker: str) -> str:
    """A new code of the session's commune for a report ("R") or a question ("Q"): CT-R261128-7KQ4M."""
    tenant = session.get(Tenant, current_tenant_id(session))
    assert tenant is not None
    return reference_number(tenant.slug, to_local(utcnow()).date(),
                            lambda code: session.scalar(select(model.id).where(model.code == code)) is not None,
                            marker)


# -- the workflow --------------------------------------------------------------------------------

def change_status(session: Session, report: FieldReport, *, status: ReportStatus, public_note: str = "",
                  internal_note: str = "", actor_user_id: int | None = None,
                  duplicate_of: FieldReport | None = None) -> ReportUpdate:
    """Move a report on, with the answer the public sees; the reporter is told (e-mail or SMS)."""
    public_note, internal_note = public_note.strip(), internal_note.strip()
    if status not in TRANSITIONS[report.status]:
        raise Invalid(N_("This report cannot move to that status from where it is now."), param="status",
                      code="invalid_transition")
    if status in NEEDS_PUBLIC_NOTE and not public_note:
        raise Invalid(N_("Tell the citizen what was done or why (public note)."), param="public_note",
                      code="note_required")
    if len(public_note) > NOTE_MAX:
        raise Invalid(N_("The note is too long (4000 characters at most)."), param="public_note", code="too_long")
    if len(internal_note) > NOTE_MAX:
        raise Invalid(N_("The note is too long (4000 characters at most)."), param="internal_note",
                      code="too_long")
    if status == ReportStatus.DUPLICATE:
        if duplicate_of is None or duplicate_of.id == report.id:
            raise Invalid(N_("Name the report this one repeats."), param="duplicate_of",
                          code="duplicate_of_required")
        if duplicate_of.duplicate_of_id == report.id:
            raise Invalid(N_("That report is already marked as a duplicate of this one."), param="duplicate_of",
                          code="duplicate_cycle")
        report.duplicate_of_id = duplicate_of.id
    elif report.status == ReportStatus.DUPLICATE:
        report.duplicate_of_id = None
    now = utcnow()
    update = ReportUpdate(status_from=report.status, status_to=status, department_id=report.department_id,
                          public_note=public_note, internal_note=internal_note, actor_user_id=actor_user_id,
                          created_at=now)
    report.updates.append(update)
    report.status = status
    report.closed_at = now if status in CLOSED_STATUSES else None
    report.public_note = public_note  # the answer of the current status: a reopened report drops the old one
    report.updated_at = now
    session.flush()
    tenant = session.get(Tenant, report.tenant_id)
    assert tenant is not None
    _notify(session, report, contact_of(session, "report", report.id), tenant, public_note)
    return update


def assign(session: Session, report: FieldReport, department: Department | None, *, internal_note: str = "",
           actor_user_id: int | None = None) -> ReportUpdate:
    """Hand a report to a department (or take it back); a history step. The department is e-mailed, the
    reporter is not told (who handles it inside the commune is not their concern)."""
    if len(internal_note.strip()) > NOTE_MAX:
        raise Invalid(N_("The note is too long (4000 characters at most)."), param="internal_note",
                      code="too_long")
    report.department_id = department.id if department is not None else None
    report.department = department
    update = ReportUpdate(status_from=report.status, status_to=report.status, department_id=report.department_id,
                          internal_note=internal_note.strip(), actor_user_id=actor_user_id,
                          created_at=utcnow())
    report.updates.append(update)
    report.updated_at = utcnow()
    session.flush()
    if department is not None and department.email and ADDRESS_RE.match(department.email):
        due = to_local(report.due_at).strftime("%d/%m/%Y")
        queue_email(session, to=department.email, subject=f"[{report.code}] {report.category.name_vi}",
                    body=f"{report.description}\n\n{report.address}\n\nHạn xử lý / Due: {due}\n"
                         + (f"\n{internal_note.strip()}\n" if internal_note.strip() else ""),
                    tenant_id=report.tenant_id)
    return update


def set_hidden(session: Session, report: FieldReport, hidden: bool, *, internal_note: str = "",
               actor_user_id: int | None = None) -> ReportUpdate | None:
    """Take a report off the public pages and Open311 (abuse, personal data in the text) or put it back.

    A history step with the staff's reason; nothing changes (and None is returned) when it already is so."""
    if report.is_hidden == hidden:
        return None
    if len(internal_note.strip()) > NOTE_MAX:
        raise Invalid(N_("The note is too long (4000 characters at most)."), param="internal_note",
                      code="too_long")
    report.is_hidden = hidden
    update = ReportUpdate(status_from=report.status, status_to=report.status, department_id=report.department_id,
                          internal_note=internal_note.strip(), actor_user_id=actor_user_id, created_at=utcnow())
    report.updates.append(update)
    report.updated_at = utcnow()
    session.flush()
    return update


def is_overdue(report: FieldReport, now: datetime | None = None) -> bool:
    return report.is_open and report.due_at < (now or utcnow())


def days_overdue(report: FieldReport, now: datetime | None = None) -> int:
    """Whole days past the deadline (0 when not overdue, or late by less than a day)."""
    if not is_overdue(report, now):
        return 0
    return ((now or utcnow()) - report.due_at).days


# -- reading -------------------------------------------------------------------------------------

def public_reports_query(*, category_codes: list[str] | None = None,
                         statuses: list[ReportStatus] | None = None) -> Select[Any]:
    """Reports the public may see (hidden ones never), newest first, optionally filtered."""
    stmt = select(FieldReport).where(FieldReport.is_hidden.is_(False))
    if category_codes:
        stmt = stmt.join(ReportCategory, ReportCategory.id == FieldReport.category_id).where(
            ReportCategory.code.in_(category_codes))
    if statuses:
        stmt = stmt.where(FieldReport.status.in_(statuses))
    return stmt.order_by(FieldReport.created_at.desc(), FieldReport.id.desc())


def public_reports(session: Session, *, category_codes: list[str] | None = None,
                   statuses: list[ReportStatus] | None = None, page: int | None = None,
                   per_page: int | None = None) -> Page[FieldReport]:
    return paginate(session, public_reports_query(category_codes=category_codes, statuses=statuses), page,
                    per_page)


def report_by_code(session: Session, code: str, *, public: bool = True) -> FieldReport:
    stmt = select(FieldReport).where(FieldReport.code == code.strip().upper())
    if public:
        stmt = stmt.where(FieldReport.is_hidden.is_(False))
    report = session.scalars(stmt).first()
    if report is None:
        raise NotFound("No such report.", param="code")
    return report


def staff_reports_query(*, statuses: list[ReportStatus] | None = None, category_id: int | None = None,
                        department_id: int | None = None, overdue_only: bool = False) -> Select[Any]:
    """The triage list: open ones first by deadline; overdue ones are open and past ``due_at``."""
    stmt = select(FieldReport)
    if statuses:
        stmt = stmt.where(FieldReport.status.in_(statuses))
    if category_id:
        stmt = stmt.where(FieldReport.category_id == category_id)
    if department_id:
        stmt = stmt.where(FieldReport.department_id == department_id)
    if overdue_only:
        stmt = stmt.where(FieldReport.status.in_(OPEN_STATUSES), FieldReport.due_at < utcnow())
    return stmt.order_by(FieldReport.closed_at.is_not(None), FieldReport.due_at, FieldReport.id)


def staff_reports(session: Session, *, statuses: list[ReportStatus] | None = None, category_id: int | None = None,
                  department_id: int | None = None, overdue_only: bool = False, page: int | None = None,
                  per_page: int | None = None) -> Page[FieldReport]:
    return paginate(session, staff_reports_query(statuses=statuses, category_id=category_id,
                                                 department_id=department_id, overdue_only=overdue_only),
                    page, per_page)


def status_counts(session: Session) -> dict[ReportStatus, int]:
    """How many reports are in each status (every status present, zero when none)."""
    rows = session.execute(select(FieldReport.status, func.count()).group_by(FieldReport.status)).all()
    found = {ReportStatus(status): number for status, number in rows}
    return {status: found.get(status, 0) for status in ReportStatus}


def overdue_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(FieldReport).where(
        FieldReport.status.in_(OPEN_STATUSES), FieldReport.due_at < utcnow())) or 0


def duplicates_of(session: Session, report: FieldReport) -> list[FieldReport]:
    return list(session.scalars(select(FieldReport).where(FieldReport.duplicate_of_id == report.id)
                                .order_by(FieldReport.id)))


def list_response_templates(session: Session, status: ReportStatus | None = None) -> list[ResponseTemplate]:
    stmt = select(ResponseTemplate).order_by(ResponseTemplate.title, ResponseTemplate.id)
    if status is not None:
        stmt = stmt.where(ResponseTemplate.status == status)
    return list(session.scalars(stmt))


def template_body(template: ResponseTemplate, language: str) -> str:
    """The template's text in the report's language (Vietnamese when there is no English text)."""
    return template.body_en if language == "en" and template.body_en.strip() else template.body_vi


# -- the reporter's notifications ----------------------------------------------------------------

def report_url(report: FieldReport, tenant: Tenant) -> str:
    from flask import current_app

    return f"{current_app.config['PUBLIC_BASE_URL']}/c/{tenant.slug}/reports/{report.code}"


def status_text(status: ReportStatus) -> str:
    return {
        ReportStatus.SUBMITTED: gettext("received"),
        ReportStatus.ACKNOWLEDGED: gettext("acknowledged"),
        ReportStatus.IN_PROGRESS: gettext("being handled"),
        ReportStatus.RESOLVED: gettext("resolved"),
        ReportStatus.REJECTED: gettext("not accepted"),
        ReportStatus.DUPLICATE: gettext("a duplicate of another report"),
    }[status]


def _notify(session: Session, report: FieldReport, contact: Contact | None, tenant: Tenant,
            note: str = "") -> None:
    """Tell the reporter, in their language, by e-mail when they gave one, else by SMS to their phone.

    ``note`` is this step's public note: an older answer (a rejection before the report was reopened)
    is not repeated."""
    if contact is None or not (contact.email or contact.phone):
        return
    with force_locale(report.language):
        subject = gettext("Report %(code)s: %(status)s", code=report.code, status=status_text(report.status))
        opening = gettext("%(commune)s has received your report %(code)s.", commune=tenant.name, code=report.code) \
            if report.status == ReportStatus.SUBMITTED \
            else gettext("%(commune)s has updated your report %(code)s.", commune=tenant.name, code=report.code)
        lines = [opening,
                 gettext("Status: %(status)s", status=status_text(report.status))]
        if note:
            lines.append(note)
        lines.append(gettext("Follow it here: %(url)s", url=report_url(report, tenant)))
    if contact.email:
        queue_email(session, to=contact.email, subject=subject, body="\n\n".join(lines) + "\n",
                    tenant_id=report.tenant_id)
    else:
        queue_sms(session, to=contact.phone, text=" ".join([subject, *lines[2:]]), tenant_id=report.tenant_id)
