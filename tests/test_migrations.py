"""Alembic migrations agree with the models and run up and down with data, on both backends.

Each test migrates its OWN fresh database (a new SQLite file; a throwaway PostgreSQL
database on the test server), never the shared test schema built by conftest.
"""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import Geometry
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from peuplade import create_app, geo, migrating, privacy
from peuplade.config import ROOT
from peuplade.extensions import db
from peuplade.models import Exchange, Member, MemberSkill, MemberTag, Post
from tests.helpers.quartiers import add_quartier

OUR_TABLES = {"members", "member_skills", "member_tags", "home_changes", "api_tokens", "quartiers"}

_spec = importlib.util.spec_from_file_location(
    "peuplade_schema_filter", ROOT / "migrations" / "schema_filter.py"
)
schema_filter = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(schema_filter)


def pytest_generate_tests(metafunc):
    if "fresh_db" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        backends = ("spatialite", "postgis") if chosen == "both" else (chosen,)
        if metafunc.definition.get_closest_marker("postgis_only"):
            backends = tuple(b for b in backends if b == "postgis")
        metafunc.parametrize("fresh_db", backends, indirect=True)


def _pg_admin(url: str, dbname: str = "postgres") -> psycopg.Connection:
    u = make_url(url)
    return psycopg.connect(
        host=u.host, port=u.port or 5432, user=u.username, dbname=dbname, autocommit=True
    )


@pytest.fixture
def fresh_db(request, tmp_path) -> Iterator[str]:
    """The URL of a new, empty database of the requested backend."""
    if request.param == "spatialite":
        yield "sqlite:///" + str(tmp_path / "migrated.sqlite")
        return
    server_url = request.getfixturevalue("postgres_url")
    name = f"peuplade_mig_{secrets.token_hex(4)}"
    with _pg_admin(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with _pg_admin(server_url, name) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with _pg_admin(server_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def migrated_app(fresh_db):
    app = create_app(
        {
            "PEUPLADE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": fresh_db,
            "SECRET_KEY": "test-secret",
            "GEOCODER": "offline",
        }
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _our_tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) & OUR_TABLES


def _schema_differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": schema_filter.include_object,
                "compare_type": True,
                "target_metadata": db.metadata,
            },
        )
        return compare_metadata(context, db.metadata)


def _add_member_with_data() -> int:
    home = geo.lat_lon(48.88335, 2.31841)  # Square des Batignolles
    quartier = add_quartier("batignolles", arrondissement=17)
    member = Member(
        email="marguerite@example.org",
        display_name="Marguerite",
        password_hash="not-a-real-hash",  # argon2 is not what this test is about
        home=geo.to_element(home),
        public_position=geo.to_element(privacy.centre(privacy.cells(home)[0])),
        radius_m=1000,
        quartier=quartier,
    )
    member.skills.append(MemberSkill(skill="bricolage"))
    member.tags.append(MemberTag(tag="vélo"))
    db.session.add(member)
    db.session.commit()
    return member.id


def test_upgrade_head_builds_the_schema_of_the_models(migrated_app):
    migrating.upgrade()

    assert _our_tables() == OUR_TABLES
    assert _schema_differences() == []


def test_compare_would_see_a_missing_table(migrated_app):
    # The comparison above must be able to fail: a dropped table shows up as a difference.
    migrating.upgrade()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE member_tags"))

    differences = _schema_differences()

    assert [(d[0], d[1].name) for d in differences if d[0] == "add_table"] == [
        ("add_table", "member_tags")
    ]


