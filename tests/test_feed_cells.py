"""Reading cell by cell (``posts.newest_nearby``) gives exactly the rows of the obvious
query — every post of the circle, filtered and sorted — page after page, on both
backends: small and large radii (fine and coarse cells), posts that reach less far than
the reader's radius, closed, hidden and expired posts, and many posts created at the
same instant (the keyset's ties)."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from peuplade import geo
from peuplade.exchanges import queries
from peuplade.extensions import db
from peuplade.models import Exchange, Post, utcnow
from peuplade.pagination import TimeCursor
from peuplade.posts import audience
from peuplade.posts import queries as posts
from tests.conftest import BATIGNOLLES

CENTRE = geo.lat_lon(*BATIGNOLLES)


def _around(rnd: random.Random, metres: float) -> geo.LatLon:
    """A point at most ``metres`` from the centre, denser near it."""
    distance, bearing = metres * rnd.random() ** 2, rnd.random() * 2 * math.pi
    return geo.lat_lon(
        CENTRE.lat + distance * math.cos(bearing) / 111_132,
        CENTRE.lon + distance * math.sin(bearing) / (111_320 * math.cos(math.radians(48.88))),
    )


def _city(author_ids: list[int], n: int, seed: int) -> None:
    rnd = random.Random(seed)
    now = utcnow()
    instants = [now - timedelta(minutes=rnd.randint(0, 60 * 24 * 90)) for _ in range(n // 4)]
    rows = []
    for _ in range(n):
        spot = _around(rnd, 6500)
        status = rnd.choices(["open", "done", "cancelled"], [70, 20, 10])[0]
        expires = rnd.choice([None, None, now - timedelta(days=1), now + timedelta(days=9)])
        rows.append(
            {
                "type": "exchange",
                "author_id": rnd.choice(author_ids),
                "position": geo.to_element(spot),
                "cell_fine": geo.feed_cell(spot, "fine"),
                "cell_coarse": geo.feed_cell(spot, "coarse"),
                "reach_m": rnd.choice([200, 500, 1000, 1000, 2000, 5000]),
                "status": status,
                "expires_at": expires,
                "hidden_at": now if rnd.random() < 0.03 else None,
                # Several posts per instant: the order between them is the id's.
                "created_at": rnd.choice(instants),
                "updated_at": now,
            }
        )
    _insert_exchanges(
        rows,
        lambda: {
            "kind": rnd.choice(["request", "offer"]),
            "category": rnd.choice(["autre", "bricolage"]),
        },
    )


def _insert_exchanges(rows: list[dict], exchange) -> list[int]:
    """Insert ``rows`` of ``posts`` in bulk as exchanges, each with ``exchange()``'s kind
    and category (called once per post, in order); their ids."""
    ids = db.session.scalars(insert(Post).returning(Post.id), rows).all()
    db.session.execute(
        insert(Exchange.__table__),
        [{"id": i, "title": f"Annonce {i}", "body": "Texte", **exchange()} for i in ids],
    )
    db.session.commit()
    return ids


def _obvious(viewer, *conditions) -> list[int]:
    stmt = select(Exchange.id).where(
        audience.reaches(viewer, Exchange), posts.listed(Exchange), *conditions
    )
    return list(db.session.scalars(posts.newest_first(stmt, None)))


def _walked(viewer, page: int, **filters) -> list[int]:
    """Every page of ``near_me``, followed through its cursors."""
    seen: list[int] = []
    after = None
    while True:
        rows = list(
            queries.near_me(viewer, after=after, limit=page + 1, **filters).run(db.session.scalars)
        )
        seen += [e.id for e in rows[:page]]
        if len(rows) <= page:
            return seen
        after = TimeCursor.decode(posts.cursor_after(rows[page - 1]))


@pytest.mark.parametrize("radius_m", [200, 1000, 1500, 2000, 5000])
def test_cell_by_cell_gives_the_rows_of_the_obvious_query(app, make_member, radius_m):
    authors = [make_member(f"Auteur {i}", at=(48.87 + i * 0.004, 2.31)).id for i in range(6)]
    _city(authors, 2000, seed=radius_m)
    viewer = make_member("Lectrice", at=BATIGNOLLES, radius_m=radius_m)
    expected = _obvious(viewer)
    assert len(expected) >= (20 if radius_m < 1000 else 100)  # the test has something to find
    assert _walked(viewer, page=7) == expected
    assert _walked(viewer, page=20) == expected
    requests = _obvious(viewer, Exchange.kind == "request")
    assert _walked(viewer, page=5, kind="request") == requests


def test_a_blocked_reader_and_a_narrowed_radius_give_the_same_rows_too(app, make_member):
    from peuplade.moderation import services as moderation

    authors = [make_member(f"Auteur {i}", at=(48.87 + i * 0.004, 2.31)) for i in range(6)]
    _city([a.id for a in authors], 800, seed=7)
    viewer = make_member("Lectrice", at=BATIGNOLLES, radius_m=2000)
    moderation.block(authors[0], viewer.id)  # blocks apply both ways
    moderation.block(viewer, authors[1].id)
    db.session.commit()
    expected = _obvious(viewer)
    blocked = (authors[0].id, authors[1].id)
    assert expected and not set(expected) & {
        p.id for p in db.session.scalars(select(Post).where(Post.author_id.in_(blocked)))
    }
    assert _walked(viewer, page=9) == expected
    narrowed = list(
        db.session.scalars(
            posts.newest_first(
                select(Exchange.id).where(
                    audience.reaches(viewer, Exchange, radius_m=500), posts.listed(Exchange)
                ),
                None,
            )
        )
    )
    walked = list(
        posts.newest_nearby(viewer, Exchange, limit=500, radius_m=500).run(db.session.scalars)
    )
    assert [e.id for e in walked] == narrowed


def test_the_timeline_with_quartier_news_gives_the_rows_of_the_obvious_query(
    app, make_member, make_quartier
):
    """Every type mixed, news addressed to the reader's whole quartier wherever they
    were posted, the reader's own posts left out."""
    from sqlalchemy.orm import with_polymorphic

    from peuplade.models import NewsPost
    from peuplade.timeline import queries as timelines

    authors = [make_member(f"Auteur {i}", at=(48.87 + i * 0.004, 2.31)) for i in range(6)]
    _city([a.id for a in authors], 900, seed=11)
    quartier = make_quartier()
    viewer = make_member("Lectrice", at=BATIGNOLLES, radius_m=1000)
    viewer.quartier_id = quartier.id
    rnd = random.Random(5)
    now = utcnow()
    for n in range(40):  # far away, but for the whole quartier (or for another one)
        spot = _around(rnd, 6000)
        news = NewsPost(
            author_id=authors[n % 6].id,
            position=geo.to_element(spot),
            reach_m=1000,
            status="open",
            quartier_id=quartier.id if n % 3 else None,
            kind="info",
            title=f"Info {n}",
            body="Texte",
        )
        db.session.add(news)
        db.session.flush()
        news.created_at = now - timedelta(minutes=rnd.randint(0, 60 * 24 * 90))
    mine = NewsPost(
        author_id=viewer.id,
        position=geo.to_element(CENTRE),
        reach_m=1000,
        status="open",
        kind="info",
        title="La mienne",
        body="Texte",
    )
    db.session.add(mine)
    db.session.commit()

    every = with_polymorphic(Post, list(timelines.TYPES.values()))
    obvious = list(
        db.session.scalars(
            posts.newest_first(
                select(every.id).where(
                    audience.reaches_or_quartier(viewer, every),
                    posts.listed(every),
                    every.author_id != viewer.id,
                ),
                None,
            )
        )
    )
    assert len(obvious) > 60 and mine.id not in obvious
    assert sum(1 for i in obvious if db.session.get(Post, i).quartier_id) >= 10
    walked, after = [], None
    while True:
        rows = list(timelines.timeline(viewer, after=after, limit=12).run(db.session.scalars))
        walked += [p.id for p in rows[:11]]
        if len(rows) <= 11:
            break
        after = TimeCursor.decode(posts.cursor_after(rows[10]))
    assert walked == obvious


