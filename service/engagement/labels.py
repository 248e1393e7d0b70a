"""How report statuses read on pages (presentation only; the workflow lives in ``services``)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext

from service.engagement.models import ReportStatus

REPORT_STATUS_LABELS: dict[str, Any] = {
    ReportStatus.SUBMITTED.value: lazy_gettext("Submitted"),
    ReportStatus.ACKNOWLEDGED.value: lazy_gettext("Acknowledged"),
    ReportStatus.IN_PROGRESS.value: lazy_gettext("In progress"),
    ReportStatus.RESOLVED.value: lazy_gettext("Resolved"),
    ReportStatus.REJECTED.value: lazy_gettext("Not accepted"),
    ReportStatus.DUPLICATE.value: lazy_gettext("Duplicate"),
}


def report_status_label(status: Any) -> Any:
    """The label of a status given as the enum or its value."""
    value = str(getattr(status, "value", status) or "")
    return REPORT_STATUS_LABELS.get(value, value)