def test_spatial_index_exists_after_upgrade(migrated_app):
    migrating.upgrade()
    member_id = _add_member_with_data()

    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            registered = conn.execute(
                text(
                    "SELECT f_table_name, f_geometry_column, srid, spatial_index_enabled "
                    "FROM geometry_columns ORDER BY f_table_name, f_geometry_column"
                )
            ).all()
            # Every geometry column of the models, indexed where the model says so.
            expected = sorted(
                (table.name, col.name, col.type.srid, int(col.type.spatial_index))
                for table in db.metadata.sorted_tables
                for col in table.columns
                if isinstance(col.type, Geometry)
            )
            assert [tuple(r) for r in registered] == expected
            assert ("posts", "position", 4326, 1) in expected
            triggers = conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND name LIKE 'loans_no_overlap%' ORDER BY name"
                )
            ).scalars()
            assert list(triggers) == ["loans_no_overlap_insert", "loans_no_overlap_update"]
            # The R*Tree is filled by SpatiaLite's triggers: the new member is in it.
            in_rtree = (
                conn.execute(
                    text(
                        "SELECT ROWID FROM SpatialIndex WHERE f_table_name = 'members' "
                        "AND f_geometry_column = 'public_position' "
                        "AND search_frame = BuildMbr(2.30, 48.87, 2.34, 48.90, 4326)"
                    )
                )
                .scalars()
                .all()
            )
            assert in_rtree == [member_id]
        else:
            indexdef = conn.execute(
                text(
                    "SELECT indexdef FROM pg_indexes "
                    "WHERE tablename = 'members' AND indexname = 'idx_members_public_position'"
                )
            ).scalar_one()
            assert "USING gist (public_position)" in indexdef
            search = conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_exchanges_search'")
            ).scalar_one()
            assert "USING gin" in search and "'french'::regconfig" in search
            guard = conn.execute(
                text("SELECT contype FROM pg_constraint WHERE conname = 'loans_no_overlap'")
            ).scalar_one()
            assert guard == "x"  # an exclusion constraint

    # And the radius query finds the member through it.
    centre = geo.lat_lon(48.88337, 2.32718)  # Place de Clichy, ~650 m away
    found = db.session.scalars(
        db.select(Member.id).where(geo.within_radius(Member.public_position, centre, 1000))
    ).all()
    assert found == [member_id]


def test_downgrade_with_data_then_upgrade_again(migrated_app):
    migrating.upgrade()
    _add_member_with_data()
    db.session.remove()

    migrating.downgrade(revision="base")

    assert _our_tables() == set()
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            # No orphan geometry registrations or R*Tree tables are left behind.
            assert conn.execute(text("SELECT COUNT(*) FROM geometry_columns")).scalar_one() == 0
            leftovers = conn.execute(
                text("SELECT name FROM sqlite_master WHERE name LIKE 'idx_members%'")
            ).all()
            assert leftovers == []

    migrating.upgrade()

    assert _our_tables() == OUR_TABLES
    assert db.session.scalar(db.select(db.func.count()).select_from(Member)) == 0
    member_id = _add_member_with_data()
    assert db.session.get(Member, member_id).skill_slugs == ["bricolage"]
    assert _schema_differences() == []


# --- every migration, down and up, on the demo neighbourhood ---------------------------


def _revisions() -> list[tuple[str, str]]:
    """(revision, its parent or "base"), from the head down to the first migration."""
    script = ScriptDirectory(str(ROOT / "migrations"))
    return [(r.revision, r.down_revision or "base") for r in script.walk_revisions()]


def _migrate(command, revision: str) -> None:
    # No connection of ours may sit in a transaction: CREATE INDEX CONCURRENTLY waits
    # for every transaction in the database to end, ours included.
    db.session.remove()
    command(revision=revision)


def _count(model) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(model))


def _seed_demo(app) -> None:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


