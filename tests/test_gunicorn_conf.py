"""gunicorn.conf.py, with the real gunicorn: the app served, and what gunicorn refuses
itself (a request line or headers past its limits) answered in the API's JSON error
shape, as the OpenAPI document says.

gunicorn runs from the repository root on a free loopback port (``GUNICORN_BIND``, as
the file reads it), one worker, an SQLite database in a temporary folder; it is stopped
by its PID at the end.
"""

from __future__ import annotations

import http.client
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from peuplade.api import openapi
from peuplade.api.schemas import ErrorOut

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "gunicorn.conf.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn -c gunicorn.conf.py wsgi:app, until the module's tests are done."""
    port = _free_port()
    folder = tmp_path_factory.mktemp("gunicorn")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEUPLADE_", "FLASK_"))}
    env.update(
        PEUPLADE_ENV="production",
        SECRET_KEY="gunicorn-conf-test-" + "x" * 40,
        PUBLIC_URL="https://peuplade.example",
        DATABASE_URL=f"sqlite:///{folder / 'peuplade.sqlite'}",
        RATELIMIT_ENABLED="0",
        GEOCODER="offline",
        MAIL_BACKEND="log",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
    )
    log = open(folder / "gunicorn.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited: {(folder / 'gunicorn.log').read_text()[-2000:]}")
            try:
                if _request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("gunicorn did not answer within 60 s")
            time.sleep(0.2)
        yield port
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


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
