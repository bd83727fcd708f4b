"""The site's local time (``TIMEZONE``): which day it is, and when a local day ends.

Dates members see and type (a post's last day, a loan's due date, a suspension's end)
are local days; instants are stored in UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

# local_zone: the site's zone, written once where pages' words need it too (below the
# models); the rest of the app reads it from here.
from peuplade.formats import local_zone
from peuplade.models.base import utcnow


def today() -> date:
    return utcnow().astimezone(local_zone()).date()


def end_of_day(day: date) -> datetime:
    """The UTC instant a local day ends."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=local_zone())
