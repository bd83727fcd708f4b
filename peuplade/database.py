"""The two database backends: SQLite + SpatiaLite (embedded) and PostgreSQL + PostGIS.

Their engine options and statement limits, what a driver error means (the database
away: ``unavailable``; a write refused: ``refusal``), the request's one commit, the end
of each request's transaction, and reads run once more after a lost connection.

Low in the house: ``replicas`` builds its engines with this module's options,
``extensions`` makes the session from ``replicas``, and ``create_app`` wires both
(``init_app`` here, then ``replicas.init_app``). So the session helpers below
(``commit``, ``flush``, ``rollback_quietly``, ``lock_row``) reach the app's session
through the app (``_session``) instead of importing ``extensions.db``.
"""

from __future__ import annotations

import contextlib
import logging
import select as select_module
import time
from dataclasses import dataclass

import psycopg
from flask import Flask, current_app, has_request_context
from flask_babel import lazy_gettext as _l
from geoalchemy2.admin.dialects.sqlite import init_spatialite
from psycopg import _queries as psycopg_queries  # its settings: keep_long_statements_parsed
from sqlalchemy import MetaData, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError

from peuplade.errors import Conflict
from peuplade.models import Base
from peuplade.models.loan import OVERLAP_DDL
from peuplade.search import POSTGRES_DDL, fold

try:  # a driver missing from the install is said in one sentence (engine_options)
    import sqlean.dbapi2 as sqlean_dbapi
except ImportError:
    sqlean_dbapi = None

log = logging.getLogger(__name__)

SPATIALITE_MISSING = (
    "SpatiaLite is not installed: run `sudo apt-get install libsqlite3-mod-spatialite` "
    "(Debian/Ubuntu) and start again."
)
SQLEAN_MISSING = "The sqlean.py driver is missing: run `pip install -e .` in the project folder."


# Set on every PostgreSQL connection of the app (docs/SCALING.md). The neighbourhood
# lists are many small index probes whose estimated cost is high: JIT compilation would
# add ~45 ms to a 5 ms query, and a parallel plan chosen from a bad row estimate is
# slower than a serial one. The app's statements are planned once per connection
# (psycopg prepares a statement run 5 times; generic plans): planning a cell walk costs
# more than running it (12-17 ms against 1-3 ms at 1M members), and the walks name their
# partial indexes' predicates as literals, so a generic plan still uses them. Behind
# PgBouncer, set them on the app's role instead (ALTER ROLE ... SET jit = off; ...).
POSTGRES_OPTIONS = (
    "-c jit=off -c max_parallel_workers_per_gather=0 -c plan_cache_mode=force_generic_plan"
)

# Seconds to wait for a PostgreSQL connection (libpq's connect_timeout): a server that
# is away makes a request fail fast with a 503 instead of hanging a worker.
CONNECT_TIMEOUT_S = 3
# A web request's statement is cancelled after this long (the 503 page); command-line
# tasks (migrations, backups, imports) are not limited. Override with the app config
# DATABASE_STATEMENT_TIMEOUT_MS (0: no limit). See docs/operations.md.
WEB_STATEMENT_TIMEOUT_MS = 15_000
# How long a health check lets the database take to answer its queries (PostgreSQL):
# /readyz (peuplade/health.py) and a replica's state (peuplade/replicas.py).
CHECK_TIMEOUT_MS = 2000


