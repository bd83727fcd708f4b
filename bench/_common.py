"""Helpers shared by the bench scripts: where a bench database lives, and an app on it.

A bench database is named on the command line the same way for every script: on
PostGIS a database name on the shared server (or a full URL), on SpatiaLite a file
path. These helpers turn that into a SQLAlchemy URL, create or drop the database, and
build an app whose schema comes from the real Alembic migrations, so that benchmarks
measure the indexes a deployment gets.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import random
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask
from flask_login import current_user
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.engine import URL, make_url

from peuplade import create_app, migrating
from peuplade.access import public

BACKENDS = ("postgis", "spatialite")
# Where the bench scripts write their figures (JSON, profiles); git-ignored.
OUT = Path(__file__).resolve().parent / "out"
# The shared PostgreSQL server of the bench machine (trust auth, user postgres).
PG_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def database_url(backend: str, target: str, server_url: str = PG_SERVER_URL) -> str:
    """The SQLAlchemy URL for ``target``: a database name or URL (PostGIS), a file path
    or ``sqlite:///`` URL (SpatiaLite)."""
    if backend == "spatialite":
        if target.startswith("sqlite:"):
            return target
        return "sqlite:///" + str(Path(target).expanduser().resolve())
    if "://" in target:
        return target
    return render(make_url(server_url).set(database=target))


def render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _server_connection(url: str) -> psycopg.Connection:
    """An autocommit connection to the maintenance database of ``url``'s server."""
    u = make_url(url)
    return psycopg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username,
        password=u.password,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )


def pg_database_exists(url: str) -> bool:
    name = make_url(url).database
    with _server_connection(url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()


def create_pg_database(url: str) -> None:
    """Create the database of ``url`` unless it exists."""
    if not pg_database_exists(url):
        name = make_url(url).database
        with _server_connection(url) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    with _server_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def remove_sqlite_file(url: str) -> None:
    """Delete a SpatiaLite database with its WAL files."""
    path = Path(make_url(url).database or "")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def bench_app(url: str) -> Flask:
    """An app on ``url`` with the test settings (cheap argon2, no rate limits)."""
    return create_app(
        {
            "PEUPLADE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
        }
    )


def migrate(app: Flask) -> None:
    """Bring the app's database to head with the project's own migrations."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with app.app_context():
        migrating.upgrade()


def production_environment(url: str, **settings: str) -> dict[str, str]:
    """The environment of docs/deployment.md on a bench database: production (strong
    argon2, CSRF, Secure ``__Host-`` cookies), e-mails to the log, the offline geocoder
    (the bench never leaves the machine); then ``settings``. This process's PEUPLADE_
    and FLASK_ variables are left out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEUPLADE_", "FLASK_"))}
    env.update(
        PEUPLADE_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=url,
        PUBLIC_URL="https://bench.example",
        GEOCODER="offline",
        MAIL_BACKEND="log",
    )
    env.update(settings)
    return env


def add_bench_routes(app: Flask) -> Flask:
    """``GET /bench/ping``: "ok" through the same app, middleware and session lookup as
    every page (the access check loads the session's member, public page or not), and
    nothing else. It answers "anonymous" without a session, so that a bench sending it
    as a member can tell that the member really was logged in."""

    @app.route("/bench/ping")
    @public
    def bench_ping() -> str:
        return "ok" if current_user.is_authenticated else "anonymous"

    return app


def write_figures(name: str, figures: dict[str, Any], path: Path | None = None) -> Path:
    """Write a bench script's figures as JSON (``bench/out/<name>.json`` unless
    ``path``), with when and where they were measured; bench/report.py reads them."""
    path = path or OUT / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "script": name,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **figures,
    }
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    return path


# -- the app in this process, as deployed --------------------------------------------------

SITE = "https://bench.example"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class InProcessSite:
    """The app built in this process with the production settings
    (``production_environment``; rate limits in ``memory://`` unless
    RATELIMIT_STORAGE_URI is set), plus ``/bench/ping``, and a test client acting as one
    browser over https (Secure ``__Host-`` cookies). CSRF stays on: every form is posted
    with the token read from the page before it, and the Referer a browser sends.
    ``statements`` counts the SQL statements of the last request (every cursor
    execution of the app's engine, from the request's start to its teardown)."""

    def __init__(self, url: str) -> None:
        env = production_environment(url, RATELIMIT_STORAGE_URI="memory://")
        os.environ.clear()
        os.environ.update(env)
        self.app = add_bench_routes(create_app())
        self.client = self.app.test_client()
        self.statements = 0
        self._counting = False
        from peuplade.extensions import db

        with self.app.app_context():
            sqlalchemy_event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, *_args) -> None:
        if self._counting:
            self.statements += 1

    def request(self, method: str, path: str, expected: int, **kwargs) -> str:
        """The page of one request; SystemExit if its status is not ``expected``."""
        self.statements, self._counting = 0, True
        try:
            # Buffered: the response is read and closed, as a WSGI server does, so the
            # work a request leaves for after its response (a request's matching
            # neighbours) runs, and is counted, here.
            response = self.client.open(
                SITE + path,
                method=method,
                headers={"Referer": SITE + path, "Accept-Language": "fr"},
                buffered=True,
                **kwargs,
            )
        finally:
            self._counting = False
        if response.status_code != expected:
            body = response.get_data(as_text=True)[:500]
            raise SystemExit(
                f"{method} {path}: HTTP {response.status_code}, not {expected}\n{body}"
            )
        return response.get_data(as_text=True)

    def csrf_token(self, path: str) -> str:
        found = CSRF_RE.search(self.request("GET", path, 200))
        if found is None:
            raise SystemExit(f"no CSRF token on {path}")
        return found.group(1)

    def log_in(self, email: str, password: str) -> None:
        form = {"csrf_token": self.csrf_token("/login"), "email": email, "password": password}
        self.request("POST", "/login", 302, data={**form, "next": ""})
        if self.request("GET", "/bench/ping", 200) != "ok":
            raise SystemExit(f"{email} is not logged in after POST /login")

    def post_exchange(self, kind: str, number: int, token: str) -> None:
        """POST /exchanges/new as the form sends it, with ``token`` read from the form's
        page (``csrf_token("/exchanges/new")``: it holds for the whole session)."""
        form = {
            "csrf_token": token,
            "kind": kind,
            "title": f"Coup de main n°{number}",
            "body": "Bench : une annonce postée par les mesures en processus.",
            "category": "bricolage",
            "starts_on": "",
            "ends_on": "",
            "location": "",
            "reach_m": "",
            "on_behalf_of": "",
        }
        self.request("POST", "/exchanges/new", 302, data=form)


def bench_member(url: str, seed: int = 1) -> int:
    """A member of a bench city (bench/generate.py) who can log in and post freely:
    active and older than the new-account limits; drawn with ``seed``."""
    from sqlalchemy import create_engine, text

    from peuplade import database

    engine = create_engine(url, **database.engine_options(url))
    try:
        with engine.connect() as conn:
            top = conn.execute(text("SELECT max(id) FROM members")).scalar()
            rng = random.Random(seed)
            for member_id in rng.sample(range(1, top + 1), min(top, 500)):
                row = conn.execute(
                    text("SELECT status, created_at FROM members WHERE id = :id"),
                    {"id": member_id},
                ).one_or_none()
                if row and row.status == "active" and _older_than(row.created_at, days=8):
                    return member_id
    finally:
        engine.dispose()
    raise SystemExit("no member of this database can log in and post")


def _older_than(when, days: int) -> bool:
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when < datetime.now(UTC) - timedelta(days=days)
