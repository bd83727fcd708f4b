"""Test fixtures. The whole suite runs on BOTH backends: SQLite + SpatiaLite and
PostgreSQL + PostGIS (``--db=spatialite|postgis|both``, default both).

PostgreSQL: the server of ``TEST_DATABASE_URL`` if set (its database part is not
used), else the one on
127.0.0.1:5432 (as in CI), else a throwaway cluster (initdb + pg_ctl on a
temporary folder and a free port) started for the session
(``PEUPLADE_TEST_THROWAWAY_PG=1`` forces that last one). Each session works
in a database of its own, ``peuplade_test_<pid>``, dropped at the end, so runs
in parallel never share rows.
"""

from __future__ import annotations

import contextvars
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from peuplade import create_app
from peuplade.database import create_schema, drop_schema
from peuplade.extensions import db
from peuplade.location import LocationInput
from tests.helpers.mail import mail_settings
from tests.helpers.quartiers import add_quartier
from tests.helpers.servers import free_port

BACKENDS = ("spatialite", "postgis")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "lampe tempête 42 cerises"


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        default=os.environ.get("PEUPLADE_TEST_DB", "both"),
        choices=("spatialite", "postgis", "both"),
        help="database backend(s) to run the suite on",
    )


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        backends = BACKENDS if chosen == "both" else (chosen,)
        marks = {m.name for m in metafunc.definition.iter_markers()}
        if "postgis_only" in marks:
            backends = tuple(b for b in backends if b == "postgis")
        if "spatialite_only" in marks:
            backends = tuple(b for b in backends if b == "spatialite")
        metafunc.parametrize("backend", backends, indirect=True, scope="session")


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise RuntimeError(f"{name} not found: install the postgresql server package")
    return found