# --- cells far from home (geo.FAR_CELL_M): only the posts reaching farther -------------------


def _cell_box(key: int, level: str) -> tuple[float, float, float, float]:
    """(south, west, north, east) of a feed cell, from its key (geo.feed_cell)."""
    row = key // geo._ROW_FACTOR - geo._ROW_OFFSET
    col = key % geo._ROW_FACTOR - geo._COL_OFFSET
    step, width = geo.FEED_CELL_LAT_DEG[level], geo._cell_lon_deg(level, row)
    return row * step, col * width, (row + 1) * step, (col + 1) * width


@pytest.mark.parametrize("lat, lon", [(0.0, 10.0), (48.88, 2.32), (60.0, 25.0), (-45.0, 170.0)])
@pytest.mark.parametrize("radius", [1100, 1600, 3000, 5000])
def test_every_point_of_a_far_cell_is_farther_than_far_cell_m(lat, lon, radius):
    """A far cell's posts are read only if they reach farther than FAR_CELL_M: every
    point of the cell must be farther than that from the home, by the geodesic (the
    cells are chosen by a flat approximation, with a margin)."""
    centre = geo.lat_lon(lat, lon)
    cells = geo.feed_cells_around(centre, radius)
    for key in cells.far:
        south, west, north, east = _cell_box(key, cells.level)
        assert (
            geo.feed_cell(geo.lat_lon((south + north) / 2, (west + east) / 2), cells.level) == key
        )
        for i in range(81):  # the nearest point of a box lies on its outline
            f = i / 80
            for point in (
                (south, west + f * (east - west)), (north, west + f * (east - west)),
                (south + f * (north - south), west), (south + f * (north - south), east),
            ):  # fmt: skip
                assert geo.geodesic_distance_m(centre, geo.LatLon(*point)) > geo.FAR_CELL_M
    if radius >= 1600:
        assert cells.far, "the test has far cells to check"
        nearer = set(cells.central + cells.edge) - cells.far
        assert nearer, "and near ones"


