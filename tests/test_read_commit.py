"""How a request's statements meet PostgreSQL's transactions (peuplade/database.py).

Reads run in autocommit: a request that only read sends its SELECTs and nothing else,
no BEGIN, COMMIT or ROLLBACK (one round trip per statement). The first statement that
writes, locks or belongs to a transaction opens a block (psycopg's BEGIN) that lasts
until the request commits or rolls back: anything that wrote and was not committed by
the view still ends with a ROLLBACK, and nothing it wrote is kept. psycopg keeps the
connection's prepared statements from one request to the next (it forgets them all at
a ROLLBACK, and a read-only request sends none).

What the connection sends is read from libpq's own trace of the protocol.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import event, select, text

from peuplade.access import public
from peuplade.database import lock_row
from peuplade.extensions import db
from peuplade.models import Member
from tests.helpers.browsers import as_member
from tests.test_exchanges_html import street as street  # the fixture
from tests.test_query_counts import _ping_app

pytestmark = pytest.mark.postgis_only

# One message per record; a statement's text may hold newlines of its own.
RECORD = re.compile(r"^(?=[FB]\t\d+\t)", re.MULTILINE)
QUERY = re.compile(r'^F\t\d+\tQuery\t "(?P<sql>.*)"\s*$', re.DOTALL)
PARSE = re.compile(r'^F\t\d+\tParse\t "[^"]*" "(?P<sql>.*)" \d+(?: \w+)*\s*$', re.DOTALL)
READY = re.compile(r"^B\t\d+\tReadyForQuery\t")
BLOCK_COMMANDS = ("BEGIN", "COMMIT", "ROLLBACK")


class Trace:
    """libpq's trace of every connection the app's pool hands out, written to a file."""

    def __init__(self, engine, path: Path):
        self.path = path
        self._file = path.open("w")
        self._read_up_to = 0
        event.listen(engine, "checkout", self._start)
        event.listen(engine, "checkin", self._stop)

    def _start(self, dbapi_conn, _record, _proxy) -> None:
        dbapi_conn.pgconn.trace(self._file.fileno())
        dbapi_conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def _stop(self, dbapi_conn, _record) -> None:
        if dbapi_conn is not None:
            dbapi_conn.pgconn.untrace()  # flushes libpq's buffer into the file

    def read(self) -> tuple[list[str], int]:
        """What was sent (simple queries, and the text of extended ones) and how many
        round trips (ReadyForQuery answers) it took, since the last read."""
        with self.path.open() as trace:
            trace.seek(self._read_up_to)
            records = RECORD.split(trace.read())
            self._read_up_to = trace.tell()
        sent = []
        for record in records:
            found = QUERY.match(record) or PARSE.match(record)
            if found:
                sent.append(found["sql"])
        trips = sum(1 for record in records if READY.match(record))
        return sent, trips


def _commands(sent: list[str]) -> list[str]:
    return [sql for sql in sent if sql in BLOCK_COMMANDS]


def _sent_by(app, trace: Trace, path: str) -> tuple[str, list[str], int]:
    """GET ``path``: its page, and what its request sent (``Trace.read``)."""
    trace.read()  # what came before is not this request's
    page = app.test_client().get(path).text
    return (page, *trace.read())


def _opened_just_before(sent: list[str], statement: Callable[[str], bool]) -> bool:
    """Whether the first of ``sent`` that ``statement`` matches came right after a BEGIN."""
    at = next(i for i, sql in enumerate(sent) if statement(sql))
    return sent[at - 1] == "BEGIN"


@pytest.fixture
def ends(backend, make_app, tmp_path):
    """An app with probe views that do not commit, the list of how SQLAlchemy ended each
    request's transaction ("commit" / "rollback"), and the protocol trace."""
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

    @app.get("/probe/write-then-read/<int:member_id>")
    @public
    def write_then_read(member_id: int):
        db.session.get(Member, member_id).display_name = "Écrite"
        db.session.commit()
        return db.session.scalar(select(Member.display_name).where(Member.id == member_id))

    @app.get("/probe/lock/<int:member_id>")
    @public
    def lock(member_id: int):
        lock_row(Member, member_id)
        return "locked"

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
        trace = Trace(db.engine, tmp_path / "libpq.trace")
    return app, seen, trace


def _name(app, member_id: int) -> str:
    with app.app_context():
        return db.session.get(Member, member_id).display_name


