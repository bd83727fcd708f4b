"""Crowd-blurring in tests: making members established and running the daily job.

Only established members (e-mail confirmed, account older than
PRIVACY_ESTABLISHED_DAYS, active, not reported) count toward a crowd, and positions
become finer only in ``flask privacy-refresh`` once a crowd has held for
PRIVACY_STABLE_DAYS (peuplade/account/blur.py). Tests that need members shown finely
make them established and run the job twice, a stable period apart.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import update

from peuplade import geo
from peuplade.account import blur
from peuplade.account import services as account
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import Member, utcnow
from tests.conftest import PASSWORD


def offset(origin: geo.LatLon, north_m: float, east_m: float) -> geo.LatLon:
    """The point ``north_m`` north and ``east_m`` east of ``origin`` (flat: fine over a
    few kilometres)."""
    lat = origin.lat + north_m / 111_320
    lon = origin.lon + east_m / (111_320 * math.cos(math.radians(origin.lat)))
    return geo.lat_lon(round(lat, 7), round(lon, 7))


def member_at(name: str, at: geo.LatLon, radius_m: int = 1000) -> Member:
    """A member named ``name`` living at ``at`` (e-mail made from the name), committed."""
    member = account.register_member(
        email=f"{name.lower().replace(' ', '.')}@example.org",
        password=PASSWORD,
        display_name=name,
        location=LocationInput(lat=at.lat, lon=at.lon),
        radius_m=radius_m,
    )
    db.session.commit()
    return member


def establish(*, days_ago: int = 40, ids=None) -> None:
    """Members (all, or ``ids``) confirmed their e-mail and joined ``days_ago`` days ago."""
    since = utcnow() - timedelta(days=days_ago)
    stmt = update(Member).values(email_confirmed_at=since, created_at=since)
    if ids is not None:
        stmt = stmt.where(Member.id.in_(list(ids)))
    db.session.execute(stmt)
    db.session.commit()


def settle() -> blur.Summary:
    """Everyone established; the daily job run a stable period ago and today."""
    establish()
    blur.refresh_all(now=utcnow() - timedelta(days=8))
    summary = blur.refresh_all()
    db.session.commit()
    return summary
