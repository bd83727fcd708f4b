"""Read replicas on PostgreSQL's own streaming replication (peuplade/replicas.py).

A real primary and a real standby on loopback: clusters of the test's own, the standby
made with ``pg_basebackup -R`` from the primary once it is migrated (PostGIS and the
schema come over by replication). Which server answered is read from each server's own
``pg_stat_statements`` (loaded on both), and from what members see while the standby's
replay is paused (``pg_wal_replay_pause()``): a read served by the replica lacks the
newest post.
"""

from __future__ import annotations

import logging
import re

import pytest

from peuplade import create_app, migrating
from peuplade.config import ConfigError, load_config
from peuplade.extensions import db
from peuplade.location import LocationInput
from tests.conftest import BATIGNOLLES, CLICHY, PASSWORD, IsolatedClient, _test_config
from tests.test_db_down import _exchange_form
from tests.throwaway_pg import Cluster

pytestmark = pytest.mark.postgis_only

SETTINGS = {"shared_preload_libraries": "pg_stat_statements", "hot_standby_feedback": "on"}
CARD_TITLE = re.compile(r'<h3><a href="/[a-z]+/\d+">([^<]*)</a>')
# Reads of the posts table, as pg_stat_statements names them (normalised, lower case).
POST_READS = (
    "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s"
    " JOIN pg_database d ON d.oid = s.dbid"
    " WHERE d.datname = 'peuplade' AND s.query ~* '^\\s*(select|with)' AND s.query LIKE '%posts%'"
)


