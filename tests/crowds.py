"""Crowd-blurring in tests: making members established and running the daily job.

Only established members (e-mail confirmed, account older than
PRIVACY_ESTABLISHED_DAYS, active, not reported) count toward a crowd, and positions
become finer only in ``flask privacy-refresh`` once a crowd has held for
PRIVACY_STABLE_DAYS (peuplade/account/blur.py). Tests that need members shown finely
make them established and run the job twice, a stable period apart.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from peuplade.account import blur
from peuplade.extensions import db
from peuplade.models import Member, utcnow


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
