"""When a notification happened, as people say it: "à l'instant", "il y a 5 min",
"il y a 2 h", "hier à 14 h", then the day ("3 décembre"). The exact moment goes with it
(``exact``), for the page's ``<time>`` and for screen readers.

Everything takes ``now`` so that it can be tested on a fixed clock; local days follow
the site's ``TIMEZONE``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_skeleton, format_timedelta
from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _

from peuplade.localtime import local_zone
from peuplade.models import utcnow

# Up to this long ago, "il y a N h" even across midnight (at 0:30, not "hier à 23 h").
HOURS_AGO_ACROSS_MIDNIGHT = timedelta(hours=3)


def _clock(moment: datetime) -> str:
    """An hour as written in the page's language: "14 h", "14 h 05"; "2:05 PM"."""
    if str(get_locale() or "").startswith("fr"):
        return format_time(moment, "H 'h'" if moment.minute == 0 else "H 'h' mm", rebase=False)
    return format_time(moment, "short", rebase=False)


def _ago(ago: timedelta, unit: str) -> str:
    """``ago`` in whole minutes or hours, short, in the page's language ("il y a 5 min")."""
    step = timedelta(**{unit + "s": 1})
    return format_timedelta(
        -(ago // step) * step,
        granularity=unit,
        threshold=1,
        add_direction=True,
        format="short",
        locale=get_locale(),
    )


def relative(value: datetime, now: datetime | None = None) -> str:
    """How long ago ``value`` was, in the page's language."""
    now = now or utcnow()
    ago = now - value
    if ago < timedelta(minutes=1):  # also a clock slightly ahead: never "dans 2 s"
        return _("à l'instant")
    if ago < timedelta(hours=1):
        return _ago(ago, "minute")
    zone = local_zone()
    local, today = value.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today or ago < HOURS_AGO_ACROSS_MIDNIGHT:
        return _ago(ago, "hour")
    if local.date() == today - timedelta(days=1):
        return _("hier à %(time)s", time=_clock(local))
    if local.year == today.year:
        return format_skeleton("MMMMd", local.date(), locale=get_locale())  # 3 décembre
    return format_date(local.date(), "long")


def exact(value: datetime) -> str:
    """The day and hour in local time ("3 décembre 2026 à 14 h 05")."""
    local = value.astimezone(local_zone())
    return _("%(day)s à %(time)s", day=format_date(local.date(), "long"), time=_clock(local))
