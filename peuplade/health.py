"""Health checks for load balancers and orchestrators (docs/operations.md).

- ``/healthz``: the process answers (liveness). Never touches the database.
- ``/readyz``: the database answers within a short time (``database.CHECK_TIMEOUT_MS``
  for its queries, ``database.CONNECT_TIMEOUT_S`` to connect) and its schema is at the
  migrations' head (readiness): 200 ``{"database": "ok", "migrations": "head"}``, else
  503 with the state of each check. Read replicas, if any, are listed under
  ``"replicas"``; their state does not change the status (reads fall back).

Both are answered by a WSGI middleware in front of the app: no session, no cookie, no
login, no rate limit, whatever the caller sends. They say nothing a
visitor could not guess (no version, no host, no error text).
"""

from __future__ import annotations

import json
import logging

from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from peuplade import database, migrating
from peuplade.extensions import db
from peuplade.headers import API_POLICY
from peuplade.replicas import replicas_of

log = logging.getLogger(__name__)

LIVENESS = "/healthz"
READINESS = "/readyz"

READY = {"database": "ok", "migrations": "head"}


def init_app(app: Flask) -> None:
    app.wsgi_app = HealthChecks(app, app.wsgi_app)


class HealthChecks:
    """Answers ``/healthz`` and ``/readyz`` itself; everything else goes to the app."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path not in (LIVENESS, READINESS):
            return self.wsgi_app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return _answer(start_response, method, 405, "text/plain", b"", {"Allow": "GET, HEAD"})
        if path == LIVENESS:
            return _answer(start_response, method, 200, "text/plain; charset=utf-8", b"ok\n")
        checks = readiness(self.app)
        body = json.dumps(checks).encode()
        # A replica away or behind is no reason to stop sending visitors here: reads
        # then go to the primary. Its state is shown for monitoring.
        primary = {key: value for key, value in checks.items() if key != "replicas"}
        return _answer(
            start_response, method, 200 if primary == READY else 503, "application/json", body
        )


def _answer(start_response, method: str, status: int, content_type: str, body: bytes, extra=None):
    reasons = {200: "OK", 405: "METHOD NOT ALLOWED", 503: "SERVICE UNAVAILABLE"}
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", API_POLICY),
        *(extra or {}).items(),
    ]
    start_response(f"{status} {reasons[status]}", headers)
    return [b"" if method == "HEAD" else body]


def readiness(app: Flask) -> dict:
    """The state of each check: ``READY`` when the app can serve. With read replicas,
    ``"replicas": {"replica-1": state, ...}`` too (peuplade/replicas.py: ``"ok"``,
    ``"lagging"``, ``"unavailable"``, ``"not_a_replica"``), asked now, which also
    refreshes this process's routing; the primary stays under ``"database"``."""
    with app.app_context():
        checks: dict = database_state(db.engine, migrations=True)
    replicas = replicas_of(app)
    if replicas is not None:
        checks["replicas"] = replicas.states()
    return checks


def database_state(engine, migrations: bool = False) -> dict[str, str]:
    """``{"database": "ok" | "unavailable" | "timeout" | "error"}`` for one engine and,
    with ``migrations``, ``"migrations"``: ``"head"``, ``"behind"`` (an upgrade is due),
    ``"unknown"`` (a revision these scripts do not know: newer code migrated it),
    ``"missing"`` (never migrated), or ``"unchecked"`` (no database to ask)."""
    state = {"database": "ok"}
    if migrations:
        state["migrations"] = "unchecked"
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {database.CHECK_TIMEOUT_MS:d}")
            conn.execute(text("SELECT 1"))
            if migrations:
                state["migrations"] = _migrations_state(conn)
    except DBAPIError as exc:
        reason = database.unavailable(exc)
        state["database"] = {
            None: "error",
            database.TIMED_OUT: "timeout",
        }.get(reason, "unavailable")
        log.warning("readiness check: database %s (%s)", state["database"], type(exc.orig).__name__)
    return state


def _migrations_state(conn) -> str:
    if not inspect(conn).has_table("alembic_version"):
        return "missing"
    current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    # Read from the scripts without Alembic, once per process (peuplade/migrating.py).
    if current == migrating.heads():
        return "head"
    return "behind" if current <= migrating.revisions().keys() else "unknown"
