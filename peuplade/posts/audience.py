"""Who sees whom: the one rule, written once, for posts and for members.

**What reaches me** (``reaches``, ``reaches_or_quartier``, ``visible_to``): a post whose
PUBLIC position lies within min(my radius, the post's reach) of MY home, not hidden by
the moderation, with no block either way between its author and me; and the news
addressed to my whole quartier. It is never measured from the author's home. The lists
read the same rule cell by cell (``posts.queries.newest_nearby``, built on
``within_reach`` and ``no_block``).

**Whom a post reaches** (``reached_by``): the exact inverse, read from the post's side.
The members whose home lies within min(their radius, the post's reach) of the post's
position (or who live in the quartier it is addressed to), with no block either way,
but neither its author nor a suspended or banned member (only active members are told
of anything). For every active member m and post p other than m's own: m is in
``reached_by(p)`` exactly when p reaches m (tests/test_audience.py). It reads homes, so
it is for the server only - who is notified of a new request - and nobody is ever
shown it.

**What its author is shown** (``reached_by_public``: "voisins qui savent faire ça"): the
same rule with the members' PUBLIC positions in place of their homes - deliberately NOT
the exact inverse. An author may move a post and change its reach at will; were the list
computed on homes, watching who enters and leaves it would locate each home
(trilateration). On public positions it teaches nothing finer than the grid cell the
profile already shows (docs/privacy.md, "Posts").

**Who appears to whom** (``seen_by``): members whose PUBLIC position lies within my
radius of my home, not banned, not me, with no block either way.

**Blocks** apply both ways, everywhere, silently (``no_block`` in SQL,
``blocked_between`` for two members at hand: a message, a notification): to the blocked
member the other is simply not in their neighbourhood, and the blocker no longer sees
them either.
"""

from __future__ import annotations

from sqlalchemy import and_, case, exists, false, or_, select

from peuplade import geo, privacy
from peuplade.extensions import db
from peuplade.models import RADIUS_MAX_M, Block, Member, Post

# A public position lies within this distance of the home it stands for: ``reached_by``
# pre-filters on the public positions' spatial index, then tests the homes exactly.
PUBLIC_SLACK_M = privacy.PUBLIC_OFFSET_MAX_M


# --- blocks ------------------------------------------------------------------------------


def no_block(a, b):
    """SQL: neither member blocked the other. ``a`` and ``b`` are member ids or columns.

    Two NOT EXISTS, each answered by an index of ``blocks`` (its key, and
    ``ix_blocks_blocked_id``), rather than one OR the planner could not."""
    return and_(
        ~exists().where(Block.blocker_id == a, Block.blocked_id == b),
        ~exists().where(Block.blocker_id == b, Block.blocked_id == a),
    )


def has_blocked(blocker, blocked):
    """SQL: ``blocker`` blocked ``blocked`` (ids or columns): one direction only."""
    return exists().where(Block.blocker_id == blocker, Block.blocked_id == blocked)


def blocked_between(a_id: int, b_id: int) -> bool:
    """Either of the two members blocked the other (one query)."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    or_(
                        and_(Block.blocker_id == a_id, Block.blocked_id == b_id),
                        and_(Block.blocker_id == b_id, Block.blocked_id == a_id),
                    )
                )
            )
        )
    )


# --- what reaches me ---------------------------------------------------------------------


def radius_of(viewer: Member, radius_m: int | None = None) -> int:
    """The viewer's radius, or ``radius_m`` when it is narrower (never wider)."""
    return viewer.radius_m if radius_m is None else min(radius_m, viewer.radius_m)


def within_reach(viewer: Member, post_cls=Post, radius_m: int | None = None):
    """SQL: the post's position lies within min(the viewer's radius, its reach) of the
    viewer's home: ``reaches``'s test, without the spatial index, for queries that find
    their rows otherwise (the cell walk of ``newest_nearby``)."""
    home = geo.from_element(viewer.home)
    radius = radius_of(viewer, radius_m)
    nearer = case((post_cls.reach_m < radius, post_cls.reach_m), else_=radius)
    return geo.distance_m(post_cls.position, geo.point(home.lat, home.lon)) <= nearer