def test_every_migration_runs_down_and_up_on_the_demo_neighbourhood(migrated_app):
    """Each migration goes down with the demo data in the database, up again on what its
    parent left (the rows of the tables it does not create), and down again; then the
    whole chain goes up from nothing and the demo loads into the result."""
    _migrate(migrating.upgrade, "head")
    _seed_demo(migrated_app)
    members, posts = _count(Member), _count(Post)
    assert members > 10 and posts > 10  # the demo, not an empty street

    for revision, parent in _revisions():
        _migrate(migrating.downgrade, parent)
        _migrate(migrating.upgrade, revision)
        _migrate(migrating.downgrade, parent)
        if parent != "base":  # the members were there before any of it, and stay
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT COUNT(*) FROM members")).scalar_one() == members

    assert _our_tables() == set()
    _migrate(migrating.upgrade, "head")
    assert _schema_differences() == []
    _seed_demo(migrated_app)
    assert (_count(Member), _count(Post)) == (members, posts)
    # The app reads the migrated database: the demo's exchanges near a demo member.
    someone = db.session.scalar(select(Member).order_by(Member.id))
    near = db.session.scalars(
        select(Exchange.id).where(
            geo.within_radius(Exchange.position, geo.from_element(someone.home), 2000)
        )
    ).all()
    assert near


def test_the_feed_cells_are_filled_again_when_their_migration_reruns(migrated_app):
    """d7e1a4c9b2f0 back-fills the cells of posts already there."""
    _migrate(migrating.upgrade, "head")
    _seed_demo(migrated_app)
    with db.engine.connect() as conn:
        before = conn.execute(
            text("SELECT id, cell_fine, cell_coarse FROM posts ORDER BY id")
        ).all()
    _migrate(migrating.downgrade, "c4d9f2a1b7e3")
    _migrate(migrating.upgrade, "head")
    with db.engine.connect() as conn:
        after = conn.execute(text("SELECT id, cell_fine, cell_coarse FROM posts ORDER BY id")).all()
    assert after == before and all(fine and coarse for _, fine, coarse in after)


@pytest.mark.postgis_only
def test_a_migration_that_cannot_get_its_lock_gives_up(migrated_app, fresh_db, monkeypatch):
    """A live site holds a lock on posts: the migration stops after lock_timeout (and
    can simply be run again) instead of queueing every request behind its own lock."""
    _migrate(migrating.upgrade, "d7e1a4c9b2f0")
    monkeypatch.setenv("PEUPLADE_MIGRATION_LOCK_TIMEOUT", "200ms")
    u = make_url(fresh_db)
    with psycopg.connect(
        host=u.host, port=u.port or 5432, user=u.username, dbname=u.database
    ) as busy:
        busy.execute("LOCK TABLE posts IN ACCESS SHARE MODE")  # a long read, say

        with pytest.raises(OperationalError) as failure:
            _migrate(migrating.upgrade, "head")
        busy.rollback()

    assert failure.value.orig.sqlstate == "55P03"  # lock_not_available
    db.session.remove()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == (
            "d7e1a4c9b2f0"
        )
        # And the app's own connections are not left with the migration's setting.
        assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "0"
    monkeypatch.delenv("PEUPLADE_MIGRATION_LOCK_TIMEOUT")
    _migrate(migrating.upgrade, "head")  # once the reader is gone, it goes through


@pytest.mark.postgis_only
def test_a_migration_interrupted_in_its_concurrent_index_build_can_run_again(migrated_app):
    """A CONCURRENTLY build commits what came before it (a new column) and may fail (a
    lock timeout while old transactions end), leaving its index behind, INVALID: running
    `flask db upgrade` again must go through (docs/operations.md)."""
    # As far as the failure: the revisions after it never ran.
    _migrate(migrating.upgrade, "e2f5a8c1d3b6")
    with db.engine.begin() as conn:
        # What a failure in e2f5a8c1d3b6's index build leaves: its column and a broken
        # index are there, the database still says d7e1a4c9b2f0 (and so on after it).
        conn.execute(text("UPDATE alembic_version SET version_num = 'd7e1a4c9b2f0'"))
        conn.execute(
            text(
                "UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
                "'ix_posts_author_id_submission_key'::regclass"
            )
        )
    _migrate(migrating.upgrade, "head")
    with db.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            == (_revisions()[0][0])
        )
        valid = conn.execute(
            text(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = "
                "'ix_posts_author_id_submission_key'::regclass"
            )
        ).scalar_one()
    assert valid  # built again
    assert _schema_differences() == []
