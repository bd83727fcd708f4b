"""`flask backup` / `flask restore` on the embedded database (SQLite + SpatiaLite): a
backup taken while neighbours keep posting is one consistent snapshot, and a fresh file
restored from it is a working Peuplade - rows, spatial index, radius queries."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import func, select, text

from peuplade import migrating
from peuplade.exchanges import queries as exchange_queries
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.models import Exchange, Member, Post
from tests.conftest import CLICHY, DAMES_LEMERCIER

pytestmark = pytest.mark.spatialite_only


def _invoke(app, *args: str):
    """Run a flask command on ``app`` (pushed: another app's context may be current)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def _migrated_app(make_app, path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        migrating.upgrade()
    return app


def _post(author_id: int, n: int) -> None:
    author = db.session.get(Member, author_id)
    exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(
            kind="request", title=f"Demande n° {n}", body="Un coup de main.", category="bricolage"
        ),
    )
    db.session.commit()


def _counts() -> tuple[int, int, int]:
    db.session.remove()
    return (
        db.session.scalar(select(func.count()).select_from(Member)),
        db.session.scalar(select(func.count()).select_from(Post)),
        db.session.scalar(select(func.count()).select_from(Exchange)),
    )


def test_a_backup_taken_while_neighbours_post_restores_into_a_working_site(
    make_app, make_member, tmp_path
):
    live = _migrated_app(make_app, tmp_path / "live.sqlite")
    with live.app_context():
        author_id = make_member("Autrice", at=DAMES_LEMERCIER).id
        reader_id = make_member("Lectrice", at=CLICHY).id
        for n in range(20):
            _post(author_id, n)

    stop = threading.Event()
    written: list[int] = []

    def keep_posting() -> None:
        with live.app_context():
            n = 100
            while not stop.is_set():
                _post(author_id, n)
                written.append(n)
                n += 1
            db.session.remove()

    writer = threading.Thread(target=keep_posting)
    writer.start()
    try:
        while len(written) < 5:  # the writer is under way
            threading.Event().wait(0.01)
        result = _invoke(live, "backup", str(tmp_path / "copy.sqlite"))
        during = len(written)
        while len(written) < during + 5:  # and it went on writing after the copy
            threading.Event().wait(0.01)
    finally:
        stop.set()
        writer.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert "Base sauvegardée" in result.output

    fresh = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'restored.sqlite'}")
    restored = _invoke(fresh, "restore", str(tmp_path / "copy.sqlite"))
    assert restored.exit_code == 0, restored.output

    with fresh.app_context():
        members, posts, exchange_rows = _counts()
        # One snapshot: every exchange with its post, nothing half-written.
        assert members == 2 and posts == exchange_rows
        assert 20 + 5 <= exchange_rows < 20 + len(written)
        with db.engine.connect() as conn:
            in_rtree = conn.execute(
                text(
                    "SELECT COUNT(*) FROM SpatialIndex WHERE f_table_name = 'posts' "
                    "AND f_geometry_column = 'position' "
                    "AND search_frame = BuildMbr(2.30, 48.87, 2.34, 48.90, 4326)"
                )
            ).scalar_one()
            assert in_rtree == posts
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        # The app works on it: the reader's neighbourhood (a radius query on the index).
        reader = db.session.get(Member, reader_id)
        near = db.session.scalars(exchange_queries.near_me(reader, limit=1000)).all()
        assert len(near) == exchange_rows
        _post(author_id, 999)  # and it takes new posts
        assert _counts()[2] == exchange_rows + 1


def test_restore_refuses_to_overwrite_a_database_without_yes(make_app, make_member, tmp_path):
    live = _migrated_app(make_app, tmp_path / "live.sqlite")
    with live.app_context():
        make_member("Autrice")
    assert _invoke(live, "backup", str(tmp_path / "b.sqlite")).exit_code == 0
    other = _migrated_app(make_app, tmp_path / "other.sqlite")  # has its own (empty) data

    refused = _invoke(other, "restore", str(tmp_path / "b.sqlite"))
    assert refused.exit_code == 1
    assert "--yes" in refused.output
    with other.app_context():
        assert _counts()[0] == 0

    done = _invoke(other, "restore", str(tmp_path / "b.sqlite"), "--yes")
    assert done.exit_code == 0, done.output
    with other.app_context():
        assert _counts()[0] == 1


def test_backup_never_overwrites_a_file(make_app, tmp_path):
    live = _migrated_app(make_app, tmp_path / "live.sqlite")
    (tmp_path / "taken").write_text("précieux")
    r = _invoke(live, "backup", str(tmp_path / "taken"))
    assert r.exit_code == 1 and "existe déjà" in r.output
    assert (tmp_path / "taken").read_text() == "précieux"


def _not_peuplade(tmp_path):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("pas une base")
    other_db = tmp_path / "other.sqlite"
    with sqlite3.connect(other_db) as conn:
        conn.execute("CREATE TABLE recettes (id INTEGER)")
    return text_file, other_db


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("missing", "fichier introuvable"),
        ("text", "n'est pas une base SQLite"),
        ("other", "n'est pas une base Peuplade"),
        ("unknown-revision", "migration inconnue"),
    ],
)
def test_restore_only_takes_a_peuplade_database_at_a_known_migration(
    make_app, tmp_path, which, message
):
    live = _migrated_app(make_app, tmp_path / "live.sqlite")
    assert _invoke(live, "backup", str(tmp_path / "b.sqlite")).exit_code == 0
    text_file, other_db = _not_peuplade(tmp_path)
    if which == "unknown-revision":
        with sqlite3.connect(tmp_path / "b.sqlite") as conn:
            conn.execute("UPDATE alembic_version SET version_num = 'f00dfacecafe'")
    source = {
        "missing": tmp_path / "absent.sqlite",
        "text": text_file,
        "other": other_db,
        "unknown-revision": tmp_path / "b.sqlite",
    }[which]
    fresh = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.sqlite'}")

    r = _invoke(fresh, "restore", str(source), "--yes")

    assert r.exit_code == 1
    assert message in r.output
    assert "Traceback" not in r.output
