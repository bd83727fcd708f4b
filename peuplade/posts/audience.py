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

from sqlalchemy import (
    Select,
    and_,
    case,
    exists,
    false,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from peuplade import geo, privacy
from peuplade.extensions import db
from peuplade.models import RADIUS_MAX_M, Block, Member, MemberSkill, MemberTag, Post
from peuplade.models.member import SHOWN_WITHIN_M

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


def within_reach(viewer: Member | ColumnElement, post_cls=Post, radius_m=None):
    """SQL: the post's position lies within min(the viewer's radius, its reach) of the
    viewer's home: ``reaches``'s test, without the spatial index, for queries that find
    their rows otherwise (the cell walk of ``newest_nearby``).

    ``viewer`` may be a point expression instead (the home), ``radius_m`` then being
    the radius itself, a number or an SQL expression: the bound parameters of a
    statement built once for every viewer (``newest_nearby``)."""
    if isinstance(viewer, ColumnElement):
        here, radius = viewer, radius_m
    else:
        home = geo.from_element(viewer.home)
        here, radius = geo.point(home.lat, home.lon), radius_of(viewer, radius_m)
    nearer = case((post_cls.reach_m < radius, post_cls.reach_m), else_=radius)
    return geo.distance_m(post_cls.position, here) <= nearer


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


def reached_within_m(post: Post, from_homes: bool) -> int:
    """How far from the post a public position of a member it reaches can lie: its reach
    (never more than any member's radius), plus, when reached from the homes, the most a
    public position lies from its home."""
    return min(post.reach_m, RADIUS_MAX_M) + (PUBLIC_SLACK_M if from_homes else 0)


def _reached(post: Post, from_homes: bool, spatial_index: bool = True):
    """SQL on ``Member``: the members ``post`` reaches, measured from their homes
    (``from_homes``) or their public positions; pre-filtered on the public positions'
    index within ``reached_within_m``, unless ``spatial_index`` is False: for queries
    that find their candidates otherwise, ``skilled_near``."""
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
    where_they_are = Member.home if from_homes else Member.public_position
    distance = geo.distance_m(where_they_are, geo.point(pos.lat, pos.lon))
    near = (
        (geo.within_radius(Member.public_position, pos, reached_within_m(post, from_homes)),)
        if spatial_index
        else ()
    )
    return and_(
        *near,
        distance <= Member.radius_m,
        distance <= post.reach_m,
        *common,
    )


def reached_by(post: Post, spatial_index: bool = True):
    """SQL on ``Member``: every member the post reaches, from their homes (the exact
    inverse of ``reaches_or_quartier``). Server only: never shown to anyone. Without
    ``spatial_index``, for candidates found otherwise within ``reached_within_m``."""
    return _reached(post, from_homes=True, spatial_index=spatial_index)


def home_distance(post: Post):
    """SQL: how far each member's home is from the post (server only: an order)."""
    pos = geo.from_element(post.position)
    return geo.distance_m(Member.home, geo.point(pos.lat, pos.lon))


def reached_by_public(post: Post, spatial_index: bool = True):
    """SQL on ``Member``: whom the post reaches as its author may be told, from the
    members' PUBLIC positions (see the module's docstring for why not their homes).
    ``spatial_index`` as for ``reached_by``."""
    return _reached(post, from_homes=False, spatial_index=spatial_index)


# --- who appears to whom -----------------------------------------------------------------


def near(viewer: Member, spatial_index: bool = True):
    """SQL: members whose PUBLIC position lies within the viewer's radius of the
    viewer's own home (spatial index used, unless ``spatial_index`` is False: the exact
    distance alone, for candidates found otherwise). Geometry only: ``seen_by`` is the
    rule."""
    home = geo.from_element(viewer.home)
    if not spatial_index:
        distance = geo.distance_m(Member.public_position, geo.point(home.lat, home.lon))
        return distance <= float(viewer.radius_m)
    return geo.within_radius(Member.public_position, home, viewer.radius_m)


def seen_by(viewer: Member, spatial_index: bool = True):
    """SQL: the members the viewer sees as neighbours: ``near`` the viewer, not banned,
    not the viewer, no block either way."""
    return and_(
        near(viewer, spatial_index),
        Member.id != viewer.id,
        Member.status != "banned",
        no_block(viewer.id, Member.id),
    )


# --- members of a skill near a point -----------------------------------------------------


def knows(skill: str):
    """SQL on ``Member``: the member has ``skill`` among their skills."""
    return exists().where(MemberSkill.member_id == Member.id, MemberSkill.skill == skill)


def _skill_rows(
    table, centre: geo.LatLon, metres: float, skill: str, shown_within_m: int | None = None
) -> Select:
    """SQL: the member ids of ``table``'s rows (skills or tags) of ``skill`` whose public
    position lies in the feed cells that meet the circle of ``metres`` around ``centre``
    and in the box around that circle (and of members shown within ``shown_within_m``
    of their homes, when given), from its (cell, skill, shown_within_m, member_id)
    indexes, which hold the public position (models/member.py).

    The cells (~500 m high) cover two to three times the circle's area; the box, checked
    on the index entries, keeps about a quarter more than the circle: at 1M members the
    matching fan-out's 360 m circle read 2,022 rows of a common skill, each checked
    against its member's row, of which 753 were in the circle."""
    cells = geo.feed_cells_around(centre, metres)
    keys = [*cells.central, *cells.edge]
    cell = table.cell_fine if cells.level == "fine" else table.cell_coarse
    dialect = db.engine.dialect.name
    # One statement shape whatever the number of cells (planned once).
    in_cells = geo.in_cells(cell, geo.cell_keys(dialect, keys=keys), dialect)
    column = table.skill if table is MemberSkill else table.tag
    west, south, east, north = geo.bounding_box(centre, metres)
    stmt = select(table.member_id).where(
        in_cells,
        column == skill,
        table.public_lat.between(south, north),
        table.public_lon.between(west, east),
    )
    if shown_within_m is not None:
        stmt = stmt.where(table.shown_within_m == shown_within_m)
    return stmt


def skilled_near(centre: geo.LatLon, metres: float, skill: str, with_tags: bool = False):
    """SQL on ``Member``: the member has ``skill`` among their skills (with
    ``with_tags``, or among their free tags) and is shown in a feed cell that meets the
    circle of ``metres`` around ``centre`` (``geo.feed_cells_around``).

    Every member whose PUBLIC position lies within the circle is among them: read from
    the (cell, skill, ...) indexes of ``member_skills`` and ``member_tags``
    (models/member.py), the candidates are the skill's rows of a few cells, not every
    member of the circle. The rule (``seen_by``, ``reached_by``...) still decides, on
    these candidates only (with ``spatial_index=False``)."""
    found = _skill_rows(MemberSkill, centre, metres, skill)
    if with_tags:
        found = union(found, _skill_rows(MemberTag, centre, metres, skill))
    return Member.id.in_(found)


def _homes_knowing_near(post: Post, skill: str, within_m: int | None = None):
    """SQL on ``Member``: members of ``skill`` whose HOME may lie within the post's
    reach (or ``within_m`` of the post, when nearer): for each bound a public position
    keeps from its home (``shown_within_m`` of the skill rows: ~160 m for most members,
    up to ``PUBLIC_SLACK_M``), those shown in the cells within the reach plus that
    bound. Most members are read from the cells of a circle barely larger than the
    reach, not the reach plus the widest bound."""
    pos = geo.from_element(post.position)
    reach = reached_within_m(post, from_homes=False)
    if within_m is not None:
        reach = min(reach, within_m)
    bounds = (*SHOWN_WITHIN_M, PUBLIC_SLACK_M)
    return Member.id.in_(
        union_all(*(_skill_rows(MemberSkill, pos, reach + b, skill, b) for b in bounds))
    )


def reached_knowing(post: Post, skill: str, from_homes: bool, within_m: int | None = None):
    """SQL on ``Member``: the members ``post`` reaches (``reached_by`` from their homes,
    or ``reached_by_public``) who have ``skill`` among their skills, read cell by cell
    (``skilled_near``) around the post within ``reached_within_m``: every public
    position of a member it reaches lies there. A post addressed to a quartier reaches
    by quartier, not distance: its members are read as ``reached_by`` says.

    ``within_m`` (from the homes only): those whose home is also within that many metres
    of the post, read from the cells of that smaller circle (the nearest first: the
    matching fan-out, ``notifications.services.nearest_knowing``)."""
    rule = reached_by if from_homes else reached_by_public
    if post.quartier_id is not None or post.hidden_at is not None:
        return and_(rule(post), knows(skill))
    if from_homes:
        near = _homes_knowing_near(post, skill, within_m)
    else:
        if within_m is not None:
            raise ValueError("within_m is measured from the homes (from_homes=True)")
        near = skilled_near(geo.from_element(post.position), reached_within_m(post, False), skill)
    if within_m is not None:
        return and_(near, rule(post, spatial_index=False), home_distance(post) <= within_m)
    return and_(near, rule(post, spatial_index=False))
