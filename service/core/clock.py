"""Times are stored in UTC and shown in the commune's zone (Asia/Ho_Chi_Minh)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from service.db import utcnow

DISPLAY_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

__all__ = ["DISPLAY_ZONE", "format_local", "to_local", "utcnow"]


def to_local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(DISPLAY_ZONE)


def format_local(moment: datetime | None, with_time: bool = True) -> str:
    if moment is None:
        return ""
    local = to_local(moment)
    return local.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")
