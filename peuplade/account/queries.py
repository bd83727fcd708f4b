"""Reads about members and quartiers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from peuplade import geo
from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.geo import LatLon
from peuplade.models import Member, Quartier


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
    """Members the viewer may see: in the viewer's neighbourhood, or having the viewer in
    theirs (both measured on public positions, from the viewer's own home)."""
    viewer_home = geo.from_element(viewer.home)
    viewer_public = geo.from_element(viewer.public_position)
    mine = geo.within_radius(Member.public_position, viewer_home, viewer.radius_m)
    theirs = (
        geo.distance_m(Member.public_position, geo.point(viewer_public.lat, viewer_public.lon))
        <= Member.radius_m
    )
    return select(Member).where(or_(Member.id == viewer.id, mine, theirs))


def get_member_or_404(viewer: Member, member_id: int) -> Member:
    """A member's public profile, or NotFound when absent or outside the neighbourhood."""
    member = db.session.scalar(visible_members(viewer).where(Member.id == member_id))
    if member is None:
        raise NotFound(_l("Ce voisin n'existe pas, ou n'est pas dans votre voisinage."))
    return member