class SpatialiteMissing(SystemExit):
    """Raised at start-up: one sentence, no traceback."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _load_spatialite(dbapi_conn) -> None:
    try:
        dbapi_conn.enable_load_extension(True)
        dbapi_conn.load_extension("mod_spatialite")
        dbapi_conn.enable_load_extension(False)
    except Exception:  # noqa: BLE001 - any failure here means the module cannot be loaded
        raise SpatialiteMissing(SPATIALITE_MISSING) from None


def _on_sqlite_connect(dbapi_conn, _record) -> None:
    _load_spatialite(dbapi_conn)
    dbapi_conn.execute("PRAGMA foreign_keys = ON")
    # SQLite's lower() folds ASCII only: search compares with Python's folding instead.
    dbapi_conn.create_function("peuplade_fold", 1, fold, deterministic=True)
    dbapi_conn.execute("PRAGMA busy_timeout = 15000")
    dbapi_conn.execute("PRAGMA journal_mode = WAL")
    # Only the WGS84 systems: creating metadata for every EPSG code takes seconds.
    init_spatialite(dbapi_conn, transaction=True, init_mode="WGS84")


# How the app's PostgreSQL connections name themselves (pg_stat_activity), unless the
# URL sets application_name; replicas add their number: "peuplade-replica-1".
APPLICATION_NAME = "peuplade"


def engine_options(
    url: str,
    base: dict | None = None,
    pooler: str = "none",
    application_name: str = APPLICATION_NAME,
) -> dict:
    """SQLAlchemy engine options for ``url`` (sqlean.py driver for SQLite). ``pooler``
    is DATABASE_POOLER: behind a transaction-mode PgBouncer no startup options are sent
    (PgBouncer refuses them: set them on the role, docs/deployment.md) and, unless it
    keeps prepared statements (``pgbouncer-prepared``, PgBouncer >= 1.21), psycopg
    prepares none (its statement would be missing on the next server connection)."""
    options = dict(base or {})
    options["connect_args"] = dict(options.get("connect_args") or {})
    # SQL errors must not log their parameters: they hold homes, emails and hashes.
    options["hide_parameters"] = True
    # Compiled statements kept per engine: the lists' walk shapes (built once each,
    # docs/SCALING.md) and every other statement fit without evicting each other.
    options.setdefault("query_cache_size", 1200)
    if is_sqlite(url):
        if sqlean_dbapi is None:
            raise SystemExit(SQLEAN_MISSING)
        options["module"] = sqlean_dbapi
        options.setdefault("connect_args", {}).setdefault("timeout", 15)
    else:
        keep_long_statements_parsed()
        connect_args = options["connect_args"]
        if pooler == "none":
            connect_args.setdefault("options", POSTGRES_OPTIONS)
        if pooler == "pgbouncer":
            connect_args.setdefault("prepare_threshold", None)
        if "application_name" not in make_url(url).query:
            connect_args.setdefault("application_name", application_name)
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    return options


# --- psycopg's parse of the lists' statements ---------------------------------------------
# psycopg turns each query's %(name)s placeholders into $n ones and keeps the result per
# query text, except for texts over 4096 bytes or 50 parameters (its guard against
# one-off ORM statements: INSERT ... VALUES with ever more rows). The lists' walks are
# 5-10 KB with 50-90 parameters, but few fixed texts (one per shape, built once): parsed
# again at every execution they cost ~0.4 ms each, two per timeline page. Their shapes
# are bounded (posts.queries._walk's cache), so keeping them is safe; the bounds are
# psycopg's module settings (psycopg/_queries.py, read at each call).
STATEMENT_PARSE_KEPT_UP_TO = {
    "MAX_CACHED_STATEMENT_LENGTH": 32_768,
    "MAX_CACHED_STATEMENT_PARAMS": 256,
}


def keep_long_statements_parsed() -> None:
    """Raise psycopg's bounds of the query texts whose parse it keeps (above)."""
    for name, value in STATEMENT_PARSE_KEPT_UP_TO.items():
        if not hasattr(psycopg_queries, name):  # a changed psycopg: tests/test_feed_cells.py
            log.warning("psycopg has no %s: long statements are parsed at each run", name)
            continue
        setattr(psycopg_queries, name, max(getattr(psycopg_queries, name), value))


