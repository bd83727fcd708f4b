"""Members by skill, cell by cell: "neighbours with a skill", the know-how count and the
matching fan-out of a new request read the skill's rows in the cells around a point
(the (cell, skill, member_id) indexes of ``member_skills`` / ``member_tags``), and give
exactly the rows of the obvious query - every member of the circle, then the skill -
on both backends, page after page. The cells on the rows are the member's PUBLIC
cells, kept right by every path that shows a member elsewhere or changes their
skills."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from sqlalchemy import exists, insert, or_, select, text

from peuplade import geo, privacy
from peuplade.account import blur
from peuplade.account import services as account
from peuplade.account.queries import knows
from peuplade.exchanges import queries as exchange_queries
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import Block, Exchange, Member, MemberSkill, MemberTag, Post, utcnow
from peuplade.models.member import SHOWN_WITHIN_M, shown_within_m, skill_cells, sort_key
from peuplade.neighbours import queries as neighbour_queries
from peuplade.posts import audience
from tests.conftest import BATIGNOLLES

CENTRE = geo.lat_lon(*BATIGNOLLES)
SKILLS = ("bricolage", "jardinage", "informatique")
TAGS = ("vélo", "tricot", "bricolage")  # a tag may spell a category: either one counts
NAMES = ("Camille", "Élodie", "Karim", "Zoé", "anne", "Éric")


def _offset(at: geo.LatLon, metres: float, bearing: float) -> geo.LatLon:
    return geo.lat_lon(
        at.lat + metres * math.cos(bearing) / 111_132,
        at.lon + metres * math.sin(bearing) / (111_320 * math.cos(math.radians(at.lat))),
    )


def _public(rnd: random.Random, home: geo.LatLon) -> geo.LatLon:
    """Where a member living at ``home`` may be shown: the centre of one of their cells
    (any level), or - as "quartier only" - a point up to 1,400 m away (within
    ``privacy.PUBLIC_OFFSET_MAX_M`` of the home, as account/blur.py guarantees)."""
    if rnd.random() < 0.1:
        return _offset(home, 1400 * rnd.random(), rnd.random() * 2 * math.pi)
    return privacy.centre(privacy.cells(home)[rnd.choice([0, 0, 1, 2])])


def _city(n: int, seed: int, spread_m: float = 7000) -> list[int]:
    """``n`` members around the centre (denser near it), their skills and tags written
    as the bench generator writes them (bulk, cells computed alike), a few banned or
    suspended, a few blocks. Returns the ids."""
    rnd = random.Random(seed)
    now = utcnow()
    members = []
    for i in range(n):
        home = _offset(CENTRE, spread_m * rnd.random() ** 1.5, rnd.random() * 2 * math.pi)
        # Few names: many ties, broken by the id.
        name = f"{rnd.choice(NAMES)} {chr(65 + rnd.randrange(3))}."
        members.append(
            {
                "email": f"city{seed}-{i}@example.org",
                "display_name": name,
                "sort_name": sort_key(name),
                "password_hash": "x",
                "bio": "",
                "home": geo.to_element(home),
                "public_position": geo.to_element(_public(rnd, home)),
                "radius_m": rnd.choice([200, 500, 1000, 1000, 1500, 2000, 3000, 5000]),
                "session_version": 1,
                "status": rnd.choices(["active", "suspended", "banned"], [90, 5, 5])[0],
                "created_at": now,
                "updated_at": now,
            }
        )
    ids = db.session.scalars(insert(Member).returning(Member.id), members).all()
    skills, tags = [], []
    for member_id, row in zip(ids, members, strict=True):
        cells = {**skill_cells(row["public_position"]), "sort_name": row["sort_name"]}
        for skill in rnd.sample(SKILLS, rnd.choice([0, 1, 1, 2])):
            skills.append({"member_id": member_id, "skill": skill, **cells})
        for tag in rnd.sample(TAGS, rnd.choice([0, 0, 1])):
            tags.append({"member_id": member_id, "tag": tag, **cells})
    db.session.execute(insert(MemberSkill), skills)
    db.session.execute(insert(MemberTag), tags)
    pairs = {tuple(rnd.sample(ids, 2)) for _ in range(n // 20)}
    db.session.execute(
        insert(Block), [{"blocker_id": a, "blocked_id": b, "created_at": now} for a, b in pairs]
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Statistics of a city, as autovacuum keeps them after a bulk load: left as an
        # earlier test's ANALYZE saw the tables (no skill rows), PostgreSQL reads each
        # cell's skill rows by a full scan and a page takes seconds (28 s seen).
        db.session.connection().exec_driver_sql("ANALYZE")
        db.session.commit()
    return list(ids)


# --- neighbours with a skill ---------------------------------------------------------------


def _obvious_neighbours(viewer: Member, skill: str) -> list[int]:
    """Every member the viewer sees (spatial index), then the skill: the query as it
    was before the cells."""
    public = geo.from_element(viewer.public_position)
    rank = privacy.band_rank(
        geo.distance_m(Member.public_position, geo.point(public.lat, public.lon))
    )
    stmt = (
        select(Member.id)
        .where(
            audience.seen_by(viewer),
            or_(
                exists().where(MemberSkill.member_id == Member.id, MemberSkill.skill == skill),
                exists().where(MemberTag.member_id == Member.id, MemberTag.tag == skill),
            ),
        )
        .order_by(rank, Member.sort_name, Member.id)
    )
    return list(db.session.scalars(stmt))


def _paged(viewer: Member, skill: str, limit: int) -> list[int]:
    seen, cursor = [], None
    while True:
        page = neighbour_queries.neighbour_page(viewer, skill, cursor, limit=limit)
        seen += [member.id for member, _band in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("seed", [1, 2])
def test_neighbours_with_a_skill_are_the_obvious_query_s_page_after_page(app, seed):
    ids = _city(600, seed)
    rnd = random.Random(seed)
    found = 0
    for n, viewer_id in enumerate(rnd.sample(ids, 14)):
        viewer = db.session.get(Member, viewer_id)
        if n % 3 == 0:
            # A block either way: the blocked neighbour leaves both lists alike.
            nearest = _obvious_neighbours(viewer, SKILLS[0])[:1]
            for other in nearest:
                pair = (viewer.id, other) if n % 2 else (other, viewer.id)
                db.session.add(Block(blocker_id=pair[0], blocked_id=pair[1]))
                db.session.commit()
                assert other not in _obvious_neighbours(viewer, SKILLS[0])
        for skill in (*SKILLS, "vélo"):
            expected = _obvious_neighbours(viewer, skill)
            found += len(expected)
            assert _paged(viewer, skill, limit=6) == expected, (viewer.radius_m, skill)
    assert found > 300  # the test has something to compare
    # Banned members are in the city, and out of both lists.
    banned = set(db.session.scalars(select(Member.id).where(Member.status == "banned")))
    assert banned and not banned & set(_paged(viewer, SKILLS[0], limit=50))


def test_every_radius_is_compared_fine_and_coarse_cells(app):
    ids = _city(500, 3)
    viewer = db.session.get(Member, ids[0])
    for radius in (200, 700, 1500, 1600, 2500, 5000):
        viewer.radius_m = radius
        for skill in SKILLS:
            assert _paged(viewer, skill, limit=20) == _obvious_neighbours(viewer, skill)


# --- whom a request reaches, by skill --------------------------------------------------------


def _requests(author_id: int, n: int, seed: int) -> list[Exchange]:
    rnd = random.Random(seed)
    now = utcnow()
    posts = []
    for _ in range(n):
        spot = _offset(CENTRE, 5000 * rnd.random(), rnd.random() * 2 * math.pi)
        posts.append(
            {
                "type": "exchange",
                "author_id": author_id,
                "position": geo.to_element(spot),
                "cell_fine": geo.feed_cell(spot, "fine"),
                "cell_coarse": geo.feed_cell(spot, "coarse"),
                "reach_m": rnd.choice([200, 500, 1000, 1500, 2000, 5000]),
                "status": "open",
                "created_at": now - timedelta(minutes=rnd.randint(0, 999)),
                "updated_at": now,
            }
        )
    ids = db.session.scalars(insert(Post).returning(Post.id), posts).all()
    db.session.execute(
        insert(Exchange.__table__),
        [
            {
                "id": i,
                "kind": "request",
                "title": f"Demande {i}",
                "body": "Texte",
                "category": rnd.choice(SKILLS),
            }
            for i in ids
        ],
    )
    db.session.commit()
    return [db.session.get(Exchange, i) for i in ids]


def test_know_how_and_the_matching_fan_out_reach_the_obvious_query_s_members(app):
    ids = _city(700, 4)
    checked = 0
    for exchange in _requests(ids[0], 12, seed=4):
        public = (
            select(Member.id)
            .where(audience.reached_by_public(exchange), knows(exchange.category))
            .order_by(Member.id)
        )
        listed = [
            m.id
            for m, _rank in db.session.execute(exchange_queries.neighbours_who_know_how(exchange))
        ]
        assert sorted(listed) == list(db.session.scalars(public))
        assert exchange_queries.know_how_count(exchange) == len(listed)
        homes = select(Member.id).where(audience.reached_by(exchange), knows(exchange.category))
        walked = select(Member.id).where(
            audience.reached_knowing(exchange, exchange.category, from_homes=True)
        )
        expected = set(db.session.scalars(homes))
        assert set(db.session.scalars(walked)) == expected
        checked += len(expected) + len(listed)
    assert checked > 100


def test_the_fan_out_finds_the_nearest_step_by_step_as_the_obvious_query(app):
    """``nearest_knowing`` searches 200 m around a request, then 400 m... and stops
    when it has enough: the same members, in the same order, as sorting everyone the
    request reaches who knows how."""
    from sqlalchemy import event

    from peuplade.notifications import services

    ids = _city(700, 4)
    checked = searches = most = 0

    def count(*_args):
        nonlocal searches
        searches += 1

    for exchange in _requests(ids[0], 12, seed=6):
        everyone = list(
            db.session.scalars(
                select(Member.id)
                .where(audience.reached_by(exchange), knows(exchange.category))
                .order_by(audience.home_distance(exchange), Member.id)
            )
        )
        for limit in (3, 10, 40, 1000):
            assert services.nearest_knowing(exchange, limit) == everyone[:limit], limit
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert services.nearest_knowing(exchange, 1) == everyone[:1]
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        checked += len(everyone)
        most += 1 + sum(step < exchange.reach_m for step in services.MATCH_STEPS_M)
    # And the nearest one alone was found before the widest search, more than once.
    assert checked > 100 and searches <= most - 3, (searches, most)


def test_the_fan_out_tells_the_nearest_homes_as_before(app, make_member):
    from peuplade.exchanges import services as exchanges
    from peuplade.models import Notification

    _city(400, 5)
    author = make_member("Autrice", at=BATIGNOLLES, radius_m=5000)
    app.config["NOTIFY_MATCHING_MAX"] = 15
    request = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(
            kind="request", title="Monter une étagère", body="Merci", category="bricolage"
        ),
    )
    db.session.commit()
    expected = list(
        db.session.scalars(
            select(Member.id)
            .where(audience.reached_by(request), knows("bricolage"))
            .order_by(audience.home_distance(request), Member.id)
            .limit(15)
        )
    )
    told = db.session.scalars(
        select(Notification.member_id).where(Notification.kind == "matching_request")
    ).all()
    assert len(expected) == 15
    assert sorted(told) == sorted(expected)


# --- the plans ------------------------------------------------------------------------------


def _plan(stmt) -> str:
    """The plan of ``stmt``, on either backend (sequential scans priced out on
    PostgreSQL, as tests/test_geo.py does: the plan tells whether the index is usable
    whatever the planner prefers on small test tables). The plan tests' members are
    spread over a region, as a city's are: a few cells hold a small share of them."""
    conn = db.session.connection()
    if db.engine.dialect.name == "sqlite":
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled)).all()
        return "\n".join(str(r[-1]) for r in rows)
    compiled = stmt.compile(db.engine)
    conn.exec_driver_sql("ANALYZE")
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params).all()
    conn.exec_driver_sql("RESET enable_seqscan")
    return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize("radius", [1000, 3000])
