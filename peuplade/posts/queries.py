"""Who sees a post: the one radius rule, written once for every post type.

A member sees a post when the distance from the post's public position to the
member's own home is within the member's radius AND within the author's reach.
It is never measured from the author's home.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, exists, or_

from peuplade import geo, privacy
from peuplade.models import Block, Member, Post, utcnow
from peuplade.pagination import TimeCursor


def not_blocked_by_author(viewer: Member, post_cls: type[Post] = Post):
    """SQL: the author has not blocked the viewer (who is not told: to them the post is
    simply not in their neighbourhood)."""
    return ~exists().where(Block.blocker_id == post_cls.author_id, Block.blocked_id == viewer.id)


def in_neighbourhood(viewer: Member, post_cls: type[Post] = Post, radius_m: int | None = None):
    """SQL: the post lies in the viewer's neighbourhood and the author's reach covers
    the viewer (radius query on the spatial index); not hidden by the moderation, and
    the author has not blocked the viewer. ``radius_m`` narrows the neighbourhood (never
    widens it beyond the viewer's own radius)."""
    home = geo.from_element(viewer.home)
    radius = viewer.radius_m if radius_m is None else min(radius_m, viewer.radius_m)
    return and_(
        geo.within_radius(post_cls.position, home, radius),
        geo.distance_m(post_cls.position, geo.point(home.lat, home.lon)) <= post_cls.reach_m,
        post_cls.hidden_at.is_(None),
        not_blocked_by_author(viewer, post_cls),
    )


def in_neighbourhood_or_quartier(viewer: Member, post_cls: type[Post] = Post):
    """SQL: posts that reach the viewer by distance (the rule above), or that are
    addressed to the viewer's whole quartier (news), with the same moderation and
    blocking rules."""
    by_distance = and_(post_cls.quartier_id.is_(None), in_neighbourhood(viewer, post_cls))
    if viewer.quartier_id is None:
        return by_distance
    by_quartier = and_(
        post_cls.quartier_id == viewer.quartier_id,
        post_cls.hidden_at.is_(None),
        not_blocked_by_author(viewer, post_cls),
    )
    return or_(by_distance, by_quartier)


def visible_to(viewer: Member, post_cls: type[Post] = Post):
    """SQL: the viewer may open the post (their own, even hidden by the moderation; or
    in their neighbourhood, or addressed to their quartier)."""
    return or_(post_cls.author_id == viewer.id, in_neighbourhood_or_quartier(viewer, post_cls))


def listed(post_cls: type[Post] = Post, now: datetime | None = None):
    """SQL: still on the lists (open, not expired, not hidden by the moderation)."""
    now = now or utcnow()
    return and_(
        post_cls.status == "open",
        or_(post_cls.expires_at.is_(None), post_cls.expires_at > now),
        post_cls.hidden_at.is_(None),
    )


def newest_first(stmt: Select, after: TimeCursor | None) -> Select:
    """Order newest first and start after ``after`` (keyset, never OFFSET).

    Always on the ``posts`` columns (not a subtype's own ``id``), which the
    (created_at, id) index covers.
    """
    if after is not None:
        stmt = stmt.where(
            or_(
                Post.created_at < after.created_at,
                and_(Post.created_at == after.created_at, Post.id < after.id),
            )
        )
    return stmt.order_by(Post.created_at.desc(), Post.id.desc())


def cursor_after(post: Post) -> str:
    return TimeCursor(post.created_at, post.id).encode()


def distance_band(viewer: Member, post: Post) -> str | None:
    """Band between the viewer's public position and the post's public position."""
    here = geo.from_element(viewer.public_position)
    there = geo.from_element(post.position)
    if here is None or there is None:
        return None
    return privacy.distance_band(geo.geodesic_distance_m(here, there))