# --- a pooled connection the server dropped -----------------------------------------------
# A connection the server closed while it sat in the pool (a restart, a failover, a
# PgBouncer restart, pg_terminate_backend) is replaced when a request takes it, so even a
# write, never run twice, goes through. SQLAlchemy's pool_pre_ping would ask the server
# ("SELECT 1": one more round trip on every request, a quarter of a trivial page's); an
# idle connection's socket says it without one: the server that ends a session sends its
# notice and closes, so the socket becomes readable, where an idle connection of ours is
# never sent anything (no LISTEN). A connection found that way is discarded and another
# taken (the pool's documented DisconnectionError).


def _hung_up(dbapi_conn) -> bool:
    """True when the server closed ``dbapi_conn`` (a psycopg connection, idle in the
    pool) or said anything unasked: the socket holds something to read."""
    if dbapi_conn.closed:
        return True
    try:
        fd = dbapi_conn.pgconn.socket
    except psycopg.OperationalError:  # no socket any more
        return True
    poller = select_module.poll()
    poller.register(fd, select_module.POLLIN | select_module.POLLPRI)
    return bool(poller.poll(0))


def drop_hung_up_connections(engine) -> None:
    """Check each PostgreSQL connection of ``engine`` as it leaves the pool."""

    @event.listens_for(engine, "checkout")
    def check(dbapi_conn, _record, _proxy) -> None:
        if _hung_up(dbapi_conn):
            log.info("a pooled database connection was closed by the server: replaced")
            raise DisconnectionError()


