"""Request logs (peuplade/requestlog.py): one JSON line per request with a request id,
and no personal data - no email, no coordinates, no query string, no form, no token."""

from __future__ import annotations

import json
import logging
import os
import re
import select
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from peuplade.access import public
from peuplade.config import ROOT
from tests.conftest import PASSWORD

EMAIL = "anne.secret@example.org"
LAT, LON = "48.88462", "2.32091"


@pytest.fixture
def request_lines(capsys):
    """The request log's lines written so far, parsed (each must be one JSON object)."""

    def lines() -> list[dict]:
        err = capsys.readouterr().err
        return [
            json.loads(line)
            for line in err.splitlines()
            if line.startswith("{") and '"logger": "peuplade.request"' in line
        ]

    return lines


def test_one_line_per_request_with_the_callers_request_id(client, request_lines):
    r = client.get("/login", headers={"X-Request-Id": "lb-7f3a9c.42"})

    assert r.status_code == 200
    assert r.headers["X-Request-Id"] == "lb-7f3a9c.42"
    [line] = request_lines()
    assert line["request_id"] == "lb-7f3a9c.42"
    assert (line["method"], line["path"], line["status"], line["member"]) == (
        "GET",
        "/login",
        200,
        None,
    )
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


@pytest.mark.parametrize(
    "given", ["", "x" * 65, "deux mots", "a;forged=1", "<script>", "é"], ids=repr
)
def test_a_request_id_that_is_not_a_short_token_is_replaced(client, request_lines, given):
    r = client.get("/login", headers={"X-Request-Id": given})

    made = r.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    [line] = request_lines()
    assert line["request_id"] == made


def test_each_request_gets_its_own_id(client, request_lines):
    first = client.get("/login").headers["X-Request-Id"]
    second = client.get("/login").headers["X-Request-Id"]
    assert first != second
    assert [line["request_id"] for line in request_lines()] == [first, second]


def test_no_email_coordinates_query_or_form_reach_the_log(
    app, client, make_member, request_lines, caplog
):
    caplog.set_level(logging.DEBUG)
    member = make_member("Anne", email=EMAIL)
    request_lines()  # forget what setting up wrote
    query = f"?email={EMAIL}&lat={LAT}&lon={LON}&q=voisine"
    client.post(f"/login{query}", data={"email": EMAIL, "password": PASSWORD})
    client.get(f"/exchanges{query}")
    client.post(
        f"/exchanges/new{query}",
        data={"title": f"Écrire à {EMAIL}", "body": f"Je suis au {LAT},{LON}", "kind": "request"},
    )
    client.post(
        "/register",
        data={"email": EMAIL, "lat": LAT, "lon": LON, "password": PASSWORD, "display_name": "A"},
    )
    client.get(f"/nulle-part/{EMAIL}/{LAT},{LON}")
    client.get("/password/reset/UnJetonSecretDeRéinitialisation")

    lines = request_lines()
    assert len(lines) == 6
    written = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    written += "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("anne.secret", "example.org", LAT, LON, "48.88", "2.32", "voisine", "Jeton"):
        assert secret not in written
    assert [line["path"] for line in lines] == [
        "/login",
        "/exchanges",
        "/exchanges/new",
        "/register",
        "/nulle-part/<email>/<n>,<n>",
        "/password/reset/<token>",
    ]
    # The member is known by id once logged in (the login itself included), never by email.
    assert [line["member"] for line in lines[:3]] == [member.id, member.id, member.id]


def test_an_error_logs_its_traceback_with_the_request_id_and_the_page_does_not(
    make_app, request_lines, caplog
):
    app = make_app()

    @public
    def broken():
        raise ZeroDivisionError("secret détail interne")

    app.add_url_rule("/casse", "casse", broken)
    caplog.set_level(logging.ERROR, logger="peuplade.errors")

    r = app.test_client().get("/casse", headers={"X-Request-Id": "req-500"})

    assert r.status_code == 500
    assert r.headers["X-Request-Id"] == "req-500"
    body = r.get_data(as_text=True)
    assert "Traceback" not in body and "ZeroDivisionError" not in body and "secret" not in body
    assert "req-500" in body  # the number to quote when writing to the site's team
    [line] = request_lines()
    assert (line["status"], line["level"], line["request_id"]) == (500, "error", "req-500")
    [error] = [rec for rec in caplog.records if rec.name == "peuplade.errors"]
    assert "request_id=req-500" in error.getMessage()
    traceback = logging.Formatter().formatException(error.exc_info)
    assert "ZeroDivisionError: secret détail interne" in traceback
    assert "def broken" in traceback or "in broken" in traceback


# --- `flask run` in development (`make run`) -------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_until(server: subprocess.Popen, enough, patience: float = 60.0) -> str:
    """The server's output until ``enough(text)``, or until it has been silent for
    ``patience`` seconds (a start-up without the banner must fail, not hang)."""
    out = b""
    while not enough(out.decode(errors="replace")):
        ready, _, _ = select.select([server.stdout], [], [], patience)
        chunk = os.read(server.stdout.fileno(), 4096) if ready else b""
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace")


def test_make_runs_server_logs_one_line_per_request_and_ends_start_up_with_the_banner(
    app, make_member, tmp_path
):
    """The real `flask run` (as `make run` starts it, FLASK_RUN_HOST/PORT and all): its
    start-up ends with the address and the demo login; each request is our one JSON line,
    werkzeug's own access line is gone."""
    from peuplade.demo.cli import DEMO_PASSWORD

    demo_email = json.loads((ROOT / "data" / "demo-members.json").read_text())["members"][0][
        "email"
    ]
    make_member("Camille B.", email=demo_email)
    port = _free_port()
    env = {
        **os.environ,
        "PEUPLADE_ENV": "development",
        "FLASK_APP": "wsgi",
        "FLASK_RUN_HOST": "127.0.0.1",
        "FLASK_RUN_PORT": str(port),
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MAIL_BACKEND": "log",
        "RATELIMIT_ENABLED": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PUBLIC_URL", None)
    flask = Path(sys.executable).with_name("flask")
    server = subprocess.Popen(
        [str(flask), "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        start_up = _read_until(server, lambda text: text.count("=" * 20) >= 2)
        assert "Press CTRL+C to quit" in start_up, start_up
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login?next=%2Fboard") as answer:
            assert answer.status == 200
    finally:
        server.terminate()
        rest = server.communicate(timeout=60)[0].decode()
    # The banner closes the start-up: after werkzeug's last line.
    banner = start_up[start_up.index("Press CTRL+C to quit") :]
    assert f"ouvrez http://127.0.0.1:{port}" in banner, start_up
    assert f"Compte de démonstration : {demo_email}" in banner
    assert f"Mot de passe : {DEMO_PASSWORD}" in banner
    requests = [line for line in rest.splitlines() if "/login" in line]
    assert len(requests) == 1, rest  # ours only: no `"GET /login?next=... HTTP/1.1" 200`
    assert json.loads(requests[0])["path"] == "/login"
