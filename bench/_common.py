"""Helpers shared by the bench scripts: where a bench database lives, and an app on it.

A bench database is named on the command line the same way for every script: on
PostGIS a database name on the shared server (or a full URL), on SpatiaLite a file
path. These helpers turn that into a SQLAlchemy URL, create or drop the database, and
build an app whose schema comes from the real Alembic migrations, so that benchmarks
measure the indexes a deployment gets.
"""

from __future__ import annotations

import logging
from pathlib import Path

import flask_migrate
import psycopg
from flask import Flask
from sqlalchemy.engine import URL, make_url

from peuplade import create_app

BACKENDS = ("postgis", "spatialite")
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
        flask_migrate.upgrade()
