"""gunicorn.conf.py, with the real gunicorn: the app served, and what gunicorn refuses
itself (a request line or headers past its limits) answered in the API's JSON error
shape, as the OpenAPI document says.

gunicorn runs from the repository root on a free loopback port (``GUNICORN_BIND``, as
the file reads it), one worker, an SQLite database in a temporary folder; it is stopped
by its PID at the end. The login pool (``GUNICORN_POOL=login``) is started the same way
on its own address, with the app preloaded in the master (``GUNICORN_PRELOAD=1``).
"""

from __future__ import annotations

import http.client
import json
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from peuplade.api import openapi
from peuplade.api.schemas import ErrorOut
from peuplade.extensions import db
from tests.helpers.servers import deployed_env, free_port, gunicorn

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "gunicorn.conf.py"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn -c gunicorn.conf.py wsgi:app, until the module's tests are done."""
    port = free_port()
    folder = tmp_path_factory.mktemp("gunicorn")
    env = deployed_env(
        port,
        SECRET_KEY="gunicorn-conf-test-" + "x" * 40,
        DATABASE_URL=f"sqlite:///{folder / 'peuplade.sqlite'}",
        RATELIMIT_ENABLED="0",
    )
    with gunicorn(env, folder / "gunicorn.log") as served:
        yield served


def _request(port: int, method: str, path: str, headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def _assert_json_error(answer, status: int, code: str) -> None:
    got, content_type, body = answer
    assert got == status, body[:300]
    assert content_type == "application/json"
    error = ErrorOut.model_validate(json.loads(body))
    assert error.error.code == code and error.error.message


def test_the_config_file_and_the_document_name_the_same_limits():
    settings = runpy.run_path(str(CONFIG))
    assert settings["limit_request_line"] == openapi.LIMIT_REQUEST_LINE
    assert settings["limit_request_fields"] == openapi.LIMIT_REQUEST_FIELDS
    assert settings["limit_request_field_size"] == openapi.LIMIT_REQUEST_FIELD_SIZE


def test_the_app_is_served(server):
    assert _request(server, "GET", "/healthz")[:2] == (200, "text/plain; charset=utf-8")


def test_a_request_line_too_long_is_a_documented_json_414(server):
    status, _type, body = _request(server, "GET", "/api/v1/openapi.json")
    assert status == 200
    document = json.loads(body)
    answer = _request(server, "GET", "/api/v1/feed?q=" + "a" * openapi.LIMIT_REQUEST_LINE)
    _assert_json_error(answer, 414, "uri_too_long")
    for operations in document["paths"].values():
        for operation in operations.values():
            for status in ("400", "414", "431"):
                content = operation["responses"][status]["content"]
                assert content["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }


def test_headers_too_many_or_too_long_are_a_json_431(server):
    many = {f"X-Extra-{n}": "1" for n in range(openapi.LIMIT_REQUEST_FIELDS + 1)}
    _assert_json_error(_request(server, "GET", "/api/v1/feed", many), 431, "headers_too_large")
    long = {"X-Long": "a" * (openapi.LIMIT_REQUEST_FIELD_SIZE + 1)}
    _assert_json_error(_request(server, "GET", "/api/v1/feed", long), 431, "headers_too_large")


def test_the_longest_request_line_the_document_allows_is_served(server):
    # 200 four-byte characters, percent-encoded, and a cursor of 500: under the limit.
    query = "q=" + "%F0%9F%AB%A8" * 200 + "&cursor=" + "a" * 500 + "&category=administratif"
    status, content_type, _body = _request(server, "GET", "/api/v1/items?" + query)
    assert status in (400, 401) and content_type == "application/json"


# -- the login pool --------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found.extend(int(c) for c in (task / "children").read_text().split())
    return found


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[16])


def test_the_login_pool_binds_where_told_with_its_workers_and_answers(tmp_path):
    """GUNICORN_POOL=login: bound on GUNICORN_LOGIN_BIND (the app pool's address stays
    free), GUNICORN_LOGIN_WORKERS workers at the GUNICORN_NICE asked, the app preloaded;
    the login page and a database check answered by its workers."""
    login_port, app_port = free_port(), free_port()
    env = deployed_env(
        app_port,
        SECRET_KEY="gunicorn-conf-test-" + "x" * 40,
        DATABASE_URL=f"sqlite:///{tmp_path / 'peuplade.sqlite'}",
        RATELIMIT_ENABLED="0",
        GUNICORN_POOL="login",
        GUNICORN_LOGIN_BIND=f"127.0.0.1:{login_port}",
        GUNICORN_LOGIN_WORKERS="2",
        GUNICORN_PRELOAD="1",
        GUNICORN_NICE="3",
    )
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while len(_children(process.pid)) < 2 or _refused(login_port):
            assert process.poll() is None, log_path.read_text()[-2000:]
            assert time.monotonic() < deadline, log_path.read_text()[-2000:]
            time.sleep(0.2)
        workers = _children(process.pid)
        assert len(workers) == 2
        # A worker answers once forked; its post_fork may still be running: wait for it.
        while [_nice(pid) - _nice(process.pid) for pid in workers] != [3, 3]:
            assert time.monotonic() < deadline, [_nice(pid) for pid in workers]
            time.sleep(0.2)
        assert _refused(app_port)
        status, content_type, body = _request(login_port, "GET", "/login")
        assert status == 200 and content_type.startswith("text/html"), body[:300]
        # The database answers in a forked worker (the migrations are not run here).
        _status, _type, body = _request(login_port, "GET", "/readyz")
        assert json.loads(body)["database"] == "ok"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize(("name", "value"), [("GUNICORN_POOL", "logins"), ("GUNICORN_NICE", "-5")])
def test_an_unknown_pool_or_a_priority_raised_is_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match=name):
        runpy.run_path(str(CONFIG))


