"""Reads about members and quartiers: who lives where, whose profile a member may open,
who knows how to do something."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, or_, select

from peuplade import geo
from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.geo import LatLon
from peuplade.models import ExchangeResponse, Member, Post, Quartier
from peuplade.posts import audience


def member_by_email(email: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.email == email))


def quartier_at(pos: LatLon) -> Quartier | None:
    """The quartier whose polygon holds ``pos`` (point-in-polygon, index used)."""
    stmt = (
        select(Quartier)
        .where(geo.contains_point(Quartier.geom, geo.point(pos.lat, pos.lon)))
        .order_by(Quartier.id)
        .limit(1)
    )
    return db.session.scalar(stmt)


def visible_members(viewer: Member) -> Select:
    """Members whose profile the viewer may open: in the viewer's neighbourhood, or having
    the viewer in theirs (both on public positions), or met through an exchange: the
    author of a post the viewer can see, or someone who answered the viewer's exchange.
    Never a member who blocked the viewer (to them, they are not in the neighbourhood);
    the blocker still opens the profile of the member they blocked (to unblock them)."""
    viewer_public = geo.from_element(viewer.public_position)
    theirs = (
        geo.distance_m(Member.public_position, geo.point(viewer_public.lat, viewer_public.lon))
        <= Member.radius_m
    )
    authored_near_me = exists().where(Post.author_id == Member.id, audience.reaches(viewer))
    answered_me = exists().where(
        ExchangeResponse.author_id == Member.id,
        ExchangeResponse.exchange_id.in_(select(Post.id).where(Post.author_id == viewer.id)),
    )
    return select(Member).where(
        # A banned member's profile is gone for everyone else.
        or_(Member.id == viewer.id, Member.status != "banned"),
        ~audience.has_blocked(Member.id, viewer.id),
        or_(
            Member.id == viewer.id,
            audience.near(viewer),
            theirs,
            authored_near_me,
            answered_me,
        ),
    )


# SQL: the member has a category among their skills (the rule is the audience's, which
# reads such members cell by cell: ``audience.reached_knowing``).
knows = audience.knows


def get_member_or_404(viewer: Member, member_id: int) -> Member:
    """A member's public profile, or NotFound when absent or outside the neighbourhood."""
    member = db.session.scalar(visible_members(viewer).where(Member.id == member_id))
    if member is None:
        raise NotFound(_l("Ce voisin n'existe pas, ou n'est pas dans votre voisinage."))
    return member
