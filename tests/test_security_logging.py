"""The security log (logger ``peuplade.security``): logins, failures, logouts, password
changes and resets, refused access and tokens, with member ids only; what a visitor
typed cannot forge a line."""

from __future__ import annotations

import logging

import pytest

from peuplade.security_log import log_safe
from tests.conftest import CLICHY, FAR_AWAY, PASSWORD

NEW_PASSWORD = "girafe bleue chante 77 fois"


@pytest.fixture
def security(caplog):
    """The security log's lines, as written."""
    caplog.set_level(logging.INFO, logger="peuplade.security")

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "peuplade.security"]

    return lines


def _events(lines: list[str]) -> list[str]:
    return [line.split(" ", 1)[0] for line in lines]


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        ("anne", "anne"),
        ("a\nb", "a\\nb"),
        ("a\r\nlogin member=1", '"a\\r\\nlogin member=1"'),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("line\u2028sep", "line\\u2028sep"),
        ("\u202eevil", "\\u202eevil"),
        ("back\\slash", "back\\\\slash"),
        ('say "hi"', '"say \\"hi\\""'),
        ("", '""'),
        ("é" * 300, "é" * 200 + "…"),
    ],
)
def test_log_safe_keeps_a_value_on_one_printable_line(raw, logged):
    assert log_safe(raw) == logged
    assert "\n" not in log_safe(raw) and "\r" not in log_safe(raw)


def test_a_failed_login_is_one_line_without_the_email(client, make_member, security):
    anne = make_member("Anne", email="anne@example.org")
    forged = "anne@example.org\nlogin member=1 ip=10.0.0.1\r\n"
    response = client.post("/login", data={"email": forged, "password": "devine devine"})
    assert response.status_code == 422
    response = client.post("/login", data={"email": "anne@example.org", "password": "devine"})
    assert response.status_code == 422
    lines = security()
    assert _events(lines) == ["login_failed", "login_failed"]
    for line in lines:
        assert "\n" not in line and "\r" not in line
        assert "anne@" not in line and "devine" not in line and "10.0.0.1" not in line
    # The same account, whatever the case: one fingerprint; the known one has its id.
    assert f"member={anne.id}" in lines[1]
    assert lines[1].split("account=")[1].split()[0] != ""


def test_user_input_in_a_path_cannot_forge_a_line(make_app, security):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/lang/fr%0Alogin%20member=1", data={"next": "/"})
    assert response.status_code == 400  # no CSRF token
    [line] = security()
    assert line.startswith("csrf_failed ")
    assert "\n" not in line
    assert 'path="/lang/fr\\nlogin member=1"' in line


def test_a_csrf_failure_names_the_member_and_answers_in_their_language(
    make_app, make_member, security
):
    """Refused before the access check loads the member: the error page loads them, so
    the log line has their id and the whole page speaks their language."""
    app = make_app(WTF_CSRF_ENABLED=True)
    anne = make_member("Anne", email="anne@example.org")
    anne.locale = "en"
    from peuplade.extensions import db

    db.session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    logged = client.post(
        "/login", data={"email": anne.email, "password": PASSWORD, "csrf_token": token}
    )
    assert logged.status_code == 302

    refused = client.post("/exchanges/new", data={"title": "sans jeton"})

    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert '<html lang="en"' in text
    assert "La demande est mal formée" not in text
    [line] = [line for line in security() if line.startswith("csrf_failed ")]
    assert f"member={anne.id}" in line


def test_the_life_of_an_account_is_logged_with_ids_only(client, api, make_member, security):
    anne = make_member("Anne", email="anne@example.org", at=CLICHY)
    far = make_member("Loin", email="loin@example.org", at=FAR_AWAY)
    assert client.post("/login", data={"email": anne.email, "password": PASSWORD}).status_code
    assert client.get(f"/profile/{far.id}").status_code == 404  # not in my neighbourhood
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
            "end_other_sessions": "y",
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    token = api.login(anne.email, NEW_PASSWORD)
    api.token = "pk_not-a-real-token"
    assert api.get("/me").status_code == 401

    lines = security()
    assert _events(lines) == [
        "login",
        "not_found",
        "password_changed",
        "logout",
        "token_created",
        "api_unauthorized",
    ]
    assert all(f"member={anne.id}" in line for line in lines[:5])
    assert "path=/profile/" in lines[1] and "status=404" in lines[1]
    assert "reason=invalid" in lines[5]
    everything = "\n".join(lines)
    for secret in (anne.email, PASSWORD, NEW_PASSWORD, token, "pk_not-a-real-token"):
        assert secret not in everything
    for coordinate in (*CLICHY, *FAR_AWAY):
        assert f"{coordinate:.4f}" not in everything


def test_a_reset_link_is_not_logged(client, make_member, security):
    make_member("Anne", email="anne@example.org")
    token = "x" * 43
    client.get(f"/password/reset/{token}")
    client.post(f"/password/reset/{token}", data={"password": "a", "password_confirm": "a"})
    client.post("/password/forgot", data={"email": "anne@example.org"})
    lines = security()
    assert _events(lines) == ["password_reset_requested"]
    assert token not in "\n".join(lines) and "anne@" not in "\n".join(lines)


def test_refused_access_is_logged(make_app, make_member, security):
    anne = make_member("Anne", email="anne@example.org")
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    for _ in range(11):
        client.post("/login", data={"email": "x@example.org", "password": "x"})
    lines = security()
    assert _events(lines)[-1] == "rate_limited"
    assert "status=429" in lines[-1]
    assert anne.id
