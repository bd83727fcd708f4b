"""The site's local time (``TIMEZONE``): which day it is, and when a local day ends.

Dates members see and type (a post's last day, a loan's due date, a suspension's end)
are local days; instants are stored in UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from peuplade.models.base import utcnow


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def today() -> date:
    return utcnow().astimezone(local_zone()).date()


def end_of_day(day: date) -> datetime:
    """The UTC instant a local day ends."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=local_zone())