def test_the_login_pool_paths_are_the_apps_and_the_proxys(app):
    """Each path the proxy sends to the login pool is one of the app's routes (or, ending
    with "/", the prefix of some), and docs/deployment.md's nginx snippet routes it."""
    paths = runpy.run_path(str(CONFIG))["LOGIN_POOL_PATHS"]
    rules = [rule.rule for rule in app.url_map.iter_rules()]
    nginx = (ROOT / "docs" / "deployment.md").read_text()
    for path in paths:
        if path.endswith("/"):
            assert any(rule.startswith(path) for rule in rules), path
            assert f"location ^~ {path} " in nginx, path
        else:
            assert path in rules, path
            assert f"location = {path} " in nginx, path
    assert "/login" in paths and "/register" in paths


def test_a_preloaded_worker_forgets_the_connections_it_inherited(app):
    """post_fork disposes the inherited pools when the app is preloaded (and only then)."""
    settings = runpy.run_path(str(CONFIG))
    db.session.execute(db.text("SELECT 1"))
    db.session.remove()
    pooled = db.engine.pool.checkedin()
    assert pooled >= 1
    server = SimpleNamespace(cfg=SimpleNamespace(preload_app=False), app=None)
    settings["post_fork"](server, worker=None)
    assert db.engine.pool.checkedin() == pooled
    server = SimpleNamespace(
        cfg=SimpleNamespace(preload_app=True), app=SimpleNamespace(wsgi=lambda: app)
    )
    settings["post_fork"](server, worker=None)
    assert db.engine.pool.checkedin() == 0


# Loaded on first use, not by every worker (docs/SCALING.md, worker memory): what only
# a password change, a feed, a calendar, an upload or a printed lobby board needs.
ON_FIRST_USE = ("zxcvbn", "feedgen", "icalendar", "pillow_heif", "segno")

_WORKER = """
import json, sys
import wsgi
loaded = [name for name in sys.argv[2:] if name in sys.modules]
from peuplade.photos import processing
with open(sys.argv[1], "rb") as upload:
    processed = processing.process(upload.read())
print(json.dumps({"loaded": loaded, "heif": "pillow_heif" in sys.modules,
                  "thumb": len(processed.thumb.data)}))
"""


def test_a_worker_loads_what_few_requests_need_on_first_use(tmp_path):
    """The app as gunicorn imports it (``wsgi``) has none of these modules; an iPhone
    photo still opens on the first upload (the HEIF opener is registered then)."""
    from tests import photofiles

    upload = tmp_path / "photo.heic"
    upload.write_bytes(photofiles.heic_bytes())
    env = deployed_env(
        free_port(),
        SECRET_KEY="lazy-imports-test-" + "x" * 40,
        DATABASE_URL=f"sqlite:///{tmp_path / 'peuplade.sqlite'}",
    )
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(upload), *ON_FIRST_USE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["loaded"] == []
    assert answer["heif"] is True and answer["thumb"] > 0


_CHECKS = """
import runpy, sys
from argon2 import PasswordHasher
settings = runpy.run_path(sys.argv[1])
server = type("S", (), {"cfg": type("C", (), {"preload_app": False})()})()
if sys.argv[2] == "worker":
    settings["post_fork"](server, worker=None)
def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
# A hash at the OWASP minimum (19 MiB), checked as logins do, over and over.
minimum = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
before = rss()
stored = minimum.hash("voisins de la rue")
for _ in range(3):
    minimum.verify(stored, "voisins de la rue")
print((rss() - before) // 1024)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_worker_gives_a_password_check_s_memory_back():
    """A worker's password checks leave nothing behind (post_fork fixes glibc's mmap
    threshold); a process without it keeps the 19 MiB of the second check on."""
    grown = {}
    for kind in ("worker", "plain"):
        done = subprocess.run(
            [sys.executable, "-c", _CHECKS, str(CONFIG), kind],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        grown[kind] = int(done.stdout.split()[-1])
    assert grown["worker"] < 4, grown
    assert grown["plain"] >= 15, grown  # what the setting is for, on this glibc


_FREEZE = """
import gc, json, runpy, sys
from wsgi import app  # as a worker imports it
settings = runpy.run_path(sys.argv[1])
before = gc.get_freeze_count()
settings["post_worker_init"](worker=None)
frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())
print(json.dumps({"before": before, "frozen": frozen, "tracked": tracked}))
"""


def test_a_worker_freezes_the_app_it_built(tmp_path):
    """Once the app is built in a worker, its objects are out of the collector's full
    passes (post_worker_init): what is left to scan is what requests make."""
    env = deployed_env(
        free_port(),
        SECRET_KEY="freeze-test-" + "x" * 40,
        DATABASE_URL=f"sqlite:///{tmp_path / 'peuplade.sqlite'}",
    )
    done = subprocess.run(
        [sys.executable, "-c", _FREEZE, str(CONFIG)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["before"] == 0
    # The app's objects (well over 100,000) are frozen; few are left to the collector.
    assert counts["frozen"] > 100_000, counts
    assert counts["tracked"] < counts["frozen"] / 10, counts