def test_neighbours_with_a_skill_read_the_skill_cell_indexes(app, radius):
    ids = _city(4000, 6, spread_m=30_000)
    viewer = db.session.get(Member, ids[0])
    viewer.radius_m = radius
    level = geo.feed_level(radius)
    plan = _plan(neighbour_queries.neighbours(viewer, "bricolage"))
    assert f"ix_member_skills_cell_{level}_skill" in plan, plan
    if db.engine.dialect.name == "sqlite":
        # (PostgreSQL reads the few tag rows of a test city by their key instead: the
        # tag index has the same shape as the skill one.)
        assert f"ix_member_tags_cell_{level}_tag" in plan, plan
    # Members are reached by their key, not by the circle's spatial index.
    assert "idx_members_public_position" not in plan
    assert "SpatialIndex" not in plan
    # A page reads band by band: the nearest band from the fine cells around the
    # viewer's public position, each cell's members of the skill by name.
    plan = _plan(neighbour_queries.neighbours_in_band(viewer, "bricolage", 0))
    assert "ix_member_skills_cell_fine_skill_name" in plan, plan
    assert "idx_members_public_position" not in plan and "SpatialIndex" not in plan


def test_the_fan_out_reads_the_skill_cell_index(app):
    ids = _city(4000, 7, spread_m=30_000)
    (request,) = _requests(ids[0], 1, seed=7)
    request.reach_m = 500  # most members are read from the fine cells within ~660 m
    stmt = (
        select(Member.id)
        .where(audience.reached_knowing(request, request.category, from_homes=True))
        .order_by(audience.home_distance(request), Member.id)
        .limit(20)
    )
    plan = _plan(stmt)
    assert "ix_member_skills_cell_fine_skill" in plan, plan
    assert "idx_members_public_position" not in plan and "SpatialIndex" not in plan