def test_a_request_that_only_read_sends_its_reads_and_nothing_else(ends, make_member):
    app, _seen, trace = ends
    member = make_member("Lectrice")
    page, sent, trips = _sent_by(app, trace, f"/probe/read/{member.id}")
    assert page == "Lectrice"
    assert len(sent) == 1 and sent[0].startswith("SELECT")
    assert _commands(sent) == []
    assert trips == 1


def test_a_members_trivial_page_is_one_round_trip(app, street, tmp_path):
    """The fixed cost of every logged-in page: the session and its member, one
    statement, one round trip (the session was just touched: nothing to write)."""
    browser = as_member(_ping_app(app), street["alice"])
    with app.app_context():
        trace = Trace(db.engine, tmp_path / "libpq.trace")
    assert browser.get("/test/ping").text == "ok"
    sent, trips = trace.read()
    assert len(sent) == 1 and "FROM member_sessions" in sent[0]
    assert trips == 1


@pytest.mark.parametrize("probe", ["orm-write", "sql-write"])
def test_a_request_that_wrote_without_committing_keeps_nothing(ends, make_member, probe):
    app, seen, trace = ends
    member = make_member("Lectrice")
    seen.clear()
    page, sent, _trips = _sent_by(app, trace, f"/probe/{probe}/{member.id}")
    assert page == {"orm-write": "flushed", "sql-write": "updated"}[probe]
    # The block opens just before the write, and is rolled back.
    assert _opened_just_before(sent, lambda sql: sql.startswith("UPDATE"))
    assert _commands(sent) == ["BEGIN", "ROLLBACK"]
    assert seen == ["rollback"]
    assert _name(app, member.id) == "Lectrice"


def test_reads_after_a_commit_run_outside_a_block_again(ends, make_member):
    app, _seen, trace = ends
    member = make_member("Lectrice")
    page, sent, _trips = _sent_by(app, trace, f"/probe/write-then-read/{member.id}")
    assert page == "Écrite"
    assert _commands(sent) == ["BEGIN", "COMMIT"]
    assert sent[-1].startswith("SELECT")  # after the COMMIT, on its own
    assert _name(app, member.id) == "Écrite"


def test_a_row_lock_opens_the_block_and_holds_until_the_request_ends(ends, make_member):
    app, _seen, trace = ends
    member = make_member("Verrouillée")
    page, sent, _trips = _sent_by(app, trace, f"/probe/lock/{member.id}")
    assert page == "locked"
    assert _opened_just_before(sent, lambda sql: "FOR UPDATE" in sql)
    assert sent[-1] in ("COMMIT", "ROLLBACK")


def test_a_transaction_setting_runs_inside_a_block(app):
    """SET LOCAL outside a block would change nothing (PostgreSQL warns and drops it):
    the health checks' statement limit depends on it."""
    with app.app_context(), db.engine.connect() as conn:
        conn.exec_driver_sql("SET LOCAL statement_timeout = 1234")
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "1234ms"


def test_a_repeatable_read_connection_keeps_one_snapshot(app, make_member):
    """A connection given an isolation level of its own is left in SQLAlchemy's hands:
    its reads share one block, so they see one snapshot."""
    member = make_member("Avant")
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg", "postgresql")
    with app.app_context():
        engine = db.engine
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            query = select(Member.display_name).where(Member.id == member.id)
            assert conn.scalar(query) == "Avant"

            def rename() -> None:
                with psycopg.connect(url) as other:
                    other.execute(
                        "UPDATE members SET display_name = 'Après' WHERE id = %s", (member.id,)
                    )

            writer = threading.Thread(target=rename)
            writer.start()
            writer.join()
            assert conn.scalar(query) == "Avant"
        assert _name(app, member.id) == "Après"


def test_prepared_statements_outlive_a_read_request(ends):
    app, _seen, _trace = ends
    client = app.test_client()
    assert int(client.get("/probe/prepared").text) >= 1
    # The next request gets the same pooled connection (one client, one thread), with
    # the statements it prepared still there.
    assert int(client.get("/probe/prepared").text) >= 1
    with app.app_context():
        conn = db.session.connection()
        assert conn.scalar(text("SELECT count(*) FROM pg_prepared_statements")) >= 1


def test_a_raw_connection_leaves_the_pool_with_transactions_on(app):
    """Code that takes the driver's connection (bulk loads) gets psycopg's own mode,
    whatever the pooled connection's last request ran."""
    with app.app_context():
        with db.engine.connect() as conn:
            conn.execute(select(Member.id).limit(1)).all()
        raw = db.engine.raw_connection()
        try:
            assert raw.driver_connection.autocommit is False
        finally:
            raw.close()
