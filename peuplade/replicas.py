"""Read replicas: PostgreSQL's own streaming replication, reads split from writes.

With ``DATABASE_REPLICA_URLS`` set, the statements of a GET or HEAD request go to a
replica unless one of these sends them to the primary (docs/SCALING.md):

- the request wrote: once anything is flushed or a DML statement runs, every later
  statement of the request goes to the primary (and a ``SELECT ... FOR UPDATE`` too);
- the visitor wrote in the last ``window_s`` seconds (read-your-writes), remembered
  where every app server can see it: a timestamp in the signed cookie session for
  pages, a short-lived key in the rate limiter's storage (Redis in production) for a
  bearer token's member;
- the statement reads the login tables (``member_sessions``, ``api_tokens``): a logout,
  a ban or a revoked token takes effect at once on every server;
- no replica is usable: down (a failed connection keeps it out for ``DOWN_FOR_S``) or
  lagging by more than ``REPLICA_MAX_LAG_S`` (checked at most every ``CHECK_EVERY_S``
  per process).

``window_s`` is ``REPLICA_MAX_LAG_S + CHECK_EVERY_S``: a replica is used only while
its last check found it at most that far behind, so a write older than the window is
on every replica still in use.

A replica that fails under a request is marked down and the read is run once more on
the primary (``database.RetryReads``): visitors see no error while the primary serves.

Above ``database`` (whose engine options and error reading the replicas share), below
``extensions`` (whose session is ``RoutingSession``); ``create_app`` calls ``init_app``
right after ``database.init_app``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_sqlalchemy.session import Session as FlaskSession
from limits.storage import storage_from_string
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause

from peuplade import database

log = logging.getLogger(__name__)

EXTENSION = "peuplade.replicas"
# Read on the primary only: sessions and tokens are revoked by deleting their row.
PRIMARY_ONLY_TABLES = frozenset({"member_sessions", "api_tokens"})
# A replica's state is asked at most this often per process (seconds).
CHECK_EVERY_S = 2.0
# /readyz waits this long for the replicas' answers (they are asked all at once).
STATES_WAIT_S = 1.0
# A replica that failed a connection or a statement is left alone this long.
DOWN_FOR_S = 5.0
# Key of the cookie session: when (Unix time) this browser last wrote.
COOKIE_MARKER = "_w"
# Storage key prefix of a bearer-token member's last write.
API_MARKER = "peuplade-wrote/"

# On a standby: no lag when it is streaming from the primary and has replayed all it
# received, else the age of the last transaction replayed (a standby whose WAL receiver
# stopped — network cut, primary away — keeps its last received position: "all of it
# replayed" would then say "up to date" forever). Not a standby any more (promoted): not
# a replica of ours.
LAG_SQL = text(
    "SELECT pg_is_in_recovery(), CASE"
    " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
    " AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0"
    " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
)
# States shown by /readyz.
OK, LAGGING, DOWN, NOT_A_REPLICA, UNCHECKED = (
    "ok",
    "lagging",
    "unavailable",
    "not_a_replica",
    "unchecked",
)
# A replica cancels a read that conflicts with the WAL it replays (40001): the primary
# answers it instead.
_RECOVERY_CONFLICT = "40001"


class Replica:
    """One replica's engine and its last known state, per process."""

    def __init__(self, number: int, engine, max_lag_s: float, check_every_s: float):
        self.name = f"replica-{number}"
        self.engine = engine
        self.max_lag_s = max_lag_s
        self.check_every_s = check_every_s
        self.state = UNCHECKED
        self.lag_s: float | None = None
        self._checked_at = float("-inf")
        self._down_until = float("-inf")
        self._lock = threading.Lock()

    def usable(self) -> bool:
        now = time.monotonic()
        if now < self._down_until:
            return False
        if now - self._checked_at >= self.check_every_s and self._lock.acquire(blocking=False):
            # One thread checks; the others go on with the last known state.
            try:
                self.check()
            finally:
                self._lock.release()
        return self.state == OK

    def check(self) -> str:
        """Ask the replica its state now (a connection from its pool, 2 s at most)."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {database.CHECK_TIMEOUT_MS:d}")
                in_recovery, lag = conn.execute(LAG_SQL).one()
        except DBAPIError as exc:
            self.mark_down(type(exc.orig).__name__)
            return self.state
        self._checked_at = time.monotonic()
        self.lag_s = None if lag is None else float(lag)
        if not in_recovery:
            state = NOT_A_REPLICA
        elif self.lag_s is None or self.lag_s > self.max_lag_s:
            state = LAGGING
        else:
            state = OK
        if state != self.state and state != OK:
            log.warning("%s %s (lag %s s): reads go elsewhere", self.name, state, self.lag_s)
        elif state != self.state and self.state != UNCHECKED:
            log.warning("%s ok again", self.name)
        self.state = state
        return state

    def mark_down(self, why: str) -> None:
        now = time.monotonic()
        if self.state != DOWN or now >= self._down_until:
            log.warning(
                "%s unavailable (%s): reads go elsewhere for %s s", self.name, why, DOWN_FOR_S
            )
        self.state = DOWN
        self._down_until = now + DOWN_FOR_S
        self._checked_at = now


class Replicas:
    """The app's replicas (``app.extensions[EXTENSION]``)."""

    def __init__(self, app: Flask, urls: list[str]):
        max_lag_s = float(app.config.get("REPLICA_MAX_LAG_S", 5.0))
        check_every_s = float(app.config.get("REPLICA_CHECK_S", CHECK_EVERY_S))
        self.window_s = max_lag_s + check_every_s
        base = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        base.pop("connect_args", None)  # the primary's application_name stays its own
        self.replicas: list[Replica] = []
        for number, url in enumerate(urls, start=1):
            options = database.engine_options(
                url,
                base,
                app.config.get("DATABASE_POOLER", "none"),
                application_name=f"{database.APPLICATION_NAME}-replica-{number}",
            )
            engine = create_engine(url, **options)
            database.limit_web_statements(app, engine)
            database.reads_outside_transactions(engine)
            database.drop_hung_up_connections(engine)
            replica = Replica(number, engine, max_lag_s, check_every_s)
            event.listen(engine, "handle_error", _on_replica_error(replica))
            self.replicas.append(replica)
        self._markers = _marker_storage(app)

    def pick(self) -> Replica | None:
        usable = [replica for replica in self.replicas if replica.usable()]
        return random.choice(usable) if usable else None

    def states(self, wait_s: float = STATES_WAIT_S) -> dict[str, str]:
        """Each replica's state, asked now (``/readyz``): all at once, and for at most
        ``wait_s`` — a replica that does not answer by then (packets dropped: up to the
        connect timeout) shows its last known state, so that a load balancer's probe of
        this server never times out because of a replica."""
        pool = ThreadPoolExecutor(max_workers=len(self.replicas), thread_name_prefix="readyz")
        asked = {replica: pool.submit(replica.check) for replica in self.replicas}
        pool.shutdown(wait=False)  # a slow check finishes in the background
        done, _late = wait(asked.values(), timeout=wait_s)
        return {
            replica.name: future.result()
            if future in done and future.exception() is None
            else replica.state
            for replica, future in asked.items()
        }

    # --- read-your-writes ---------------------------------------------------------

    def wrote_recently(self) -> bool:
        """True when this request's visitor wrote in the last ``window_s`` seconds."""
        if request.blueprint != "api":
            wrote_at = session.get(COOKIE_MARKER)
            return isinstance(wrote_at, int) and time.time() - wrote_at < self.window_s
        member = g.get("api_member")
        if member is None:  # a public API view (no token)
            return False
        try:
            return bool(self._markers.get(_api_marker(member)))
        except Exception as exc:  # noqa: BLE001 - storage away: the primary is always right
            log.warning("read-your-writes storage unavailable (%s)", type(exc).__name__)
            return True

    def remember_write(self) -> None:
        if request.blueprint != "api":
            session[COOKIE_MARKER] = int(time.time())
            return
        member = g.get("api_member")
        if member is None:
            return
        key = _api_marker(member)
        try:
            self._markers.clear(key)  # the window starts again at each write
            self._markers.incr(key, int(self.window_s) + 1)
        except Exception as exc:  # noqa: BLE001 - reads may then lag: said in the log
            log.warning("read-your-writes storage unavailable (%s)", type(exc).__name__)

    def dispose(self) -> None:
        for replica in self.replicas:
            replica.engine.dispose()