def _server_answers(url: str) -> bool:
    u = make_url(url)
    try:
        with psycopg.connect(
            host=u.host, port=u.port or 5432, user=u.username, dbname="postgres", connect_timeout=3
        ):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory) -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    cluster = None
    forced = os.environ.get("PEUPLADE_TEST_THROWAWAY_PG") == "1"
    if forced or (not os.environ.get("TEST_DATABASE_URL") and not _server_answers(url)):
        # No server here: start a throwaway cluster of our own.
        cluster = tmp_path_factory.mktemp("pgcluster")
        port = free_port()
        run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        if run_as:
            # pytest's temp folders are private to root: postgres could not reach them.
            cluster = Path(tempfile.mkdtemp(prefix="peuplade-pg-"))
            shutil.chown(cluster, "postgres")
        subprocess.run(
            [
                *run_as,
                _pg_bin("initdb"),
                "-D",
                str(cluster / "data"),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *run_as,
                _pg_bin("pg_ctl"),
                "-D",
                str(cluster / "data"),
                "-w",
                "-l",
                str(cluster / "log"),
                "-o",
                f"-p {port} -k {cluster} -c listen_addresses=127.0.0.1",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    u = make_url(url)
    server = {"host": u.host, "port": u.port or 5432, "user": u.username}
    name = f"peuplade_test_{os.getpid()}"
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(**server, dbname=name, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    yield u.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if cluster is not None:
        run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*run_as, _pg_bin("pg_ctl"), "-D", str(cluster / "data"), "-m", "fast", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(cluster, ignore_errors=True)


@pytest.fixture(scope="session")
def backend(request, tmp_path_factory) -> Iterator[str]:
    """The database URL of one backend, with the schema created once for the session."""
    if request.param == "spatialite":
        url = "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "test.sqlite")
    else:
        url = request.getfixturevalue("postgres_url")
    app = create_app(_test_config(url))
    with app.app_context():
        drop_schema(db.engine)
        create_schema(db.engine)
        db.engine.dispose()
    yield url


def _test_config(url: str, **overrides) -> dict:
    return {
        "PEUPLADE_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "GEOCODER": "offline",
        "SERVER_NAME": None,
        # Members are shown in their ~222 m cell however few live there, so tests with
        # two or three members keep simple geometry; tests/test_privacy_crowd.py sets
        # the production value (3) to test crowd-blurring itself.
        "PRIVACY_CROWD_MIN": 1,
        # New-account spam limits are tested in tests/test_moderation.py.
        "NEW_ACCOUNT_POSTS_PER_DAY": 1000,
        "NEW_ACCOUNT_MESSAGES_PER_HOUR": 1000,
        **overrides,
    }


def _empty_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


class IsolatedClient(FlaskClient):
    """Each request runs as a WSGI server runs it: in contexts of its own.

    Flask reuses an app context that is already pushed (the ``app`` fixture holds
    one for the test body), which would share ``g`` - the logged-in member, the
    locale - and the database session between requests and between clients, and
    would keep the request's session (and its connection) open until the test
    body's context ends. The request runs in an empty ``contextvars.Context``
    instead, as in a server's thread: Flask pushes its own app context and tears
    it down (the session removed, its connection back in the pool) before the
    response is closed.
    """

    def open(self, *args, **kwargs):
        # Buffered: the response is read and closed as a WSGI server would, so work
        # registered with call_on_close (notification emails, the request's
        # fan-out) runs, after the request's teardown, before we return.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def make_app(backend):
    """Build an app on the current backend with config overrides; tables emptied after."""
    apps = []

    def factory(**overrides):
        app = create_app(_test_config(backend, **overrides))
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
    if apps:
        with apps[0].app_context():
            _empty_tables()
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def dialect(app) -> str:
    return db.engine.dialect.name


# Real corners of the 17e (Vélib' stations, see data/README.md).
BATIGNOLLES = (48.88335, 2.31841)  # Square des Batignolles area
CLICHY = (48.88337, 2.32718)  # Place de Clichy area
DAMES_LEMERCIER = (48.88462, 2.32091)
FAR_AWAY = (48.84, 2.40)  # Nation, about 7 km away


@pytest.fixture
def make_member(app):
    """Create (and commit) a member at a given point. Returns the Member."""
    from peuplade.account import services

    counter = iter(range(1, 10_000))

    def factory(
        name: str | None = None,
        at: tuple[float, float] = BATIGNOLLES,
        radius_m: int = 1000,
        skills=(),
        tags=(),
        email: str | None = None,
        password: str = PASSWORD,
        bio: str = "",
    ):
        n = next(counter)
        member = services.register_member(
            email=email or f"voisin{n}@example.org",
            password=password,
            display_name=name or f"Voisin {n}",
            location=LocationInput(lat=at[0], lon=at[1]),
            radius_m=radius_m,
            skills=list(skills),
            tags=list(tags),
            bio=bio,
        )
        db.session.commit()
        return member

    return factory


@pytest.fixture
def make_quartier(app):
    """Create (and commit) a square quartier; by default "batignolles", over the test
    points of the 17e. Returns the Quartier (tests/helpers/quartiers.py, ``add_quartier``)."""
    return add_quartier


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = PASSWORD, follow: bool = False):
        return self._client.post(
            "/login", data={"email": email, "password": password}, follow_redirects=follow
        )

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def api(client):
    """JSON client for /api/v1 with an optional bearer token."""

    class Api:
        token: str | None = None

        def _headers(self, headers=None):
            h = dict(headers or {})
            if self.token:
                h.setdefault("Authorization", f"Bearer {self.token}")
            return h

        def get(self, path, **kw):
            return client.get(
                "/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw
            )

        def post(self, path, json=None, **kw):
            return client.post(
                "/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw
            )

        def patch(self, path, json=None, **kw):
            return client.patch(
                "/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw
            )

        def delete(self, path, **kw):
            return client.delete(
                "/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw
            )

        def login(self, email, password=PASSWORD):
            r = self.post("/tokens", json={"email": email, "password": password})
            assert r.status_code == 201, r.get_json()
            self.token = r.get_json()["token"]
            return self.token

    return Api()


def pytest_report_header(config):
    return f"peuplade backends: {config.getoption('--db')}"


@pytest.fixture
def smtp():
    """A real SMTP server on a free loopback port, stopped after the test."""
    from tests.smtp_server import SMTPInbox

    inbox = SMTPInbox().start()
    yield inbox
    inbox.stop()


@pytest.fixture
def mail_app(make_app, smtp):
    """An app that sends its e-mails to the ``smtp`` server (links under
    https://peuplade.example), in an app context. A module whose every app mails:
    ``def app(mail_app): return mail_app``."""
    app = make_app(**mail_settings(smtp))
    with app.app_context():
        yield app


def pytest_terminal_summary(terminalreporter):
    """Figures the tests measured (``record_property("figure", line)``: Lighthouse scores,
    screens and taps per journey...), printed at the end of the run, also with ``-q`` and
    from pytest-xdist's workers (the properties travel with the reports)."""
    figures = [
        value
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", "call") == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == "figure"
    ]
    if figures:
        terminalreporter.write_sep("-", "figures measured by the tests")
        for line in figures:
            terminalreporter.write_line(str(line))
