"""How a request ends its transaction on PostgreSQL (peuplade/database.py).

A request that only read ends with COMMIT, so psycopg keeps the connection's prepared
statements (it forgets them all at a ROLLBACK) and the neighbourhood lists are planned
once per connection, not once per request (docs/SCALING.md). Anything that wrote and
was not committed by the view still ends with a ROLLBACK: nothing it wrote is kept.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from peuplade.access import public
from peuplade.extensions import db
from peuplade.models import Member

pytestmark = pytest.mark.postgis_only


@pytest.fixture
def ends(backend, make_app):
    """An app with three views that do not commit, and the list of how each request's
    transaction ended ("commit" / "rollback")."""
    app = make_app()

    # Probes open to visitors (no login needed to reach them).
    @app.get("/probe/read/<int:member_id>")
    @public
    def read(member_id: int):
        return db.session.get(Member, member_id).display_name

    @app.get("/probe/orm-write/<int:member_id>")
    @public
    def orm_write(member_id: int):
        db.session.get(Member, member_id).display_name = "Changé sans commit"
        db.session.flush()
        return "flushed"

    @app.get("/probe/sql-write/<int:member_id>")
    @public
    def sql_write(member_id: int):
        db.session.execute(
            text("UPDATE members SET display_name = 'Changé en SQL' WHERE id = :id"),
            {"id": member_id},
        )
        return "updated"

    @app.get("/probe/prepared")
    @public
    def prepared():
        # The same statement as the page's, six times: psycopg prepares it at the 5th.
        for _ in range(6):
            db.session.scalar(select(Member.id).limit(1))
        return str(db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements")))

    seen: list[str] = []
    with app.app_context():
        event.listen(db.engine, "commit", lambda _conn: seen.append("commit"))
        event.listen(db.engine, "rollback", lambda _conn: seen.append("rollback"))
    return app, seen


def _name(app, member_id: int) -> str:
    with app.app_context():
        return db.session.get(Member, member_id).display_name


def test_a_request_that_only_read_ends_with_commit(ends, make_member):
    app, seen = ends
    member = make_member("Lectrice")
    seen.clear()
    assert app.test_client().get(f"/probe/read/{member.id}").text == "Lectrice"
    assert seen == ["commit"]


@pytest.mark.parametrize("probe", ["orm-write", "sql-write"])
def test_a_request_that_wrote_without_committing_keeps_nothing(ends, make_member, probe):
    app, seen = ends
    member = make_member("Lectrice")
    seen.clear()
    assert app.test_client().get(f"/probe/{probe}/{member.id}").status_code == 200
    assert seen == ["rollback"]
    assert _name(app, member.id) == "Lectrice"


def test_prepared_statements_outlive_a_read_request(ends):
    app, _seen = ends
    client = app.test_client()
    assert int(client.get("/probe/prepared").text) >= 1
    # The next request gets the same pooled connection (one client, one thread), with
    # the statements it prepared still there.
    assert int(client.get("/probe/prepared").text) >= 1
    with app.app_context():
        conn = db.session.connection()
        assert conn.scalar(text("SELECT count(*) FROM pg_prepared_statements")) >= 1
