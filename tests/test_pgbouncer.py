"""The app behind a real PgBouncer in transaction mode (Debian's ``pgbouncer``,
installed by .ci/run): ``DATABASE_POOLER=pgbouncer`` makes it work, with no session
state left on the shared server connections. PgBouncer runs as a process of the test,
on a free port with an ini file of its own, in front of a cluster of the test's own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import psycopg
import pytest
from sqlalchemy import func, select

from peuplade import create_app
from peuplade.access import public
from peuplade.database import create_schema
from peuplade.extensions import db
from tests.conftest import _test_config
from tests.helpers.servers import free_port
from tests.test_replicas import _browser, _member, _post, _titles
from tests.throwaway_pg import Cluster

pytestmark = pytest.mark.postgis_only

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


@pytest.fixture(scope="module")
def bouncer():
    """(cluster, PgBouncer's URL of the database): two server connections at most, so
    every request's transaction may land on a connection another client used."""
    if not os.path.exists(PGBOUNCER):
        pytest.fail("pgbouncer is not installed: apt-get install pgbouncer (see .ci/run)")
    with Cluster() as pg:
        pg.create_database("peuplade")
        port = free_port()
        ini = pg.folder / "pgbouncer.ini"
        (pg.folder / "users.txt").write_text('"postgres" ""\n')
        ini.write_text(
            "[databases]\n"
            f"peuplade = host=127.0.0.1 port={pg.port} dbname=peuplade\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
            f"unix_socket_dir = {pg.folder}\n"
            "auth_type = trust\n"
            f"auth_file = {pg.folder / 'users.txt'}\n"
            "pool_mode = transaction\n"
            "default_pool_size = 2\nmax_client_conn = 100\n"
            f"logfile = {pg.folder / 'pgbouncer.log'}\n"
            f"pidfile = {pg.folder / 'pgbouncer.pid'}\n"
        )
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if as_postgres:  # PgBouncer refuses to run as root
            for path in pg.folder.iterdir():
                if path.is_file():
                    shutil.chown(path, "postgres")
        process = subprocess.Popen(
            [*as_postgres, PGBOUNCER, str(ini)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for_port(port)
            url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/peuplade"
            app = create_app(_test_config(url, DATABASE_POOLER="pgbouncer"))
            with app.app_context():
                create_schema(db.engine)
                db.engine.dispose()
            yield pg, url
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError("PgBouncer did not start")


def _app(url: str, **overrides):
    from tests.conftest import IsolatedClient

    app = create_app(_test_config(url, **overrides))
    app.test_client_class = IsolatedClient

    @app.route("/test/statement-timeout")
    @public
    def statement_timeout():
        return db.session.scalar(select(func.current_setting("statement_timeout")))

    return app


def test_pages_work_through_pgbouncer_in_transaction_mode(backend, bouncer):
    _pg, url = bouncer
    app = _app(url, DATABASE_POOLER="pgbouncer")
    _member(app, "Alice", "alice@example.org")
    _member(app, "Bruno", "bruno@example.org")
    alice = _browser(app, "alice@example.org")
    bruno = _browser(app, "bruno@example.org")
    # Writes and reads, each transaction moved from one server connection to the other
    # by another client that holds one every other time. (psycopg forgets its prepared
    # statements at each ROLLBACK, which the pool sends when a request ends: they
    # could only go astray within a request; prepare_threshold=None rules it out.)
    titles = []
    with psycopg.connect(
        host="127.0.0.1", port=_port(url), user="postgres", dbname="peuplade"
    ) as other:
        for n in range(10):
            if n % 2:
                other.execute("SELECT 1")  # a transaction left open: its connection is taken
            titles.insert(0, f"Annonce {n}")
            _post(alice, titles[0])
            assert _titles(bruno) == titles
            other.rollback()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def test_no_session_state_is_left_on_pgbouncer_connections(backend, bouncer):
    _pg, url = bouncer
    app = _app(url, DATABASE_POOLER="pgbouncer", DATABASE_STATEMENT_TIMEOUT_MS=1234)
    client = app.test_client()
    for _ in range(4):  # the web requests' limit holds inside their own transaction...
        response = client.get("/test/statement-timeout")
        assert response.get_data(as_text=True) == "1234ms"
    for _ in range(4):  # ...and nothing of it is left for the next client
        with psycopg.connect(
            host="127.0.0.1", port=_port(url), user="postgres", dbname="peuplade"
        ) as c:
            assert c.execute("SHOW statement_timeout").fetchone()[0] == "0"


def test_startup_options_are_not_sent_to_pgbouncer(backend, bouncer):
    """PgBouncer refuses libpq's ``options`` (jit=off ...): set them on the role."""
    _pg, url = bouncer
    app = _app(url, DATABASE_POOLER="pgbouncer")
    assert app.test_client().get("/readyz").get_json()["database"] == "ok"