def test_the_cells_rows_are_narrowed_to_the_box_on_the_index_entries(app):
    """The cells around a circle cover two to three times its area: the skill rows read
    from them are only those whose public position is in the box around the circle,
    checked on the index entries (PostgreSQL: the index holds the position), before any
    member's row is read."""
    ids = _city(1500, 8, spread_m=3000)
    (request,) = _requests(ids[0], 1, seed=8)
    centre = geo.from_element(request.position)
    metres = 360.0
    west, south, east, north = geo.bounding_box(centre, metres)
    cells = geo.feed_cells_around(centre, metres)
    rows = db.session.execute(
        select(MemberSkill.member_id, MemberSkill.public_lat, MemberSkill.public_lon).where(
            MemberSkill.skill == "bricolage"
        )
    ).all()
    keys = {*cells.central, *cells.edge}
    in_cells = {
        m for m, lat, lon in rows if geo.feed_cell(geo.lat_lon(lat, lon), cells.level) in keys
    }
    in_box = {m for m, lat, lon in rows if south <= lat <= north and west <= lon <= east}

    read = set(db.session.scalars(audience._skill_rows(MemberSkill, centre, metres, "bricolage")))
    assert read == in_cells & in_box
    # The box leaves out some of the cells' rows (in a real city, more than half).
    assert in_cells - in_box and len(read) > 10, (len(in_cells), len(read))
    if db.engine.dialect.name == "postgresql":
        definition = db.session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
            {"name": "ix_member_skills_cell_fine_skill"},
        ).scalar_one()
        assert definition.endswith("INCLUDE (public_lat, public_lon)"), definition


