"""While the database is away: a friendly 503 (HTML page or the API's JSON error) with
Retry-After, never a 500; reads whose connection died are run once more; the app comes
back by itself. PostgreSQL only: a real server is stopped (a cluster of the test's own)
or a real connection is cut (pg_terminate_backend on the session's own connection)."""

from __future__ import annotations

import logging

import psycopg
import pytest
from flask import request
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from peuplade import create_app
from peuplade.access import public
from peuplade.database import create_schema
from peuplade.extensions import db
from peuplade.location import LocationInput
from tests.conftest import BATIGNOLLES, PASSWORD, IsolatedClient, _test_config
from tests.throwaway_pg import Cluster

pytestmark = pytest.mark.postgis_only

EMAIL = "gaston.lagaffe@example.org"


def _member(email: str = EMAIL):
    from peuplade.account import services

    member = services.register_member(
        email=email,
        password=PASSWORD,
        display_name="Gaston",
        location=LocationInput(lat=BATIGNOLLES[0], lon=BATIGNOLLES[1]),
        radius_m=1000,
    )
    db.session.commit()
    return member


def _login(client, email: str = EMAIL) -> None:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code


def _token(client, email: str = EMAIL) -> str:
    response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def _exchange_form(title: str) -> dict:
    return {
        "kind": "request",
        "title": title,
        "body": "Du rez-de-chaussée au 3e, sans ascenseur.",
        "category": "demenagement",
        "location": "",
        "reach_m": "1000",
    }


@pytest.fixture(scope="module")
def cluster():
    with Cluster() as pg:
        url = pg.create_database("peuplade")
        app = create_app(_test_config(url))
        with app.app_context():
            create_schema(db.engine)
            db.engine.dispose()
        yield pg, url