def test_posts_just_within_their_reach_around_the_far_bound_are_found(app, make_member):
    """Posts reaching 1 km, 990-999 m from a wide neighbourhood's home all around it:
    the cells holding them must not be read as far (where only posts reaching farther
    than geo.FAR_CELL_M are)."""
    from geopy.distance import geodesic

    author = make_member("Auteur", at=(48.87, 2.31))
    viewer = make_member("Lectrice", at=BATIGNOLLES, radius_m=5000)
    home = geo.from_element(viewer.home)
    now = utcnow()
    rows = []
    for i in range(48):
        there = geodesic(meters=990 + i % 10).destination((home.lat, home.lon), i * 7.5)
        spot = geo.lat_lon(there.latitude, there.longitude)
        rows.append(
            {
                "type": "exchange",
                "author_id": author.id,
                "position": geo.to_element(spot),
                "cell_fine": geo.feed_cell(spot, "fine"),
                "cell_coarse": geo.feed_cell(spot, "coarse"),
                "reach_m": 1000,
                "status": "open",
                "created_at": now - timedelta(minutes=i),
                "updated_at": now,
            }
        )
    ids = _insert_exchanges(rows, lambda: {"kind": "offer", "category": "autre"})
    expected = _obvious(viewer)
    assert sorted(expected) == sorted(ids)
    assert _walked(viewer, page=20) == expected


def test_the_far_indexes_state_the_walk_s_bound():
    """SQLite uses a partial index only when the query states its predicate: the
    migration's text must be the model's (and the walk's geo.FAR_CELL_M)."""
    import importlib.util
    from pathlib import Path

    from peuplade.models.post import OPEN_SHOWN_AND_FAR

    root = Path(__file__).resolve().parent.parent
    path = next((root / "migrations" / "versions").glob("*_a4f7c2e9d1b8_*.py"))
    spec = importlib.util.spec_from_file_location("far_cells_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert OPEN_SHOWN_AND_FAR.text == migration.OPEN_SHOWN_AND_FAR
    assert OPEN_SHOWN_AND_FAR.text.endswith(f"AND reach_m > {geo.FAR_CELL_M}")


def test_a_walk_s_limits_are_in_its_text_on_sqlite_and_parameters_on_postgresql(app, make_member):
    """SQLite (3.47+) plans with a bound LIMIT's value, so it prepares a statement whose
    LIMIT is a parameter again at every run (~1 ms a walk): there, the timeline's walk and
    the pinned alerts' statement write their limits into the SQL. PostgreSQL keeps them
    parameters (one generic plan for every page size)."""
    import re

    from sqlalchemy import event

    from peuplade.timeline import queries as timeline

    viewer = make_member("Lectrice", at=BATIGNOLLES)
    make_member("Voisin", at=(BATIGNOLLES[0] + 0.001, BATIGNOLLES[1]))
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_rest):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        timeline.cards(viewer, limit=21).run(db.session.execute).all()
        timeline.alert_cards(viewer)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    walks = [s for s in seen if "central" in s]
    alerts = [s for s in seen if "central" not in s and "is_alert" in s]
    assert len(walks) == 1 and len(alerts) == 1, seen
    for sql, least, name in ((walks[0], 3, "limit"), (alerts[0], 2, "recent_limit")):
        limits = re.findall(r"LIMIT (\S+)", sql)
        # The walk: each cell group, the bound, the page; the alerts: the ids, the page.
        assert len(limits) >= least, limits
        if db.engine.dialect.name == "sqlite":
            assert all(value.rstrip(")").isdigit() for value in limits), limits
        else:
            assert any(value.startswith(f"%({name})s") for value in limits), limits


def test_every_type_chosen_is_the_walk_without_a_type_filter(app, make_member):
    """The timeline page passes its chosen types, all of them by default: that is no
    filter, the same statement as none (no ``type IN`` on each cell's rows, which SQLite
    without statistics would read through another index)."""
    from peuplade.timeline import queries as timeline

    viewer = make_member("Lectrice", at=BATIGNOLLES)
    every = timeline.cards(viewer, list(timeline.TYPES))
    assert every.statement is timeline.cards(viewer).statement
    assert "types" not in every.params
    some = timeline.cards(viewer, ["exchange", "news"])
    assert some.statement is not every.statement
    assert some.params["types"] == ["exchange", "news"]