# --- the cells stay right ---------------------------------------------------------------------


def _cells_right() -> list[tuple]:
    """Skill and tag rows whose cells, bound, position or sort name are not their
    member's."""
    wrong = []
    for table in (MemberSkill, MemberTag):
        rows = db.session.execute(
            select(
                table.member_id,
                table.cell_fine,
                table.cell_coarse,
                table.shown_within_m,
                table.public_lat,
                table.public_lon,
                table.sort_name,
                Member.public_position,
                Member.sort_name,
            ).join(Member, Member.id == table.member_id)
        ).all()
        assert rows
        for member_id, fine, coarse, within, lat, lon, name, public, sort_name in rows:
            if {**skill_cells(public), "sort_name": sort_name} != {
                "cell_fine": fine,
                "cell_coarse": coarse,
                "shown_within_m": within,
                "public_lat": lat,
                "public_lon": lon,
                "sort_name": name,
            }:
                wrong.append((table.__tablename__, member_id))
    return wrong


def test_a_grid_centre_tells_how_far_the_home_can_be_and_nothing_else_does():
    rnd = random.Random(9)
    for _ in range(300):
        home = _offset(CENTRE, 20_000 * rnd.random(), rnd.random() * 2 * math.pi)
        for level, key in enumerate(privacy.cells(home)):
            shown = privacy.centre(key)
            assert shown_within_m(shown) == SHOWN_WITHIN_M[level]
            assert geo.geodesic_distance_m(home, shown) <= SHOWN_WITHIN_M[level]
        # Any other point (a quartier's point) may be as far as the widest bound.
        assert shown_within_m(home) == privacy.PUBLIC_OFFSET_MAX_M