def _api_marker(member) -> str:
    # From the identity map: reading member.id could load the row, which asks us again.
    return f"{API_MARKER}{inspect(member).identity[0]}"


def _marker_storage(app: Flask):
    uri = app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    if uri.startswith("memory://") and app.config.get("PEUPLADE_ENV") == "production":
        log.warning(
            "DATABASE_REPLICA_URLS with RATELIMIT_STORAGE_URI=memory://: an API client's "
            "own writes are seen at once by this process only (use Redis, docs/deployment.md)"
        )
    return storage_from_string(uri, **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}))


def _on_replica_error(replica: Replica):
    def handle_error(context) -> None:
        exc = context.sqlalchemy_exception
        state = getattr(getattr(context.original_exception, "diag", None), "sqlstate", None)
        if state == _RECOVERY_CONFLICT:
            # Not the request's fault: answered as a lost connection, hence read again
            # (database.RetryReads), on the primary since this replica is now left out.
            context.is_disconnect = True
            context.invalidate_pool_on_disconnect = False
            replica.mark_down("recovery conflict")
        elif context.is_disconnect or (
            isinstance(exc, DBAPIError)
            and database.unavailable(exc) in (database.LOST, database.CONNECT_FAILED)
        ):
            replica.mark_down(type(context.original_exception).__name__)

    return handle_error