def shown_with(viewer: Member, post_cls=Post):
    """SQL: what every post that reaches the viewer also needs: not hidden by the
    moderation, no block either way between its author and the viewer."""
    return and_(post_cls.hidden_at.is_(None), no_block(viewer.id, post_cls.author_id))


def reaches(viewer: Member, post_cls=Post, radius_m: int | None = None):
    """SQL: the post (one that reaches by distance) reaches the viewer: within
    min(the viewer's radius, its reach) of the viewer's home, on the spatial index of
    positions, and ``shown_with`` the viewer. ``radius_m`` narrows the viewer's radius."""
    home = geo.from_element(viewer.home)
    return and_(
        post_cls.quartier_id.is_(None),
        # Within the radius (the index answers the box), then within the reach.
        geo.within_radius(post_cls.position, home, radius_of(viewer, radius_m)),
        geo.distance_m(post_cls.position, geo.point(home.lat, home.lon)) <= post_cls.reach_m,
        shown_with(viewer, post_cls),
    )


def addressed_to(viewer: Member, post_cls=Post):
    """SQL: the post is addressed to the viewer's whole quartier (news) and
    ``shown_with`` the viewer."""
    if viewer.quartier_id is None:
        return false()
    return and_(post_cls.quartier_id == viewer.quartier_id, shown_with(viewer, post_cls))


def reaches_or_quartier(viewer: Member, post_cls=Post):
    """SQL: the post reaches the viewer by distance, or is addressed to their quartier."""
    if viewer.quartier_id is None:
        return reaches(viewer, post_cls)
    return or_(reaches(viewer, post_cls), addressed_to(viewer, post_cls))


def visible_to(viewer: Member, post_cls=Post):
    """SQL: the viewer may open the post: their own (even hidden by the moderation), or
    one that reaches them."""
    return or_(post_cls.author_id == viewer.id, reaches_or_quartier(viewer, post_cls))


# --- whom a post reaches -----------------------------------------------------------------


def _reached(post: Post, where_they_are, slack_m: int):
    """SQL on ``Member``: the members ``post`` reaches, measured from ``where_they_are``
    (their homes or their public positions; pre-filtered on the public positions'
    index within ``slack_m`` more than the reach)."""
    if post.hidden_at is not None:
        return false()
    common = (
        Member.id != post.author_id,
        Member.status == "active",
        no_block(post.author_id, Member.id),
    )
    if post.quartier_id is not None:
        return and_(Member.quartier_id == post.quartier_id, *common)
    pos = geo.from_element(post.position)
    distance = geo.distance_m(where_they_are, geo.point(pos.lat, pos.lon))
    return and_(
        geo.within_radius(Member.public_position, pos, min(post.reach_m, RADIUS_MAX_M) + slack_m),
        distance <= Member.radius_m,
        distance <= post.reach_m,
        *common,
    )


def reached_by(post: Post):
    """SQL on ``Member``: every member the post reaches, from their homes (the exact
    inverse of ``reaches_or_quartier``). Server only: never shown to anyone."""
    return _reached(post, Member.home, PUBLIC_SLACK_M)


def home_distance(post: Post):
    """SQL: how far each member's home is from the post (server only: an order)."""
    pos = geo.from_element(post.position)
    return geo.distance_m(Member.home, geo.point(pos.lat, pos.lon))


def reached_by_public(post: Post):
    """SQL on ``Member``: whom the post reaches as its author may be told, from the
    members' PUBLIC positions (see the module's docstring for why not their homes)."""
    return _reached(post, Member.public_position, 0)


# --- who appears to whom -----------------------------------------------------------------


def near(viewer: Member):
    """SQL: members whose PUBLIC position lies within the viewer's radius of the
    viewer's own home (spatial index used). Geometry only: ``seen_by`` is the rule."""
    return geo.within_radius(Member.public_position, geo.from_element(viewer.home), viewer.radius_m)


def seen_by(viewer: Member):
    """SQL: the members the viewer sees as neighbours: ``near`` the viewer, not banned,
    not the viewer, no block either way."""
    return and_(
        near(viewer),
        Member.id != viewer.id,
        Member.status != "banned",
        no_block(viewer.id, Member.id),
    )