def test_sign_up_profile_and_home_changes_keep_the_cells(app, make_member):
    near = make_member("Proche", at=BATIGNOLLES, skills=["bricolage"], tags=["vélo"])
    assert _cells_right() == []
    account.update_profile(near, skills=["jardinage", "bricolage"], tags=["tricot"])
    db.session.commit()
    assert _cells_right() == []
    before = skill_cells(near.public_position)
    account.change_home(near, LocationInput(lat=48.8500, lon=2.3500))  # ~5 km away
    db.session.commit()
    assert skill_cells(near.public_position) != before
    assert _cells_right() == []
    # Found there, no longer here.
    viewer = make_member("Voisine", at=(48.8505, 2.3505), radius_m=500)
    assert [m.id for m, _b in neighbour_queries.neighbour_page(viewer, "tricot", None).items] == [
        near.id
    ]
    blur.set_floor(near, 2)
    db.session.commit()
    assert _cells_right() == []
    # A new name is the rows' too: the lists sort on their copy.
    account.update_profile(near, display_name="Zélie Proche")
    db.session.commit()
    assert _cells_right() == []


def test_the_daily_privacy_job_moves_the_cells_with_the_members(make_app):
    from tests.helpers.crowds import member_at, offset, settle

    app = make_app(PRIVACY_CROWD_MIN=3)
    with app.app_context():
        # A home whose fine and coarse privacy cells lie in different feed cells.
        home = next(
            at
            for step in range(40)
            if (at := offset(geo.lat_lon(48.8850, 2.3200), 60 * step, 45 * step))
            and len({geo.feed_cell(privacy.centre(key), "fine") for key in privacy.cells(at)}) == 3
        )
        crowd = [member_at(f"Membre {n}", offset(home, 9 * n, -7 * n)) for n in range(3)]
        account.update_profile(crowd[0], skills=["bricolage"], tags=["vélo"])
        db.session.commit()
        coarse_cells = skill_cells(crowd[0].public_position)
        settle()  # blur.refresh_all moves the crowd to its fine cell, in bulk
        db.session.expire_all()
        assert skill_cells(crowd[0].public_position) != coarse_cells
        assert _cells_right() == []


def test_a_band_s_walk_is_built_once_per_shape(app, make_member):
    """Building the walk and its cache key cost more than running it: two viewers, two
    skills, the same band's statement object, their values apart."""
    one = make_member("Une", at=BATIGNOLLES, radius_m=1000)
    two = make_member("Deux", at=(48.8850, 2.3300), radius_m=1000)
    a = neighbour_queries.neighbours_in_band(one, "bricolage", 1)
    b = neighbour_queries.neighbours_in_band(two, "jardinage", 1)
    assert a.statement is b.statement
    assert (a.params["skill"], a.params["viewer_id"]) == ("bricolage", one.id)
    assert (b.params["skill"], b.params["viewer_id"]) == ("jardinage", two.id)
    # The nearest band has no lower bound: another shape.
    assert neighbour_queries.neighbours_in_band(one, "bricolage", 0).statement is not a.statement
