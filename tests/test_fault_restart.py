"""PostgreSQL restarted under load: nothing acknowledged is lost, the requests caught by
the restart get a 503 (never a 500 or a traceback), and the site serves normally again
2 s after the database accepts connections.

gunicorn (2 workers, ``wsgi:app``) on loopback against a PostgreSQL cluster of the
test's own (never the shared server), migrated with the project's migrations. Logged-in
members post exchanges (pages and API), write messages and read the timeline while
``pg_ctl restart -m fast`` runs in the middle. The figures are printed (and recorded in
docs/operations.md, "Fault test"). About 25 s of wall time.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest

from peuplade import create_app, migrating
from peuplade.config import ROOT
from peuplade.extensions import db
from peuplade.location import LocationInput
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, PASSWORD, _test_config
from tests.helpers.servers import free_port
from tests.throwaway_pg import Cluster

pytestmark = pytest.mark.postgis_only

LOAD_BEFORE_S = 6  # traffic before the restart
LOAD_AFTER_S = 8  # traffic after the database accepts connections again
CALM_AFTER_S = 2  # from then on, every request must succeed
MARKER = re.compile(r"^(panne|mot|api)-[0-9a-f]{16}$")


@dataclass
class Outcome:
    started: float
    ended: float
    action: str
    status: int | str  # an HTTP status, or the name of the client's exception
    write: bool
    marker: str | None
    body: str

    @property
    def ok(self) -> bool:
        return isinstance(self.status, int) and 200 <= self.status < 400


class Browser:
    """A member's browser: one cookie jar, a fresh connection per request (gunicorn's
    sync workers close them)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def send(self, method: str, path: str, form=None, json_body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode({**form, "csrf_token": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body)
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in cookie and "1970" not in cookie:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response.status, response.headers, text

    def log_in(self, email: str) -> None:
        self.csrf = _csrf(self.send("GET", "/login")[2])
        status, headers, _ = self.send(
            "POST", "/login", form={"email": email, "password": PASSWORD}
        )
        assert status == 302 and not headers["Location"].endswith("/login"), status
        # The session starts afresh at login: its form token too.
        self.csrf = _csrf(self.send("GET", "/exchanges/new")[2])


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert found, "no CSRF token in the page"
    return found.group(1)


def _marker(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


# --- what each member does, over and over -----------------------------------------------


def post_exchange(browser: Browser):
    marker = _marker("panne")
    form = {
        "kind": "request",
        "title": marker,
        "body": f"Besoin d'un coup de main ({marker}).",
        "category": "bricolage",
        "location": "",
        "reach_m": "1000",
    }
    status, headers, body = browser.send("POST", "/exchanges/new", form=form)
    # Published: to the new exchange's page (a redirect to /login would not be).
    if status == 302 and not re.search(r"/exchanges/\d+$", headers["Location"]):
        status = f"302 to {headers['Location']}"
    return status, body, marker


def write_message(browser: Browser, conversation_id: int):
    marker = _marker("mot")
    path = f"/messages/{conversation_id}"
    status, headers, body = browser.send("POST", path, form={"message": marker})
    if status == 302 and path not in headers["Location"]:
        status = f"302 to {headers['Location']}"
    return status, body, marker


def read_timeline(browser: Browser):
    status, _, body = browser.send("GET", "/")
    return status, body, None


def api_post(browser: Browser, token: str):
    marker = _marker("api")
    exchange = {
        "kind": "offer",
        "title": marker,
        "body": f"Je prête ma perceuse ({marker}).",
        "category": "bricolage",
    }
    status, _, body = browser.send(
        "POST",
        "/api/v1/exchanges",
        json_body=exchange,
        headers={"Authorization": f"Bearer {token}"},
    )
    return status, body, marker


def api_feed(browser: Browser, token: str):
    status, _, body = browser.send(
        "GET", "/api/v1/feed", headers={"Authorization": f"Bearer {token}"}
    )
    return status, body, None


def _loop(action: str, steps, stop: threading.Event, outcomes: list[Outcome]) -> None:
    turn = 0
    while not stop.is_set():
        step, write = steps[turn % len(steps)]
        turn += 1
        started = time.monotonic()
        try:
            status, body, marker = step()
        except Exception as exc:  # noqa: BLE001 - a refused or cut connection is a figure
            status, body, marker = type(exc).__name__, "", None
        outcomes.append(Outcome(started, time.monotonic(), action, status, write, marker, body))


# --- the database's own view of the restart ---------------------------------------------


class Watcher(threading.Thread):
    """Connects every 20 ms: when the database stopped accepting connections, and when
    it accepted them again."""

    def __init__(self, cluster: Cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.down: float | None = None
        self.up: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                with self.cluster.connect("peuplade", connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                if self.down is not None and self.up is None:
                    self.up = time.monotonic()
                    return
            except psycopg.OperationalError:
                if self.down is None:
                    self.down = time.monotonic()
            time.sleep(0.02)


# --- set-up ---------------------------------------------------------------------------


def _prepare(url: str) -> dict:
    """Migrate the database with the project's migrations, add three neighbours and a
    conversation; returns their emails and the conversation's id."""
    from peuplade.account import services as accounts
    from peuplade.messages import services as messages

    app = create_app(_test_config(url))
    with app.app_context():
        migrating.upgrade()
        people = []
        for n, at in enumerate((BATIGNOLLES, CLICHY, DAMES_LEMERCIER), start=1):
            people.append(
                accounts.register_member(
                    email=f"panne{n}@example.org",
                    password=PASSWORD,
                    display_name=f"Voisin {n}",
                    location=LocationInput(lat=at[0], lon=at[1]),
                    radius_m=2000,
                )
            )
        db.session.flush()
        conversation = messages.start(people[1], people[0], "Bonjour !")
        db.session.commit()
        prepared = {"emails": [m.email for m in people], "conversation": conversation.id}
        db.engine.dispose()
    return prepared


def _gunicorn(url: str, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PEUPLADE_ENV": "development",
        "SECRET_KEY": "fault-test-" + uuid.uuid4().hex,  # one key for both workers
        "GEOCODER": "offline",
        "MAIL_BACKEND": "log",
        "RATELIMIT_ENABLED": "0",
        "NEW_ACCOUNT_POSTS_PER_DAY": "1000000",
        "NEW_ACCOUNT_MESSAGES_PER_HOUR": "1000000",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "gunicorn", "--workers", "2"]
    command += ["--bind", f"127.0.0.1:{port}", "--timeout", "30", "wsgi:app"]
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen) -> None:
    """Our gunicorn, by its PID: SIGTERM (graceful), then SIGKILL to its own group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _wait_until_served(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn stopped at start-up"
        try:
            if Browser(port).send("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("gunicorn did not answer /healthz within 20 s")


# --- the test ----------------------------------------------------------------------------


def test_postgresql_restart_under_load(backend, tmp_path, capsys):
    outcomes: list[Outcome] = []
    with Cluster() as pg:
        url = pg.create_database("peuplade")
        prepared = _prepare(url)
        port = free_port()
        log = tmp_path / "gunicorn.log"
        server = _gunicorn(url, port, log)
        try:
            _wait_until_served(port, server)
            probe = Browser(port)
            assert probe.send("GET", "/readyz")[0] == 200  # migrated: at head

            writer, messenger, reader = (Browser(port) for _ in range(3))
            writer.log_in(prepared["emails"][0])
            messenger.log_in(prepared["emails"][1])
            reader.log_in(prepared["emails"][0])
            api = Browser(port)
            token_answer = api.send(
                "POST",
                "/api/v1/tokens",
                json_body={"email": prepared["emails"][2], "password": PASSWORD},
            )
            assert token_answer[0] == 201
            token = json.loads(token_answer[2])["token"]

            conversation = prepared["conversation"]
            plans = {
                "exchange (page)": [
                    (lambda: post_exchange(writer), True),
                    (lambda: read_timeline(writer), False),
                ],
                "message (page)": [(lambda: write_message(messenger, conversation), True)],
                "timeline (page)": [(lambda: read_timeline(reader), False)],
                "api": [
                    (lambda: api_post(api, token), True),
                    (lambda: api_feed(api, token), False),
                ],
            }
            stop = threading.Event()
            clients = [
                threading.Thread(target=_loop, args=(name, steps, stop, outcomes), daemon=True)
                for name, steps in plans.items()
            ]
            began = time.monotonic()
            for client in clients:
                client.start()
            time.sleep(LOAD_BEFORE_S)

            watcher = Watcher(pg)
            watcher.start()
            pg.restart()
            watcher.join(timeout=20)
            watcher.done.set()
            assert watcher.down is not None and watcher.up is not None, "no restart seen"
            time.sleep(max(0.0, watcher.up + LOAD_AFTER_S - time.monotonic()))
            stop.set()
            for client in clients:
                client.join(timeout=35)
            ended = time.monotonic()
            assert probe.send("GET", "/readyz")[0] == 200
        finally:
            _stop(server)

        with pg.connect("peuplade") as conn:
            titles = {row[0] for row in conn.execute("SELECT title FROM exchanges")}
            bodies = {row[0] for row in conn.execute("SELECT body FROM messages")}

    stored = {text for text in titles | bodies if MARKER.match(text)}
    acknowledged = {o.marker for o in outcomes if o.write and o.ok}
    sent_unanswered = {o.marker for o in outcomes if o.write and not o.ok and o.marker}
    failures = [o for o in outcomes if not o.ok]
    unavailable = [o for o in failures if o.status == 503]
    server_errors = [o for o in failures if o.status == 500]
    calm = watcher.up + CALM_AFTER_S
    late = [o for o in failures if o.started >= calm]
    retried = log.read_text(errors="replace").count("run once more")
    last_failure = max((o.ended for o in failures), default=None)
    recovery = max(0.0, last_failure - watcher.up) if last_failure else 0.0
    figures = (
        f"\nfault test: {len(outcomes)} requests in {ended - began:.1f} s "
        f"({sum(o.write for o in outcomes)} writes, {sum(not o.write for o in outcomes)} reads); "
        f"database refused connections for {watcher.up - watcher.down:.2f} s\n"
        f"  writes acknowledged: {len(acknowledged)}, found in the database: "
        f"{len(acknowledged & stored)}; not acknowledged: {len(sent_unanswered)} "
        f"(of which stored anyway: {len(sent_unanswered & stored)})\n"
        f"  503: {len(unavailable)} (writes {sum(o.write for o in unavailable)}, "
        f"reads {sum(not o.write for o in unavailable)}); 500: {len(server_errors)}; "
        f"other failures: {len(failures) - len(unavailable) - len(server_errors)}; "
        f"reads retried by the app: {retried}\n"
        f"  recovery: last failure {recovery:.2f} s after the database accepted connections "
        f"again; failures from {CALM_AFTER_S} s after: {len(late)}"
    )
    with capsys.disabled():
        print(figures)

    overlapping = [o for o in outcomes if o.started <= watcher.up and o.ended >= watcher.down]
    assert overlapping, "no request met the restart: the test proved nothing"
    assert acknowledged <= stored, f"acknowledged but lost: {sorted(acknowledged - stored)}"
    assert not server_errors, [(o.action, o.body[:200]) for o in server_errors[:3]]
    assert all("Traceback" not in o.body for o in outcomes)
    odd = [(o.action, o.status, o.body[:200]) for o in failures if o.status != 503]
    assert not odd, odd
    for answer in unavailable:  # the friendly page, or the API's JSON error
        if answer.action == "api":
            assert json.loads(answer.body)["error"]["code"] == "unavailable"
        else:
            assert "Code 503" in answer.body
    assert not late, [(o.action, o.status, round(o.started - watcher.up, 2)) for o in late]
