"""/healthz (the process answers) and /readyz (database reachable, migrations at head)
for load balancers: public, no cookie, no session, and /healthz never asks the
database."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from peuplade import create_app
from peuplade.config import ROOT
from peuplade.extensions import db
from tests.conftest import _test_config
from tests.helpers.servers import free_port


def _closed_port_app():
    """An app whose PostgreSQL server does not exist: nothing listens on the port."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/peuplade"
    return create_app(_test_config(url))


@pytest.fixture
def versions(app):
    """Sets the alembic_version table that ``flask db upgrade`` keeps (the suite builds
    its schema from the models, without it); dropped afterwards."""
    made = []

    def set_to(*revisions: str) -> None:
        with db.engine.begin() as conn:
            if not made:
                conn.execute(
                    text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
                )
                made.append(True)
            conn.execute(text("DELETE FROM alembic_version"))
            for revision in revisions:
                conn.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})

    yield set_to
    if made:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))


def test_healthz_answers_ok_without_the_database():
    client = _closed_port_app().test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    head = client.head("/healthz")
    assert head.status_code == 200 and head.get_data() == b""
    assert client.post("/healthz").status_code == 405


def test_readyz_says_which_check_failed_when_the_database_is_away():
    client = _closed_port_app().test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "unavailable", "migrations": "unchecked"}
    assert response.headers["Cache-Control"] == "no-store"


def test_health_checks_set_no_cookie_even_for_a_logged_in_browser(client, auth, make_member):
    member = make_member()
    auth.login(member.email)
    assert client.get_cookie("peuplade") is not None  # a real session is in the jar
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers, path
        assert "Vary" not in response.headers, path  # the cookie was not even read


def test_readyz_needs_the_migrations_at_head(client, versions):
    scripts = ScriptDirectory(str(ROOT / "migrations"))  # Alembic's reading, not ours
    (head,) = scripts.get_heads()  # one line of migrations
    parent = scripts.get_revision(head).down_revision

    missing = client.get("/readyz")  # the suite's schema was made without migrations
    assert missing.status_code == 503
    assert missing.get_json() == {"database": "ok", "migrations": "missing"}

    versions(head)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"database": "ok", "migrations": "head"}
    assert ready.mimetype == "application/json"

    versions(parent)
    behind = client.get("/readyz")
    assert behind.status_code == 503
    assert behind.get_json() == {"database": "ok", "migrations": "behind"}

    versions("0123456789ab")  # migrated by a newer release than this code
    assert client.get("/readyz").get_json() == {"database": "ok", "migrations": "unknown"}