def init_app(app: Flask, db) -> None:
    urls = app.config.get("DATABASE_REPLICA_URLS") or []
    if not urls:
        return
    if database.is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]):
        raise SystemExit(
            "DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL: SQLite/SpatiaLite has no "
            "replicas, remove the setting."
        )
    app.extensions[EXTENSION] = Replicas(app, list(urls))

    @app.after_request
    def remember_writes(response):
        if g.pop("peuplade_wrote", False):
            app.extensions[EXTENSION].remember_write()
        return response


def replicas_of(app: Flask) -> Replicas | None:
    return app.extensions.get(EXTENSION)


def _tables(mapper, clause) -> set[str]:
    """The tables a statement is about: its ORM entity's (what the session gives
    get_bind for ``select(Model)``, ``session.get`` and flushes) and a DML's target."""
    names = set()
    if mapper is not None:
        names.update(table.name for table in inspect(mapper).tables)
    if isinstance(clause, UpdateBase):
        names.add(clause.table.name)
    return names


class RoutingSession(FlaskSession):
    """``db.session``: sends a request's reads to a replica when the rules of this
    module allow it, everything else to the primary."""

    def __init__(self, db, **kwargs):
        super().__init__(db, **kwargs)
        self._primary_only = False  # this session wrote, or may not read from a replica
        self._replica_engine = None  # the replica this session reads from

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        primary = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        if bind is not None or not has_app_context():
            return primary
        replicas = replicas_of(current_app)
        if replicas is None:
            return primary
        tables = self._flushed_tables() if self._flushing else _tables(mapper, clause)
        if tables and tables <= PRIMARY_ONLY_TABLES:
            # Logins are read on the primary anyway: noting a session's or a token's
            # use (last_seen_at) does not keep the request's reads off the replica.
            return primary
        if self._flushing or _writes(clause):
            self._primary_only = True
            if has_request_context():
                g.peuplade_wrote = True
            return primary
        if self._primary_only or tables & PRIMARY_ONLY_TABLES:
            return primary
        if self._replica_engine is not None:
            return self._replica_engine
        if not has_request_context() or request.method not in ("GET", "HEAD"):
            self._primary_only = True
            return primary
        if request.blueprint == "api" and "api_member" not in g:
            # The token's member is being loaded: whether they just wrote is not known
            # yet. Their row comes from the primary; the choice waits for the view.
            return primary
        if replicas.wrote_recently():
            self._primary_only = True
            return primary
        return self._choose_replica(replicas, primary)

    def _flushed_tables(self) -> set[str]:
        # A flush asks for each mapper it visits, changed or only related: what is
        # written is what the session holds as new, changed or deleted.
        return {
            table.name
            for instance in (*self.new, *self.dirty, *self.deleted)
            for table in inspect(instance).mapper.tables
        }

    def _choose_replica(self, replicas: Replicas, primary):
        while (replica := replicas.pick()) is not None:
            try:
                # Joins this session's transaction now: a replica that cannot be
                # reached is left out here, before any statement depends on it.
                self.connection(bind_arguments={"bind": replica.engine})
            except DBAPIError as exc:
                replica.mark_down(type(exc.orig).__name__)
                continue
            except PoolTimeout:  # its connections are all busy: the primary answers
                replica.mark_down("pool exhausted")
                continue
            self._replica_engine = replica.engine
            return replica.engine
        self._primary_only = True
        return primary

    def close(self) -> None:
        super().close()
        self._primary_only = False
        self._replica_engine = None


def _writes(clause) -> bool:
    if clause is None:
        return False
    if isinstance(clause, UpdateBase | TextClause):
        return True  # DML, or SQL we cannot read: the primary
    return getattr(clause, "_for_update_arg", None) is not None
