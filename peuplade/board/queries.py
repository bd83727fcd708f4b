"""Reads for the lobby board: what fits on one printed page."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from peuplade.extensions import db
from peuplade.models import Event, Exchange, Member
from peuplade.posts import audience
from peuplade.posts import queries as posts

# One A4 page at a size older readers can read from a metre away, with room at its foot
# for the contact and the tear-off strips: the newest requests (the site has the rest).
REQUESTS_MAX = 4
EVENTS_MAX = 4


def _requests():
    # posts.newest_nearby's condition: SQL made once, its value a parameter.
    return Exchange.kind == bindparam("kind")


def open_requests(viewer: Member, around_m: int, limit: int = REQUESTS_MAX) -> list[Exchange]:
    """The newest open requests within ``around_m`` of the viewer's home."""
    walk = posts.newest_nearby(
        viewer,
        Exchange,
        _requests,
        limit=limit,
        radius_m=around_m,
        params={"kind": "request"},
    )
    return list(walk.run(db.session.scalars))


def upcoming_events(viewer: Member, around_m: int, limit: int = EVENTS_MAX) -> list[Event]:
    """The next outings within ``around_m`` of the viewer's home, soonest first."""
    stmt = (
        select(Event)
        .where(
            audience.reaches(viewer, Event, radius_m=around_m),
            posts.listed(Event),
        )
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
