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
import runpy
from pathlib import Path

import pytest

from peuplade.api import openapi
from peuplade.api.schemas import ErrorOut
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