def init_app(app: Flask, db) -> None:
    """The primary's engine for ``db`` (Flask-SQLAlchemy), its connection hooks, the end
    of each request's transaction and ``RetryReads``; replicas are ``replicas.init_app``'s."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    pooler = app.config.get("DATABASE_POOLER", "none")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        url, app.config.get("SQLALCHEMY_ENGINE_OPTIONS"), pooler
    )
    db.init_app(app)
    if is_sqlite(url):
        with app.app_context():
            engine = db.engine
            event.listen(engine, "connect", _on_sqlite_connect)
            # Fail at start with one sentence if SpatiaLite cannot be loaded.
            with engine.connect():
                pass
    else:
        with app.app_context():
            limit_web_statements(app, db.engine)
            reads_outside_transactions(db.engine)
            drop_hung_up_connections(db.engine)
    _close_sessions_quietly(app, db, reads_end_with_commit=not is_sqlite(url))
    app.wsgi_app = RetryReads(app, app.wsgi_app)


# --- reads outside transactions --------------------------------------------------------
# A statement that only reads runs in autocommit: no BEGIN before it, no COMMIT or
# ROLLBACK after it. Most requests only read (the session's lookup, a list), and they
# cost one round trip per statement instead of two more per request; PostgreSQL starts
# no transaction block for them either. The first statement that writes, locks rows
# (FOR UPDATE), or belongs to a transaction (SET LOCAL, SAVEPOINT, a server-side cursor)
# turns psycopg's transactions back on before it runs: psycopg sends BEGIN, and the rest
# of the SQLAlchemy transaction runs in that block until its COMMIT or ROLLBACK, exactly
# as before. The reads before it are not in its block: under READ COMMITTED, the app's
# isolation, each statement sees its own snapshot whether in a block or not, and what
# must not change before a write is locked first (``lock_row``). A connection given an
# isolation level of its own (execution_options: Alembic's autocommit_block, a REPEATABLE
# READ reader) is left as SQLAlchemy set it; a raw connection (``raw_connection``) goes
# out of the pool with psycopg's transactions on, as psycopg makes it.
#
# A request that only read inside a transaction block (behind PgBouncer, SET LOCAL opens
# one) ends it with COMMIT rather than ROLLBACK: the two mean the same for a block that
# wrote nothing, but psycopg forgets every prepared statement of a connection at a
# ROLLBACK, and the neighbourhood lists cost more to plan than to run (docs/SCALING.md):
# kept prepared (psycopg prepares a statement from its 5th run; generic plans,
# POSTGRES_OPTIONS), they are planned once per connection instead of once per request.
# Anything that may have written still ends with a ROLLBACK unless the view committed it.
WROTE = "peuplade_wrote"
_WRITE_WORDS = (
    "INSERT ", "UPDATE ", "DELETE ", "MERGE ", " FOR UPDATE", " FOR SHARE", " FOR NO KEY",
)  # fmt: skip
# What a statement is, for the two choices above (block or not; COMMIT or ROLLBACK).
_READS = "reads"  # runs outside a block
_SETS = "sets"  # SET LOCAL: needs a block, changes nothing that outlives it
_WRITES = "writes"  # or locks rows, or anything not known to only read


def _statement_kind(statement: str) -> str:
    upper = statement.lstrip().upper()
    if upper.startswith("SET LOCAL "):
        return _SETS
    if upper.startswith(("SELECT", "WITH")) and not any(word in upper for word in _WRITE_WORDS):
        return _READS
    return _WRITES


def _outside_block(dbapi_conn) -> bool:
    """Whether psycopg connection ``dbapi_conn`` is not inside a transaction block."""
    return dbapi_conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def reads_outside_transactions(engine) -> None:
    """Run ``engine``'s reads in autocommit and its writes in transaction blocks (above);
    note on the connection whether its block wrote (``WROTE``)."""

    @event.listens_for(engine, "before_cursor_execute")
    def choose(conn, cursor, statement, _params, context, _many) -> None:
        kind = _statement_kind(statement)
        if kind == _WRITES and not conn.info.get(WROTE):
            conn.info[WROTE] = True
        raw = cursor.connection
        if not _outside_block(raw):
            return  # inside a block: it goes on until its COMMIT or ROLLBACK
        options = context.execution_options if context is not None else {}
        if "isolation_level" in options:
            return  # SQLAlchemy set this connection's mode itself
        server_cursor = options.get("stream_results") or options.get("yield_per")
        autocommit = kind == _READS and not server_cursor
        if raw.autocommit != autocommit:
            raw.autocommit = autocommit

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def forget(conn) -> None:
        if not conn.invalidated:  # an invalidated connection's info is gone with it
            conn.info.pop(WROTE, None)

    @event.listens_for(engine, "checkin")
    def as_psycopg_makes_it(dbapi_conn, _record) -> None:
        if dbapi_conn is not None and dbapi_conn.autocommit and _outside_block(dbapi_conn):
            dbapi_conn.autocommit = False


def _end_reads_with_commit(db) -> None:
    """COMMIT the request's transaction block if one is open and it only read: nothing
    pending in the session (a commit would flush it) and no connection of it ran
    anything that writes. Reads in autocommit leave no block to end."""
    if not db.session.registry.has():
        return
    session = db.session()
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return
    pending = session.new or session.dirty or session.deleted
    if pending or any(conn.info.get(WROTE) for conn in transaction.connections):
        return
    if any(
        not conn.invalidated and not _outside_block(conn.connection.driver_connection)
        for conn in transaction.connections
    ):
        session.commit()


def _close_sessions_quietly(app: Flask, db, reads_end_with_commit: bool) -> None:
    # Runs before Flask-SQLAlchemy's own teardown (registered earlier, run later).
    @app.teardown_appcontext
    def close_session(error) -> None:
        try:
            if error is None and reads_end_with_commit:
                _end_reads_with_commit(db)
            db.session.close()
        except DBAPIError as exc:
            # The server went away after the answer was made (a restart): its rollback
            # failed, the connection is now invalidated and the answer stands.
            if unavailable(exc) is None:
                raise
            log.warning("database connection lost at the end of a request (%s)", LOST)
        finally:
            db.session.close()  # whatever happened above, the connection goes back


def limit_web_statements(app: Flask, engine) -> None:
    """Web requests' statements stop after DATABASE_STATEMENT_TIMEOUT_MS. Directly
    connected, it is set once per connection; behind a transaction-mode pooler, whose
    server connections pass from client to client, it is set per transaction instead
    (SET LOCAL: one more statement per request, nothing left behind)."""
    timeout = int(app.config.get("DATABASE_STATEMENT_TIMEOUT_MS", WEB_STATEMENT_TIMEOUT_MS))
    if not timeout:
        return
    if app.config.get("DATABASE_POOLER", "none") == "none":
        event.listen(engine, "connect", _web_statement_timeout(timeout))
    else:
        event.listen(engine, "begin", _web_transaction_timeout(timeout))


def _web_transaction_timeout(milliseconds: int):
    def on_begin(conn) -> None:
        if has_request_context():
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds:d}")

    return on_begin


def _web_statement_timeout(milliseconds: int):
    def on_connect(dbapi_conn, _record) -> None:
        # Connections opened while serving a request only: a worker's pool is filled by
        # requests, and the command line (migrations, backups) keeps no limit.
        if has_request_context():
            with dbapi_conn.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {milliseconds:d}")
            dbapi_conn.commit()

    return on_connect


# --- the database going away ----------------------------------------------------------

LOST = "connection_lost"  # the connection died under a statement (restart, network)
CONNECT_FAILED = "connect_failed"  # no new connection could be opened
TIMED_OUT = "statement_timeout"  # a statement ran past the web requests' limit
# SQLSTATEs of a server that is shutting down, starting up or crashed (class 57P) or of
# a broken connection (class 08): the database is away, not the request wrong.
_AWAY_STATES = ("57P01", "57P02", "57P03", "57P04", "57P05")


def unavailable(exc: BaseException) -> str | None:
    """Why ``exc`` means the database is away (``LOST``, ``CONNECT_FAILED``,
    ``TIMED_OUT``), or None for any other error (a bug: the 500 page)."""
    if not isinstance(exc, DBAPIError):
        return None
    if exc.connection_invalidated:
        return LOST
    state = getattr(getattr(exc.orig, "diag", None), "sqlstate", None)
    if state == "57014":  # query_canceled: statement_timeout
        return TIMED_OUT
    away = state is None or state.startswith("08") or state in _AWAY_STATES
    if isinstance(exc, OperationalError) and away:
        # No statement: raised while connecting (or at a commit, whose lost connection
        # SQLAlchemy reports as connection_invalidated, above).
        return CONNECT_FAILED if exc.statement is None else LOST
    return None


# A GET or HEAD whose connection was lost runs once more: error_handlers.py puts the reason
# under this key of the WSGI environ when it answers 503.
RETRY_KEY = "peuplade.retry_read"
RETRY_PATH_KEY = "peuplade.retry_path"  # the route of that read, as it may be logged
# Before that second run: a fast restart of PostgreSQL refuses connections for about
# half a second (docs/operations.md, "Fault test").
RETRY_PAUSE_S = 0.5


class RetryReads:
    """WSGI middleware: a read (GET/HEAD without a body) that failed because the
    database connection was lost is run once more, in a fresh app context, before its
    503 is sent. Nothing of the first run reaches the client: its status and headers
    are held until we know it is not retried (Flask gives them before the body)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if not _is_read(environ):
            return self.wsgi_app(environ, start_response)
        held: list = []

        def hold(status, headers, exc_info=None):
            held[:] = [status, headers, exc_info]
            return _no_write

        first = dict(environ)
        with self.app.app_context():  # a fresh g and session for each run
            body = self.wsgi_app(first, hold)
        if not held:
            raise RuntimeError("RetryReads needs the status before the body")
        if first.get(RETRY_KEY):
            if hasattr(body, "close"):
                body.close()
            log.warning(
                "database away (%s): %s %s run once more",
                first[RETRY_KEY],
                environ["REQUEST_METHOD"],
                first.get(RETRY_PATH_KEY, "-"),  # the route: a token in the path stays out
            )
            time.sleep(RETRY_PAUSE_S)
            with self.app.app_context():
                return self.wsgi_app(environ, start_response)
        start_response(*held)
        return body


