"""geo.py: radius and point-in-polygon queries are correct and use the spatial index."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import insert, select, text

from peuplade import geo, privacy
from peuplade.extensions import db
from peuplade.models import Member, Quartier

CENTRE = geo.lat_lon(48.8867, 2.3200)


def _bulk_members(n: int, seed: int = 7) -> list[geo.LatLon]:
    """n members spread over ~10 km x 10 km of Paris, inserted without argon2."""
    rnd = random.Random(seed)
    points = [
        geo.lat_lon(48.815 + rnd.random() * 0.09, 2.25 + rnd.random() * 0.17) for _ in range(n)
    ]
    rows = [
        {
            "email": f"bulk{i}@example.org",
            "display_name": f"Bulk {i}",
            "password_hash": "x",
            "bio": "",
            "home": geo.to_element(p),
            "public_position": geo.to_element(p),
            "radius_m": 1000,
            "session_version": 1,
            "created_at": geo_now(),
            "updated_at": geo_now(),
        }
        for i, p in enumerate(points)
    ]
    db.session.execute(insert(Member), rows)
    db.session.commit()
    return points


def geo_now():
    from peuplade.models import utcnow

    return utcnow()


def _plan(stmt) -> str:
    """The query plan of ``stmt`` as one string, on either backend.

    On PostgreSQL, sequential scans are priced out (not forbidden): a query whose
    shape cannot use the GiST index still shows "Seq Scan", so the plan tells
    whether the index is usable, whatever the planner prefers on small test tables.
    """
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    conn = db.session.connection()
    if db.engine.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled)).all()
        return "\n".join(str(r[-1]) for r in rows)
    conn.exec_driver_sql("ANALYZE")
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled)).all())
    conn.exec_driver_sql("RESET enable_seqscan")
    return plan


@pytest.mark.parametrize("metres", [200, 1000, 5000])
def test_within_radius_matches_geodesic_distance(app, metres):
    points = _bulk_members(400)
    stmt = select(Member.email).where(geo.within_radius(Member.public_position, CENTRE, metres))
    found = set(db.session.scalars(stmt))
    expected = {
        f"bulk{i}@example.org"
        for i, p in enumerate(points)
        if geo.geodesic_distance_m(CENTRE, p) <= metres
    }
    assert found == expected
    if metres == 5000:
        assert len(expected) > 50  # the test data really straddles the circle


def test_radius_query_uses_the_spatial_index(app, dialect):
    _bulk_members(3000)
    stmt = select(Member.id).where(geo.within_radius(Member.public_position, CENTRE, 1000))
    plan = _plan(stmt)
    if dialect == "sqlite":
        # The R*Tree answers the box; members are then fetched by rowid, never scanned.
        assert "SpatialIndex" in plan
        assert "SEARCH members USING INTEGER PRIMARY KEY" in plan
        assert "SCAN members" not in plan
    else:
        assert "idx_members_public_position" in plan
        assert "Seq Scan on members" not in plan


def test_neighbours_query_uses_the_spatial_index(app, dialect, make_member):
    from peuplade.neighbours.queries import neighbours

    _bulk_members(3000)
    viewer = make_member(skills=["bricolage"])
    plan = _plan(neighbours(viewer))
    if dialect == "sqlite":
        assert "SpatialIndex" in plan and "SCAN members" not in plan
    else:
        assert "idx_members_public_position" in plan and "Seq Scan on members" not in plan
    # With a skill, the skill's rows are read cell by cell (its own index), then their
    # members by key: still no scan of members (tests/test_skill_cells.py for the rest).
    plan = _plan(neighbours(viewer, "bricolage"))
    assert "ix_member_skills_cell_" in plan
    assert (
        ("SCAN members" not in plan) if dialect == "sqlite" else ("Seq Scan on members" not in plan)
    )


def test_radius_query_without_the_index_part_scans(app, dialect):
    """Guard for the test above: the plan check can tell a scan from an index use."""
    _bulk_members(3000)
    stmt = select(Member.id).where(
        geo.distance_m(Member.public_position, geo.point(CENTRE.lat, CENTRE.lon)) <= 1000
    )
    plan = _plan(stmt)
    assert ("SCAN members" in plan) if dialect == "sqlite" else ("Seq Scan on members" in plan)


def test_contains_point_finds_the_right_polygon_with_the_index(app, dialect, make_quartier):
    for i in range(40):
        make_quartier(f"q{i}", name=f"Q {i}", around=(48.80 + 0.01 * i, 2.30), half=0.004)
    inside = select(Quartier.slug).where(
        geo.contains_point(Quartier.geom, geo.point(48.80 + 0.01 * 7 + 0.001, 2.301))
    )
    assert db.session.scalars(inside).all() == ["q7"]
    between = select(Quartier.slug).where(
        geo.contains_point(Quartier.geom, geo.point(48.80 + 0.01 * 7 + 0.005, 2.30))
    )
    assert db.session.scalars(between).all() == []
    plan = _plan(inside)
    if dialect == "sqlite":
        assert "SpatialIndex" in plan and "SCAN quartiers" not in plan
    else:
        assert "idx_quartiers_geom" in plan


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(float("nan"), 2.3), (48.8, float("inf")), (91, 2.3), (48.8, -181), ("abc", 2.3), (None, 2)],
)
def test_lat_lon_rejects_bad_values(lat, lon):
    with pytest.raises(ValueError):
        geo.lat_lon(lat, lon)


def test_bounding_box_contains_the_circle():
    for lat in (0.0, 45.0, 48.88, 70.0):
        centre = geo.lat_lon(lat, 2.0)
        w, s, e, n = geo.bounding_box(centre, 5000)
        for bearing_point in (
            geo.lat_lon(n, 2.0),
            geo.lat_lon(s, 2.0),
            geo.lat_lon(lat, e),
            geo.lat_lon(lat, w),
        ):
            assert geo.geodesic_distance_m(centre, bearing_point) >= 5000


def test_sql_distance_agrees_with_python(app):
    a, b = geo.lat_lon(48.8867, 2.3200), geo.lat_lon(48.8500, 2.3500)
    sql = db.session.scalar(
        select(geo.distance_m(geo.point(a.lat, a.lon), geo.point(b.lat, b.lon)))
    )
    assert sql == pytest.approx(geo.geodesic_distance_m(a, b), abs=0.5)
    assert privacy.distance_band(sql) == "~5 km"


def test_spatialite_is_loaded_with_wgs84_only(app, dialect):
    if dialect != "sqlite":
        version = db.session.scalar(text("SELECT postgis_version()"))
        assert version.startswith("3")
        return
    assert db.session.scalar(text("SELECT spatialite_version()"))
    # init_mode WGS84 keeps new databases fast: not every EPSG system is loaded.
    count = db.session.scalar(text("SELECT count(*) FROM spatial_ref_sys"))
    assert 0 < count < 1000
