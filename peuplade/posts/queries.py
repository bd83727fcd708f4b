"""Lists of posts, written once for every post type: still listed, newest first, and the
posts that reach a member read cell by cell (``newest_nearby``).

Who sees a post is decided in ``posts.audience`` (the one rule); this module only reads
it efficiently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import util as sql_util

from peuplade import geo, privacy, search
from peuplade.extensions import db
from peuplade.models import RADIUS_MAX_M, Member, Place, Post, utcnow
from peuplade.models.base import UTCDateTime
from peuplade.pagination import Prepared, TimeCursor
from peuplade.posts import audience


def listed(post_cls: type[Post] = Post, now: datetime | None = None):
    """SQL: still on the lists (open, not expired, not hidden by the moderation)."""
    now = now or utcnow()
    return and_(
        post_cls.status == "open",
        or_(post_cls.expires_at.is_(None), post_cls.expires_at > now),
        post_cls.hidden_at.is_(None),
    )


def older_than(after: TimeCursor | tuple[Any, Any]):
    """SQL: posts that come after ``after`` newest first (keyset: date, then id).

    ``after`` is a cursor, or its (created_at, id) as SQL expressions: the bound
    parameters of a statement built once (``newest_nearby``)."""
    created_at, post_id = (after.created_at, after.id) if isinstance(after, TimeCursor) else after
    return or_(
        Post.created_at < created_at,
        and_(Post.created_at == created_at, Post.id < post_id),
    )


def newest_first(stmt: Select, after: TimeCursor | None) -> Select:
    """Order newest first and start after ``after`` (keyset, never OFFSET).

    Always on the ``posts`` columns (not a subtype's own ``id``), which the
    (created_at, id) index covers.
    """
    if after is not None:
        stmt = stmt.where(older_than(after))
    return stmt.order_by(Post.created_at.desc(), Post.id.desc())


# The most rows a newest-first list near a member reads by default (pages pass their
# own size; the map passes its own limit).
LIST_MAX = 200

# The walk's own parameters (callers' conditions name theirs otherwise).
_OWN_PARAMS = frozenset(
    {
        "viewer_id", "home_lat", "home_lon", "radius", "now", "limit", "bound_offset",
        "after_created_at", "after_id", "quartier_id", "outer_cells", "inside_cells",
        "edge_cells", "outer_far_cells", "inside_far_cells", "edge_far_cells",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Searched:
    """A walk's condition: the post's title or text hold the words searched
    (``search.text_matches``); one shape per number of words (``searched``)."""

    post_cls: type
    title: str
    text: str
    words: int

    def __call__(self):
        title, text = getattr(self.post_cls, self.title), getattr(self.post_cls, self.text)
        return search.text_matches.bound(title, text, self.words)


def searched(post_cls, title: str, text: str, query: str) -> tuple[Searched, dict[str, str]]:
    """The condition and parameters of a search in ``newest_nearby``."""
    values = search.bound_values(query)
    return Searched(post_cls, title, text, len(values) - 1), values


def viewer_id():
    """SQL: the viewer's id in a walk (``newest_nearby`` gives its value), for callers'
    conditions such as "not my own posts"."""
    return bindparam("viewer_id", type_=Integer)


def page_limit(dialect: str, name: str = "limit"):
    """SQL: a walk's ``LIMIT :limit`` (the parameter ``name``). Written into the
    statement's text on SQLite: since 3.47 SQLite reads a bound LIMIT's value when
    planning, so a statement whose LIMIT is a parameter is prepared again at every
    execution, ~1 ms for a walk (its fixed cost, measured in docs/SCALING.md). The
    values are few (page sizes), each one statement text kept by the driver's cache.
    PostgreSQL keeps it a parameter (generic plans)."""
    return bindparam(name, type_=Integer, literal_execute=dialect == "sqlite")


def _cell_values(home: geo.LatLon, radius: int, dialect: str) -> tuple[str, dict[str, Any]]:
    """The walk's cells around ``home`` as parameter values, by role: central cells
    partly outside the circle (``outer_cells``), wholly inside it (``inside_cells``),
    and edge cells (``edge_cells``), each one parameter (``geo.cell_keys``). Every
    group is there, empty when the circle has none of its cells: which groups a circle
    holds changes from home to home, the statement does not. A group left out made a
    shape per combination, dozens per list, each kept by every worker (the statement,
    its compiled SQL, the driver's parse: ~0.4 MiB, docs/SCALING.md); an empty group's
    walk reads nothing. The cells are kept by ``geo.feed_cells_around``; grouping and
    encoding them costs a few microseconds, not worth a second cache."""
    cells = geo.feed_cells_around(home, radius)
    roles = {
        "outer": [k for k in cells.central if k not in cells.inside],
        "inside": [k for k in cells.central if k in cells.inside],
        "edge": list(cells.edge),
    }
    groups = {}
    for role, keys in roles.items():
        # Cells beyond geo.FAR_CELL_M apart (``<role>_far_cells``): only the posts
        # reaching farther than that can reach the home from there.
        groups[f"{role}_cells"] = [k for k in keys if k not in cells.far]
        groups[f"{role}_far_cells"] = [k for k in keys if k in cells.far]
    return cells.level, {name: geo.cell_keys_value(keys, dialect) for name, keys in groups.items()}


def newest_nearby(
    viewer: Member,
    post_cls=Post,
    *conditions: Callable[[], Any],
    limit: int,
    after: TimeCursor | None = None,
    radius_m: int | None = None,
    with_quartier: bool = False,
    load=None,
    options: tuple = (),
    params: Mapping[str, Any] | None = None,
    rows: Callable[[Any], Select] | None = None,
) -> Prepared:
    """SQL: at most ``limit`` posts on the lists (``listed``) that reach the viewer
    (``audience.reaches``; with ``with_quartier``, also ``audience.addressed_to`` the
    viewer's quartier), matching ``conditions``, newest first, after ``after``.

    The same rows as filtering every post of the circle and sorting them all, but read
    cell by cell from the partial index on (cell, created_at, id), newest first:

    1. in each central cell (mostly inside the circle, ``geo.feed_cells_around``) within
       ``geo.FAR_CELL_M``, its newest ``limit`` matching posts;
    2. the ``limit``-th newest of those is a bound: no older post can make the page. In
       each edge cell (mostly outside the circle, where most posts are too far) and
       each cell beyond ``geo.FAR_CELL_M`` (where only the posts reaching farther
       can reach the home), its newest ``limit`` matching posts no older than that
       bound;
    3. the newest ``limit`` of all.

    The cost follows the number of cells and the page size, not the number of posts in
    the circle, and a deep page (``after``) costs what the first does (docs/SCALING.md).
    ``load``: what the rows are loaded as (e.g. a ``with_polymorphic`` of ``post_cls``),
    when it is not ``post_cls`` itself; ``options``: loader options of the rows.
    ``rows``: instead of objects, plain rows: a function given the page's ``(id,
    created_at)`` sub-query (newest first) and the walk's limit (``page_limit``) that
    makes the final SELECT from them (ordered newest first, limited by it), e.g.
    exactly a card's columns (``timeline.queries.cards``).

    The statement is built once per shape and kept (building it and its cache key cost
    more than running it): every value is a bound parameter, given with the statement
    (``pagination.Prepared``). So ``conditions`` are functions making SQL with named
    ``bindparam`` (``viewer_id()`` for the viewer's id), called once per shape, whose
    values are in ``params``; they and ``options`` must be the same objects from call
    to call (module-level), as they are part of the shape."""
    home = geo.from_element(viewer.home)
    radius = audience.radius_of(viewer, radius_m)
    dialect = db.engine.dialect.name
    level, cells = _cell_values(home, radius, dialect)
    quartier = with_quartier and viewer.quartier_id is not None
    shape = (
        dialect, post_cls, load, level, after is not None, quartier,
        conditions, options, rows,
    )  # fmt: skip
    stmt = _walk(*shape)  # built once per shape, then kept
    values = {
        "viewer_id": viewer.id,
        "home_lat": home.lat,
        "home_lon": home.lon,
        "radius": radius,
        "now": utcnow(),
        "limit": limit,
        "bound_offset": limit - 1,
        **cells,
    }
    if after is not None:
        values["after_created_at"], values["after_id"] = after.created_at, after.id
    if quartier:
        values["quartier_id"] = viewer.quartier_id
    if params:
        if _OWN_PARAMS & params.keys():
            raise ValueError(f"a condition's parameter has a walk's name: {params.keys()}")
        values.update(params)
    return Prepared(stmt, values)


def _open_and_shown(post_cls) -> list:
    """SQL: what every post of a walk needs, written as the partial indexes have it:
    listed (open, not hidden, not expired at the parameter ``now``) and no block either
    way with the viewer (``viewer_id()``)."""
    never = literal(datetime(9999, 12, 31, tzinfo=UTC), UTCDateTime())
    return [
        # As written in the partial index's predicate (a bound parameter would keep
        # PostgreSQL's generic plans and SQLite from using it).
        post_cls.status == literal("open", literal_execute=True),
        post_cls.hidden_at.is_(None),
        # Not "expires_at IS NULL OR expires_at > now": the planner would AND a bitmap of
        # every post not yet expired in the city with each cell's, instead of reading
        # the cell's newest rows in index order and stopping at the page.
        func.coalesce(post_cls.expires_at, never) > bindparam("now", type_=UTCDateTime()),
        # The rest of audience.shown_with (hidden_at is above, as the index has it).
        audience.no_block(viewer_id(), post_cls.author_id),
    ]


def _by_key_on_sqlite(keys, ids: Select) -> Select:
    """SQL (SQLite): the (id, created_at) of the posts whose ids ``ids`` gives for each
    key of ``keys`` (``geo.cell_key_rows``), ``ids`` correlated to the key: a correlated
    IN per key, as SQLite has no LATERAL, in one statement shape whatever the number of
    cells (compiled once); each cell read from its own index."""
    row = aliased(Post)
    return (
        select(row.id.label("id"), row.created_at.label("created_at"))
        .select_from(keys)
        .join(row, row.id.in_(ids.correlate(keys)))
    )


def _newest(every, limit, rows, load, options: tuple = ()) -> Select:
    """The final SELECT of a walk: the ``limit`` newest of ``every``'s (id, created_at)
    first, then only they joined to their rows: plain rows (``rows(found, limit)``) or
    ``load``'s objects with ``options``."""
    found = (
        select(every.c.id, every.c.created_at)
        .order_by(every.c.created_at.desc(), every.c.id.desc())
        .limit(limit)
        .subquery()
    )
    if rows is not None:
        return rows(found, limit)
    return (
        select(load)
        .join(found, load.id == found.c.id)
        .order_by(found.c.created_at.desc(), found.c.id.desc())
        .limit(limit)
        .options(*options)
    )


# Shapes are few (lists x filters x optional parts); the bound keeps a caller that
# passed new condition objects on every call from growing it without end.
@lru_cache(maxsize=1024)
def _walk(
    dialect: str,
    post_cls,
    load,
    level: str,
    has_after: bool,
    with_quartier: bool,
    conditions: tuple[Callable[[], Any], ...],
    options: tuple,
    rows: Callable[[Any], Select] | None = None,
) -> Select:
    """The statement of one shape of ``newest_nearby``, every value a parameter."""
    cell = post_cls.cell_fine if level == "fine" else post_cls.cell_coarse
    here = geo.point(bindparam("home_lat", type_=Float), bindparam("home_lon", type_=Float))
    radius = bindparam("radius", type_=Integer)
    limit = page_limit(dialect)
    shared = [*_open_and_shown(post_cls), *(make() for make in conditions)]
    if post_cls is not Post:
        identity = post_cls.__mapper__.polymorphic_identity
        # One type's lists read that type's rows only, from the (type, cell, ...) index
        # (a joined subtype is not filtered on ``type`` by the ORM itself).
        shared.append(Post.type == literal(identity, literal_execute=True))
    if has_after:
        after = (
            bindparam("after_created_at", type_=UTCDateTime()),
            bindparam("after_id", type_=Integer),
        )
        shared.append(older_than(after))
    by_distance = (post_cls.quartier_id.is_(None), audience.within_reach(here, post_cls, radius))
    # In a cell wholly inside the circle, a post reaching at least the radius needs no
    # distance at all (most of them: authors' reach is their own radius).
    by_reach = (
        post_cls.quartier_id.is_(None),
        or_(
            post_cls.reach_m >= radius,
            geo.distance_m(post_cls.position, here) <= post_cls.reach_m,
        ),
    )

    def newest(*where) -> Select:
        # On the posts columns, which the index holds (a subtype's own id is not); the
        # subtype's table joined only when a condition reads it (a kind, a category):
        # otherwise every row read in a cell would be looked up there for nothing.
        conditions = (*where, *shared)
        reads_subtype = post_cls is not Post and any(
            post_cls.__table__ in sql_util.find_tables(c, check_columns=True) for c in conditions
        )
        return (
            select(Post.id.label("id"), Post.created_at.label("created_at"))
            .select_from(post_cls if reads_subtype else Post)
            .where(*conditions)
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(limit)
        )

    # As written in the far cells' partial indexes (models/post.py, ix_posts_far_*).
    reaches_far = post_cls.reach_m > literal(geo.FAR_CELL_M, literal_execute=True)

    def per_cell(group: str, *where, near) -> list[Select]:
        keys, key = geo.cell_key_rows(geo.cell_keys(dialect, group), dialect)
        if dialect == "postgresql":
            # One sub-query planned once, run for each cell (LATERAL over the keys).
            found = newest(cell == key, *near, *where).lateral()
            return [select(found.c.id, found.c.created_at).select_from(keys).join(found, true())]
        # SQLite has no LATERAL: a correlated IN (... LIMIT) per key does the same.
        ids = newest(cell == key, *near, *where).with_only_columns(Post.id)
        return [_by_key_on_sqlite(keys, ids)]

    # Cells within geo.FAR_CELL_M first: every post they hold reaches that far.
    first = per_cell("outer_cells", near=by_distance) + per_cell("inside_cells", near=by_reach)
    if with_quartier:
        by_quartier = post_cls.quartier_id == bindparam("quartier_id", type_=Integer)
        first.append(select(newest(by_quartier).subquery()))
    # Read once, used twice (SQLite would otherwise run it again for the bound).
    central = union_all(*first).cte("central").prefix_with("MATERIALIZED")
    bound = (
        select(central.c.created_at)
        .order_by(central.c.created_at.desc(), central.c.id.desc())
        .offset(bindparam("bound_offset", type_=Integer))
        .limit(literal(1, Integer, literal_execute=True))
        .scalar_subquery()
    )
    no_bound = literal(datetime(1, 1, 2, tzinfo=UTC), UTCDateTime())
    newer = post_cls.created_at >= func.coalesce(bound, no_bound)
    # Then the cells where most posts do not reach the home, each read down to the bound
    # only: the edge cells, and the cells beyond geo.FAR_CELL_M. There only the posts
    # that reach far count (their partial indexes), of which few reach this far; read
    # without a bound, a cell with fewer than ``limit`` of them was read to its oldest
    # post, a walk growing with the city's density (docs/SCALING.md, sixth round).
    rest = [
        *per_cell("edge_cells", newer, near=by_distance),
        *per_cell("outer_far_cells", reaches_far, newer, near=by_distance),
        *per_cell("inside_far_cells", reaches_far, newer, near=by_reach),
        *per_cell("edge_far_cells", reaches_far, newer, near=by_distance),
    ]
    every = union_all(select(central), *rest).subquery()
    # The page's ids first: only they are joined to their rows, subtypes and authors.
    return _newest(every, limit, rows, post_cls if load is None else load, options)


def recent_nearby(
    viewer: Member,
    post_cls,
    *conditions: Callable[[], Any],
    since: datetime,
    limit: int,
    with_quartier: bool = False,
    rows: Callable[[Any, Any], Select] | None = None,
) -> Prepared:
    """SQL: the posts ``newest_nearby`` would list first (no cursor) when only those
    created ``since`` count and ``conditions`` pick few of them (the alerts of the last
    48 hours): every such post of the circle's cells, read at once from the
    conditions' partial index on (type, cell, ..., created_at), then measured and
    sorted. No walk cell by cell: its work per cell (a sub-query, a limit, a bound)
    costs more than the handful of rows a short window holds, and the window bounds
    the rows read whatever the city's size. ``post_cls`` is one post type (its index
    starts with the type); ``with_quartier`` and ``rows`` as for ``newest_nearby``;
    ``conditions`` too, without parameters of their own (only the viewer's, through
    ``viewer_id()``). The page's size is the parameter ``recent_limit``, so that the
    statement can sit beside a walk's (``timeline.queries.first_page``)."""
    home = geo.from_element(viewer.home)
    radius = audience.radius_of(viewer)
    dialect = db.engine.dialect.name
    cells = geo.feed_cells_around(home, radius)
    quartier = with_quartier and viewer.quartier_id is not None
    stmt = _recent(dialect, post_cls, cells.level, quartier, conditions, rows)
    values = {
        "viewer_id": viewer.id,
        "home_lat": home.lat,
        "home_lon": home.lon,
        "radius": radius,
        "now": utcnow(),
        "since": since,
        "recent_limit": limit,
        "recent_cells": geo.cell_keys_value([*cells.central, *cells.edge], dialect),
    }
    if quartier:
        values["quartier_id"] = viewer.quartier_id
    return Prepared(stmt, values)


@lru_cache(maxsize=64)
def _recent(
    dialect: str,
    post_cls,
    level: str,
    with_quartier: bool,
    conditions: tuple[Callable[[], Any], ...],
    rows: Callable[[Any, Any], Select] | None,
) -> Select:
    """The statement of one shape of ``recent_nearby``, every value a parameter."""
    cell = post_cls.cell_fine if level == "fine" else post_cls.cell_coarse
    here = geo.point(bindparam("home_lat", type_=Float), bindparam("home_lon", type_=Float))
    shared = [
        # The index's leading column, then its predicate as written there.
        Post.type == literal(post_cls.__mapper__.polymorphic_identity, literal_execute=True),
        *_open_and_shown(post_cls),
        *(make() for make in conditions),
        post_cls.created_at >= bindparam("since", type_=UTCDateTime()),
    ]
    reads_subtype = any(
        post_cls.__table__ in sql_util.find_tables(c, check_columns=True) for c in shared
    )

    def matching(*where) -> Select:
        return (
            select(Post.id.label("id"), Post.created_at.label("created_at"))
            .select_from(post_cls if reads_subtype else Post)
            .where(*where, *shared)
        )

    by_distance = (
        post_cls.quartier_id.is_(None),
        audience.within_reach(here, post_cls, bindparam("radius", type_=Integer)),
    )
    keys = geo.cell_keys(dialect, "recent_cells")
    if dialect == "postgresql":
        # One index scan, the cells as its keys (``cell = ANY``).
        parts = [matching(geo.in_cells(cell, keys, dialect), *by_distance)]
    else:
        # SQLite, given the keys as a sub-query, may read another index of the posts
        # (their quartier's, by date) and test each row against the keys: a correlated
        # IN per key reads each cell from the alerts' index, as the walk does.
        rows_of_keys, key = geo.cell_key_rows(keys, dialect)
        ids = matching(cell == key, *by_distance).with_only_columns(Post.id)
        parts = [_by_key_on_sqlite(rows_of_keys, ids)]
    if with_quartier:
        parts.append(matching(post_cls.quartier_id == bindparam("quartier_id", type_=Integer)))
    every = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return _newest(every, page_limit(dialect, "recent_limit"), rows, post_cls)


def cursor_after(post: Post) -> str:
    return TimeCursor(post.created_at, post.id).encode()


def distance_band(viewer: Member, post: Post) -> str | None:
    """Band between the viewer's public position and the post's public position."""
    return privacy.band_between(geo.point_of(viewer.public_position), geo.point_of(post.position))


# --- public places, searched as the author types ---------------------------------------

PLACES_FOUND_MAX = 12
PLACE_QUERY_MAX = 80


def places_matching(member: Member, query: str, limit: int = PLACES_FOUND_MAX) -> list:
    """Public places within ``RADIUS_MAX_M`` of the member's PUBLIC position whose name,
    or name as people say it (``Place.label``), holds every word typed (case and accents
    ignored), nearest that public position first: never measured from the home, so the
    order teaches nothing the profile does not already show. Each is (place, distance
    band). An empty query gives the nearest."""
    here = geo.from_element(member.public_position)
    typed = [search.fold(w) for w in search.words(query[:PLACE_QUERY_MAX])]
    stmt = (
        select(Place)
        .where(geo.within_radius(Place.position, here, RADIUS_MAX_M))
        .order_by(geo.distance_m(Place.position, geo.point(here.lat, here.lon)), Place.id)
    )
    found = []
    for place in db.session.scalars(stmt):
        haystack = search.fold(f"{place.name} {place.label}") or ""
        if all(word in haystack for word in typed):
            distance = geo.geodesic_distance_m(here, geo.from_element(place.position))
            found.append((place, privacy.distance_band(distance)))
            if len(found) >= limit:
                break
    return found


# What posts.services.set_sharing makes: URL-safe base64 of 16 bytes.
SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def shared(token: str) -> Post | None:
    """The post behind a shared link (``/p/<token>``), while it is still on the lists
    (open, not expired, not hidden by the moderation) and shareable; else None."""
    if not SHARE_TOKEN.fullmatch(token or ""):  # never a NUL or a long string for SQL
        return None
    return db.session.scalar(select(Post).where(Post.share_token == token, listed()))