def _no_write(_data: bytes) -> None:
    raise RuntimeError("RetryReads holds the answer: write() is not supported")


def _is_read(environ) -> bool:
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return False
    # A body could not be read twice.
    return environ.get("CONTENT_LENGTH") in (None, "", "0") and not environ.get(
        "HTTP_TRANSFER_ENCODING"
    )


def _fresh_metadata():
    """A copy of the models' metadata. GeoAlchemy2's create/drop hooks edit the Table
    objects they run on (spatial indexes are removed and re-added per dialect), so
    using a copy keeps the models intact when one process talks to both backends."""
    copy = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def create_schema(engine) -> None:
    """Create every table (tests, benchmarks); deployments use ``flask db upgrade``."""
    _fresh_metadata().create_all(engine)
    extra = (POSTGRES_DDL if engine.dialect.name == "postgresql" else []) + OVERLAP_DDL.get(
        engine.dialect.name, []
    )
    with engine.begin() as conn:
        for statement in extra:
            conn.execute(text(statement))


def drop_schema(engine) -> None:
    _fresh_metadata().drop_all(engine)


# --- the database refusing a write ----------------------------------------------------
#
# Under concurrency the database is the judge: a unique index or an exclusion constraint
# keeps a racing twin out, a foreign key finds its row deleted at the same instant,
# PostgreSQL gives up a transaction it cannot serialise or that deadlocks, a lock is not
# granted in time. Each of those is a normal answer for the member - 409 "someone just
# did that", or 503 "busy, try again" - never a 500. After any of them the session is
# unusable until it is rolled back, and every ORM object in it is expired: whatever
# turns the refusal into an answer (``commit``, ``flush``, the forms' ``submit``, the
# error handlers) rolls back first and builds its message from plain values only (the
# language is ``peuplade.viewer``'s, settled at authentication).