@pytest.fixture(scope="module")
def servers():
    with Cluster(SETTINGS) as primary:
        url = primary.create_database("peuplade")
        with primary.connect("peuplade", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        app = create_app(_test_config(url))
        logging.getLogger("alembic").setLevel(logging.WARNING)
        with app.app_context():
            migrating.upgrade()
            db.engine.dispose()
        with Cluster(SETTINGS, primary=primary) as replica:
            replica.wait_replayed()
            yield primary, replica, url, replica.url("peuplade")


def _app(servers, replicas: bool = True, **overrides):
    _primary, _replica, url, replica_url = servers
    config = {"DATABASE_REPLICA_URLS": [replica_url] if replicas else [], **overrides}
    app = create_app(_test_config(url, **config))
    app.test_client_class = IsolatedClient
    return app


def _member(app, name: str, email: str, at=BATIGNOLLES):
    from peuplade.account import services

    with app.app_context():
        member = services.register_member(
            email=email,
            password=PASSWORD,
            display_name=name,
            location=LocationInput(lat=at[0], lon=at[1]),
            radius_m=1000,
        )
        db.session.commit()
        return member.id


def _browser(app, email: str):
    browser = app.test_client()
    response = browser.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return browser


def _token(app, email: str) -> dict:
    response = app.test_client().post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _titles(browser, path: str = "/timeline") -> list[str]:
    response = browser.get(path)
    assert response.status_code == 200, response.status_code
    return CARD_TITLE.findall(response.get_data(as_text=True))


def _api_titles(client, headers) -> list[str]:
    response = client.get("/api/v1/feed", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["title"] for item in response.get_json()["items"]]


def _post(browser, title: str) -> None:
    response = browser.post("/exchanges/new", data=_exchange_form(title))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


LOGIN_READS = (
    "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s"
    " JOIN pg_database d ON d.oid = s.dbid"
    " WHERE d.datname = 'peuplade' AND s.query ~* '^\\s*select'"
    " AND (s.query LIKE '%FROM member_sessions%' OR s.query LIKE '%FROM api_tokens%')"
)


def _login_reads(cluster) -> int:
    with cluster.connect("peuplade", autocommit=True) as conn:
        return int(conn.execute(LOGIN_READS).fetchone()[0])


def _post_reads(cluster) -> int:
    with cluster.connect("peuplade", autocommit=True) as conn:
        return int(conn.execute(POST_READS).fetchone()[0])


def _empty(servers) -> None:
    primary, replica, _url, _replica_url = servers
    with primary.connect("peuplade", autocommit=True) as conn:
        conn.execute("TRUNCATE members, posts CASCADE")
    replica.wait_replayed()


@pytest.fixture
def street(servers):
    """Alice and Bruno, neighbours, known to the replica; everything emptied after."""
    _primary, replica, _url, _replica_url = servers
    app = _app(servers)
    _member(app, "Alice", "alice@example.org")
    _member(app, "Bruno", "bruno@example.org", at=CLICHY)
    replica.wait_replayed()
    yield app
    replica.resume_replay()
    _empty(servers)


def test_lists_timeline_and_map_are_read_from_the_replica(backend, servers, street):
    primary, replica, _url, _replica_url = servers
    alice = _browser(street, "alice@example.org")
    _post(alice, "Porter un canapé")
    token = _token(street, "bruno@example.org")
    replica.wait_replayed()
    bruno = _browser(street, "bruno@example.org")
    api = street.test_client()
    before = _post_reads(primary), _post_reads(replica)
    assert _titles(bruno) == ["Porter un canapé"]
    assert _titles(bruno, "/exchanges") == ["Porter un canapé"]
    assert bruno.get("/map").status_code == 200
    assert _api_titles(api, token) == ["Porter un canapé"]
    after = _post_reads(primary), _post_reads(replica)
    assert after[1] - before[1] >= 4, (before, after)  # each page read posts there...
    assert after[0] == before[0], (before, after)  # ...and none on the primary


def test_sessions_and_tokens_are_read_on_the_primary_with_their_member(backend, servers, street):
    """A session (with its member, one statement) and a bearer token are read on the
    primary, never the replica, while the page's lists are: a logout, a ban or a revoked
    token takes effect at once on every app server."""
    primary, replica, _url, _replica_url = servers
    token = _token(street, "bruno@example.org")
    bruno = _browser(street, "bruno@example.org")
    replica.wait_replayed()
    before = _login_reads(primary), _login_reads(replica), _post_reads(replica)
    for _ in range(3):
        _titles(bruno)
        _api_titles(street.test_client(), token)
    after = _login_reads(primary), _login_reads(replica), _post_reads(replica)
    assert after[0] - before[0] >= 6, (before, after)  # a session or token per request
    assert after[1] == before[1], (before, after)  # none on the replica...
    assert after[2] - before[2] >= 6, (before, after)  # ...which served the lists


def test_no_replica_configured_reads_everything_from_the_primary(backend, servers, street):
    primary, replica, _url, _replica_url = servers
    app = _app(servers, replicas=False)
    bruno = _browser(app, "bruno@example.org")
    before = _post_reads(primary), _post_reads(replica)
    _titles(bruno)
    _titles(bruno, "/exchanges")
    after = _post_reads(primary), _post_reads(replica)
    assert after[1] == before[1] and after[0] > before[0], (before, after)
    assert app.test_client().get("/readyz").get_json() == {
        "database": "ok",
        "migrations": "head",
    }


def test_members_see_their_own_writes_at_once_on_every_app_server(backend, servers, street):
    """Replay paused (a replica behind, though within REPLICA_MAX_LAG_S): the author's
    next pages, on this app server or another one, come from the primary; a neighbour's
    come from the replica until it catches up."""
    _primary, replica, _url, _replica_url = servers
    app = _app(servers, REPLICA_MAX_LAG_S=3600)
    other_server = _app(servers, REPLICA_MAX_LAG_S=3600)
    alice = _browser(app, "alice@example.org")
    bruno = _browser(app, "bruno@example.org")
    alice_token, bruno_token = _token(app, "alice@example.org"), _token(app, "bruno@example.org")
    replica.wait_replayed()
    replica.pause_replay()

    _post(alice, "Porter un canapé")
    assert _titles(alice, "/exchanges/mine") == ["Porter un canapé"]
    # Another app server: the cookie says when Alice last wrote, not this process.
    elsewhere = other_server.test_client()
    elsewhere.set_cookie("peuplade", alice.get_cookie("peuplade").value)
    assert _titles(elsewhere, "/exchanges/mine") == ["Porter un canapé"]
    assert _titles(bruno) == []  # the replica has not replayed it yet

    api = app.test_client()
    created = api.post(
        "/api/v1/exchanges",
        headers=alice_token,
        json={
            "kind": "offer",
            "title": "Prêter une perceuse",
            "body": "Avec ses mèches.",
            "category": "bricolage",
        },
    )
    assert created.status_code == 201, created.get_json()
    path = f"/api/v1/exchanges/{created.get_json()['id']}"
    assert api.get(path, headers=alice_token).status_code == 200
    assert api.get(path, headers=bruno_token).status_code == 404  # not replayed yet
    assert _api_titles(api, bruno_token) == []

    replica.resume_replay()
    replica.wait_replayed()
    assert _titles(bruno) == ["Prêter une perceuse", "Porter un canapé"]


def test_a_replica_lagging_beyond_the_limit_is_skipped(backend, servers, street):
    _primary, replica, _url, _replica_url = servers
    app = _app(servers, REPLICA_MAX_LAG_S=0.2, REPLICA_CHECK_S=0)
    bruno = _browser(app, "bruno@example.org")
    assert app.test_client().get("/readyz").get_json()["replicas"] == {"replica-1": "ok"}
    replica.pause_replay()
    _post(_browser(app, "alice@example.org"), "Porter un canapé")
    _wait_lag_above(replica, 0.2)

    before = _post_reads(replica)
    assert _titles(bruno) == ["Porter un canapé"]  # from the primary
    assert _post_reads(replica) == before
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["replicas"] == {"replica-1": "lagging"}

    replica.resume_replay()
    replica.wait_replayed()
    assert app.test_client().get("/readyz").get_json()["replicas"] == {"replica-1": "ok"}
    assert _titles(bruno) == ["Porter un canapé"]
    assert _post_reads(replica) > before  # back on the replica


def test_stopping_the_replica_changes_nothing_members_see(backend, servers, street, caplog):
    _primary, replica, _url, _replica_url = servers
    app = _app(servers)
    _post(_browser(app, "alice@example.org"), "Porter un canapé")
    replica.wait_replayed()
    bruno = _browser(app, "bruno@example.org")
    token = _token(app, "bruno@example.org")
    api = app.test_client()
    before = _post_reads(replica)
    page, feed = _titles(bruno), _api_titles(api, token)
    assert page == feed == ["Porter un canapé"]
    assert _post_reads(replica) > before  # served by the replica, whose pool is now warm

    replica.stop()
    try:
        with caplog.at_level(logging.WARNING):
            assert _titles(bruno) == page
            assert _titles(bruno, "/exchanges") == page
            assert bruno.get("/map").status_code == 200
            assert _api_titles(api, token) == feed
            ready = app.test_client().get("/readyz")
        assert ready.status_code == 200
        assert ready.get_json() == {
            "database": "ok",
            "migrations": "head",
            "replicas": {"replica-1": "unavailable"},
        }
        # Not even a second run of a request: the replica was left out before use.
        assert not [r for r in caplog.records if "run once more" in r.getMessage()]
        assert not [r for r in caplog.records if "database unavailable" in r.getMessage()]
    finally:
        replica.start()
        replica.wait_replayed()


def _wait_lag_above(replica, seconds: float) -> None:
    import time

    deadline = time.monotonic() + 30
    with replica.connect(autocommit=True) as conn:
        while time.monotonic() < deadline:
            lag = conn.execute(
                "SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
            ).fetchone()[0]
            if lag is not None and float(lag) > seconds:
                return
            time.sleep(0.05)
    raise TimeoutError("the paused replica never fell behind")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_REPLICA_URLS": "postgresql://db2/peuplade"},
            "DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL",
        ),
        (
            {
                "DATABASE_URL": "postgresql://db1/peuplade",
                "DATABASE_REPLICA_URLS": "postgresql://db2/p, mysql://db3/p",
            },
            "replica 2 is not a postgresql:// URL",
        ),
        (
            {"DATABASE_URL": "postgresql://db1/peuplade", "REPLICA_MAX_LAG_S": "soon"},
            "REPLICA_MAX_LAG_S must be a positive number",
        ),
        ({"DATABASE_POOLER": "pgpool"}, "DATABASE_POOLER must be one of"),
    ],
)
def test_replica_settings_are_checked(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path), env)