def test_a_walk_joins_the_subtype_s_table_only_for_a_condition_on_it(app, make_member):
    """Each row a cell's walk reads is looked up in ``exchanges`` only when a condition
    reads that table (a kind, a category): the plain list reads ``posts`` alone, and
    only its page's rows are joined to their exchange (the cards' columns)."""
    viewer = make_member("Lectrice", at=BATIGNOLLES)

    def joins(prepared) -> int:
        sql = str(prepared.statement.compile(dialect=db.engine.dialect))
        return sql.count("JOIN exchanges ON")

    assert joins(queries.near_me(viewer, rows=queries.card_columns)) == 1
    walks = joins(queries.near_me(viewer, kind="request", rows=queries.card_columns))
    assert walks > 2  # each cell group's walk, then the page's rows


@pytest.mark.postgis_only
def test_psycopg_keeps_the_parse_of_a_walk_s_long_text(app, make_member):
    """A walk's text is 5-10 KB with dozens of parameters, over psycopg's default bounds
    for keeping a query's parse: raised by the app (database.keep_long_statements_parsed),
    the second run of the same walk finds its parse kept."""
    from psycopg import _queries

    from peuplade.timeline import queries as timeline

    viewer = make_member("Lectrice", at=BATIGNOLLES)
    prepared = timeline.cards(viewer, limit=21)
    sql = str(prepared.statement.compile(dialect=db.engine.dialect))
    assert len(sql) > 4096  # what psycopg would not keep by default
    prepared.run(db.session.execute).all()
    before = _queries._query2pg.cache_info()
    prepared.run(db.session.execute).all()
    after = _queries._query2pg.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses


def test_one_walk_statement_whatever_cells_a_circle_holds(app, make_member):
    """Which cell groups a circle holds (cells wholly inside it, cells beyond
    geo.FAR_CELL_M) changes from home to home and radius to radius; the statement does
    not: a group the circle lacks is an empty parameter. Kept per shape by every worker
    (~0.4 MiB each, docs/SCALING.md), a shape per combination of groups made dozens."""
    import json

    from peuplade.timeline import queries as timeline

    def empty_groups(prepared) -> set[str]:
        def keys(value):
            return json.loads(value) if isinstance(value, str) else value

        return {k for k, v in prepared.params.items() if k.endswith("cells") and not keys(v)}

    small = timeline.cards(make_member("Petit rayon", at=BATIGNOLLES, radius_m=300))
    large = timeline.cards(make_member("Grand rayon", at=BATIGNOLLES, radius_m=1500))

    assert "inside_far_cells" in empty_groups(small)  # nothing 1 km away within 300 m
    assert empty_groups(small) != empty_groups(large)
    assert small.statement is large.statement


@pytest.mark.parametrize("lat, lon", [(48.88, 2.32), (0.3, 10.0), (60.0, 25.0)])
def test_each_cells_share_is_its_samples_inside_the_circle(lat, lon):
    """The cells' split (central or edge, inside, far) is what sampling every cell gives:
    the shortcuts for cells wholly in or out of the circle change no share."""
    rnd = random.Random(f"{lat},{lon}")
    for _ in range(40):
        centre = geo.lat_lon(lat + rnd.uniform(-0.01, 0.01), lon + rnd.uniform(-0.01, 0.01))
        radius = rnd.choice([150, 500, 1000, 1500, 3000]) + rnd.uniform(0, 80)
        cells = geo.feed_cells_around.__wrapped__(centre, radius)
        y_m, x_m = 110_574.0, 111_320.0 * math.cos(math.radians(centre.lat))
        n = geo._SAMPLES
        shares = {}
        for key in cells.central + cells.edge:
            south, west, north, east = _cell_box(key, cells.level)
            shares[key] = sum(
                ((west + (i + 0.5) / n * (east - west) - centre.lon) * x_m) ** 2
                + ((south + (j + 0.5) / n * (north - south) - centre.lat) * y_m) ** 2
                <= radius * radius
                for i in range(n)
                for j in range(n)
            ) / (n * n)
        central = {key for key, share in shares.items() if share >= geo.CENTRAL_SHARE}
        assert set(cells.central) == (central or {cells.central[0]})
        assert set(cells.edge) == set(shares) - set(cells.central)
        for kept in (cells.central, cells.edge):  # each by share, then key, descending
            assert list(kept) == sorted(kept, key=lambda k: (-shares[k], -k))
        assert all(shares[key] == 1.0 for key in cells.inside)