TWIN = "twin"  # 409: a racing twin wrote first (unique index, exclusion constraint)
GONE = "gone"  # 409: the row written about was deleted at the same instant
RETRY = "retry"  # 409: the database gave the transaction up (serialization, deadlock)
BUSY = "busy"  # 503 + Retry-After: a lock was not granted in time

# SQLSTATE -> kind (PostgreSQL).
_REFUSED_STATES = {
    "23505": TWIN,  # unique_violation
    "23P01": TWIN,  # exclusion_violation (loans_no_overlap)
    "23503": GONE,  # foreign_key_violation
    "40001": RETRY,  # serialization_failure
    "40P01": RETRY,  # deadlock_detected
    "55P03": BUSY,  # lock_not_available (lock_timeout)
}
# SQLite says it in words: its unique indexes; the triggers that stand for PostgreSQL's
# exclusion constraints RAISE the constraint's name; foreign keys; "locked" when
# busy_timeout ran out (SQLite's only answer to two writers, serialization included).
SQLITE_TRIGGER_CONSTRAINTS = ("loans_no_overlap",)
_SQLITE_BUSY = ("database is locked", "database table is locked")


@dataclass(frozen=True)
class Refusal:
    kind: str  # TWIN, GONE, RETRY or BUSY
    constraint: str | None  # what fired, when the database names it

    @property
    def status(self) -> int:
        return 503 if self.kind == BUSY else 409


def refusal(exc: BaseException) -> Refusal | None:
    """The database refused a write for a reason that is the member's news, not a bug:
    a ``Refusal``; None for anything else (a lost connection is ``unavailable``)."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return None
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:  # PostgreSQL
        kind = _REFUSED_STATES.get(diag.sqlstate or "")
        return Refusal(kind, diag.constraint_name) if kind else None
    message = str(exc.orig)
    if isinstance(exc, IntegrityError):
        if message.startswith("UNIQUE constraint failed: "):
            return Refusal(TWIN, message.removeprefix("UNIQUE constraint failed: "))
        if message in SQLITE_TRIGGER_CONSTRAINTS:
            return Refusal(TWIN, message)
        if message == "FOREIGN KEY constraint failed":
            return Refusal(GONE, None)
    if isinstance(exc, OperationalError) and message in _SQLITE_BUSY:
        return Refusal(BUSY, None)
    return None


def _session():
    """The app's session (``extensions.db.session``), reached through the app: see the
    module's docstring for why it is not imported."""
    return current_app.extensions["sqlalchemy"].session