def test_replica_urls_are_read_from_a_list(tmp_path):
    config = load_config(
        str(tmp_path),
        {
            "DATABASE_URL": "postgresql://db1/peuplade",
            "DATABASE_REPLICA_URLS": "postgres://db2/p,postgresql://db3/p  postgresql://db4/p",
        },
    )
    assert config["DATABASE_REPLICA_URLS"] == [
        "postgresql+psycopg://db2/p",
        "postgresql+psycopg://db3/p",
        "postgresql+psycopg://db4/p",
    ]
    assert load_config(str(tmp_path), {})["DATABASE_REPLICA_URLS"] == []


def test_readyz_does_not_wait_for_a_replica_that_never_answers(backend, servers):
    """A replica whose packets are dropped would hold a probe until the connect timeout:
    /readyz answers without it (its last known state), from the primary's checks."""
    import socket
    import threading

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_say_nothing() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                continue

    listener = threading.Thread(target=accept_and_say_nothing, daemon=True)
    listener.start()
    try:
        _primary, _replica, url, _replica_url = servers
        port = silent.getsockname()[1]
        config = {"DATABASE_REPLICA_URLS": [f"postgresql+psycopg://postgres@127.0.0.1:{port}/x"]}
        app = create_app(_test_config(url, **config))
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 200
        assert ready.get_json()["replicas"] == {"replica-1": "unchecked"}
    finally:
        stop.set()
        listener.join()
        for conn in held:
            conn.close()
        silent.close()