def test_database_away_gives_503_pages_and_json_then_recovers(backend, cluster, caplog):
    pg, url = cluster
    app = create_app(_test_config(url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        _member()
    browser, api = app.test_client(), app.test_client()
    _login(browser)
    token = {"Authorization": f"Bearer {_token(api)}"}
    assert browser.get("/").status_code == 200

    pg.stop()
    try:
        caplog.set_level(logging.WARNING)
        page = browser.get("/", headers={"Accept-Language": "fr"})
        assert page.status_code == 503
        assert page.headers["Retry-After"] == "5"
        assert "no-store" in page.headers["Cache-Control"]
        html = page.get_data(as_text=True)
        assert "Peuplade est momentanément indisponible." in html
        assert "Réessayer" in html
        assert "pas été enregistré" not in html  # a read: nothing was sent
        assert "Traceback" not in html and "psycopg" not in html
        assert "Set-Cookie" not in page.headers
        # Still logged in: the installed app keeps the feed it can show (peuplade/pwa).
        assert "Peuplade-Offline" not in page.headers

        english = browser.get("/exchanges", headers={"Accept-Language": "en"})
        assert english.status_code == 503
        assert "Peuplade is temporarily unavailable." in english.get_data(as_text=True)

        sent = browser.post("/exchanges/new", data=_exchange_form("Porter un canapé"))
        assert sent.status_code == 503
        assert sent.headers["Retry-After"] == "5"
        assert "pas été enregistré" in sent.get_data(as_text=True)

        feed = api.get("/api/v1/feed", headers=token)
        assert feed.status_code == 503
        assert feed.headers["Retry-After"] == "5"
        assert feed.get_json()["error"]["code"] == "unavailable"
        assert feed.get_json()["error"]["message"]
        created = api.post(
            "/api/v1/exchanges",
            headers=token,
            json={
                "kind": "request",
                "title": "Tondre",
                "body": "Un petit jardin.",
                "category": "jardinage",
            },
        )
        assert created.status_code == 503
        assert created.get_json()["error"]["code"] == "unavailable"

        assert browser.get("/healthz").status_code == 200
        ready = browser.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json() == {"database": "unavailable", "migrations": "unchecked"}

        warnings = [r for r in caplog.records if r.name == "peuplade.errors"]
        assert warnings and all(r.levelno == logging.WARNING for r in warnings)
        assert "database unavailable (connect_failed" in warnings[0].getMessage()
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert EMAIL not in logged and "Traceback" not in logged
    finally:
        pg.start()

    # The same app, not restarted: the next requests are served again.
    assert browser.get("/").status_code == 200
    assert api.get("/api/v1/feed", headers=token).status_code == 200
    assert browser.post("/exchanges/new", data=_exchange_form("Tondre")).status_code == 302
    with app.app_context():
        db.engine.dispose()


def test_a_write_after_a_restart_the_app_did_not_see_is_served(backend, cluster):
    """The pool's connections died while idle (a restart between two requests): each is
    replaced at checkout (database.drop_hung_up_connections), so even a write, which is
    never run twice, goes through."""
    pg, url = cluster
    app = create_app(_test_config(url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        _member("fantasio@example.org")
    browser = app.test_client()
    _login(browser, "fantasio@example.org")
    assert browser.get("/").status_code == 200  # the pool now holds a live connection

    pg.restart()
    sent = browser.post("/exchanges/new", data=_exchange_form("Réparer un vélo"))
    assert sent.status_code == 302
    with app.app_context():
        db.engine.dispose()


# --- a connection cut under a request, on the suite's own server -----------------------


@pytest.fixture
def cut_app(make_app):
    """An app that, when asked (``app.cut_next = True``), loses the database connection
    of its next request once the member is loaded: the server ends that backend
    (pg_terminate_backend), as a restart or a network failure would."""
    app = make_app()
    app.cut_next = False
    app.runs = []
    server = make_url(app.config["SQLALCHEMY_DATABASE_URI"])

    @app.before_request
    def cut_the_connection():
        app.runs.append(request.method)
        if app.cut_next:
            app.cut_next = False
            backend_pid = db.session.connection().connection.dbapi_connection.info.backend_pid
            with psycopg.connect(
                host=server.host,
                port=server.port,
                user=server.username,
                dbname=server.database,
                autocommit=True,
            ) as conn:
                conn.execute("SELECT pg_terminate_backend(%s, 5000)", [backend_pid])

    return app


def test_a_read_whose_connection_died_is_run_once_more(cut_app, make_member):
    make_member(email=EMAIL)
    browser, api = cut_app.test_client(), cut_app.test_client()
    _login(browser)
    token = {"Authorization": f"Bearer {_token(api)}"}

    cut_app.runs.clear()
    cut_app.cut_next = True
    page = browser.get("/")
    assert page.status_code == 200
    assert cut_app.runs == ["GET", "GET"]  # cut once, then served by a second run

    cut_app.runs.clear()
    cut_app.cut_next = True
    feed = api.get("/api/v1/feed", headers=token)
    assert feed.status_code == 200
    assert cut_app.runs == ["GET", "GET"]


def test_a_write_whose_connection_died_is_not_run_twice(cut_app, make_member):
    from peuplade.models import Exchange

    make_member(email=EMAIL)
    browser = cut_app.test_client()
    _login(browser)

    cut_app.runs.clear()
    cut_app.cut_next = True
    sent = browser.post("/exchanges/new", data=_exchange_form("Monter une armoire"))
    assert sent.status_code == 503
    assert sent.headers["Retry-After"] == "5"
    assert "pas été enregistré" in sent.get_data(as_text=True)
    assert cut_app.runs == ["POST"]  # not run again
    assert db.session.scalar(select(func.count()).select_from(Exchange)) == 0

    # The next request finds a working connection again.
    assert browser.post("/exchanges/new", data=_exchange_form("Monter")).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Exchange)) == 1


def test_web_requests_have_a_statement_timeout(make_app):
    app = make_app(DATABASE_STATEMENT_TIMEOUT_MS=200)

    @app.route("/test/slow")
    @public
    def slow():
        db.session.execute(text("SELECT pg_sleep(3)"))
        return "done"

    @app.route("/test/timeout")
    @public
    def timeout():
        return db.session.execute(text("SHOW statement_timeout")).scalar_one()

    with app.app_context():
        db.engine.dispose()  # the pool's connections were opened outside a request
    client = app.test_client()
    assert client.get("/test/timeout").get_data(as_text=True) == "200ms"
    slow_page = client.get("/test/slow")
    assert slow_page.status_code == 503
    assert slow_page.headers["Retry-After"] == "5"
    # Outside a request (command line: migrations, backups) there is no limit.
    with app.app_context():
        db.engine.dispose()
        assert db.session.execute(text("SHOW statement_timeout")).scalar_one() == "0"
        db.session.rollback()