def rollback_quietly() -> None:
    """Give the request's session back in a usable state (its transaction, and every
    savepoint in it, undone). A connection that died meanwhile has nothing to undo."""
    with contextlib.suppress(DBAPIError):
        _session().rollback()


def refusal_message(refused: Refusal, twin_message=None):
    """What to tell the member whose write was refused (lazy: translated when shown).
    ``twin_message`` is the caller's words for its own racing twin ("Vous avez déjà
    répondu à cette annonce."); the other refusals have words of their own."""
    if refused.kind == TWIN:
        return twin_message or _l("Cela vient d'être fait : rechargez la page.")
    if refused.kind == GONE:
        return _l("Cela vient d'être supprimé : rechargez la page.")
    if refused.kind == RETRY:
        return _l("Quelqu'un modifiait la même chose au même instant : réessayez.")
    return _l("Peuplade est très occupé en ce moment. Réessayez dans quelques secondes.")


@contextlib.contextmanager
def _refusal_as_conflict(twin_message, deadlock_is_twin: bool = False):
    """The database refusing the write inside is a Conflict for the member, raised after
    a rollback; a busy database, or any other error, goes on to the error handlers.
    ``deadlock_is_twin``: the write's only possible deadlock is with its racing twin."""
    try:
        yield
    except DBAPIError as exc:
        refused = refusal(exc)
        if refused is None or refused.kind == BUSY:
            raise
        rollback_quietly()
        if deadlock_is_twin and refused.kind == RETRY:
            refused = Refusal(TWIN, refused.constraint)
        raise Conflict(refusal_message(refused, twin_message)) from None


def commit(conflict_message=None) -> None:
    """The request's one commit. The database refusing it (two identical requests
    racing, a transaction it could not serialise) is a Conflict for the member, after
    the session was rolled back; ``conflict_message`` says what a racing twin means."""
    with _refusal_as_conflict(conflict_message):
        _session().commit()


def flush(conflict_message=None, deadlock_is_twin: bool = False) -> None:
    """A service's flush where the database may keep a racing twin out (an exclusion
    constraint, a unique index): its refusal is a Conflict, as with :func:`commit`.

    ``deadlock_is_twin``: two twins checked against each other by an exclusion
    constraint can each wait for the other's row; PostgreSQL then aborts one of them
    (a deadlock, after ``deadlock_timeout``) instead of refusing it as a violation. When
    that is the flush's only possible deadlock, the member is told what the twin means
    (``conflict_message``), not "try again"."""
    with _refusal_as_conflict(conflict_message, deadlock_is_twin):
        _session().flush()


def twin_on(refused: Refusal | None, table: str, column: str) -> bool:
    """The refusal is a racing twin at ``table``'s unique ``column`` (PostgreSQL names
    the constraint ``uq_<table>_<column>``, SQLite says ``<table>.<column>``)."""
    return (
        refused is not None
        and refused.kind == TWIN
        and refused.constraint in (f"uq_{table}_{column}", f"{table}.{column}")
    )


def lock_row(model, row_id: int) -> None:
    """Hold ``model``'s row ``row_id`` until the end of the transaction, so that what is
    counted next (places left at an outing, home moves) cannot change before the write.
    PostgreSQL locks the row (SELECT ... FOR UPDATE). SQLite has no row locks and
    ignores FOR UPDATE: the transaction takes the database's write lock at once (BEGIN
    IMMEDIATE, unless a write of this transaction already holds it), so a second
    request waits here (busy_timeout) and counts only after the first committed."""
    session = _session()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # The driver begins a transaction only before its first write: until then,
        # nothing holds the lock and the reads so far saw committed rows only.
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        session.execute(select(model.id).where(model.id == row_id).with_for_update())
