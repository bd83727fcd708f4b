"""Password reset by an emailed link, through a real SMTP server (aiosmtpd on loopback):
the same answer whether the account exists or not, a link that works once and expires,
every session and token ended; notices when a password or an email changes."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from peuplade.account import services
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import Member, MemberSession, PasswordReset, utcnow
from tests.conftest import BATIGNOLLES, PASSWORD
from tests.helpers.mail import plain_text
from tests.helpers.servers import free_port

NEW_PASSWORD = "girafe bleue chante 77 fois"


@pytest.fixture
def app(mail_app):
    """Every app of this module sends its emails to the ``smtp`` server."""
    return mail_app


@pytest.fixture
def anne(app):
    member = services.register_member(
        email="anne@example.org",
        password=PASSWORD,
        display_name="Anne",
        location=LocationInput(lat=BATIGNOLLES[0], lon=BATIGNOLLES[1]),
        locale="fr",
    )
    db.session.commit()
    return member


def _client(app):
    return app.test_client()


def _ask(client, email):
    return client.post("/password/forgot", data={"email": email})


def _reset_path(message) -> str:
    found = re.search(
        r"https://peuplade\.example(/password/reset/[A-Za-z0-9_\-]+)", plain_text(message)
    )
    assert found, plain_text(message)
    return found.group(1)


def _choose(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(path, data={"password": password, "password_confirm": confirm or password})


def _without_csrf(response) -> str:
    """The page, but the CSRF tokens of its forms (random on every page)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def _can_log_in(app, email, password) -> bool:
    response = _client(app).post("/login", data={"email": email, "password": password})
    return response.status_code == 302


def test_the_login_page_links_to_the_forgotten_password_form(app):
    page = _client(app).get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page
    assert "Mot de passe oublié ?" in page


def test_the_link_arrives_works_once_and_ends_every_session(app, smtp, anne):
    # Anne is logged in on another device, and an app holds a token.
    other_device = _client(app)
    assert other_device.post("/login", data={"email": anne.email, "password": PASSWORD})
    assert other_device.get("/account").status_code == 200
    token = (
        _client(app)
        .post("/api/v1/tokens", json={"email": anne.email, "password": PASSWORD})
        .get_json()["token"]
    )

    browser = _client(app)
    response = _ask(browser, "Anne@Example.org")
    assert response.status_code == 200
    assert "Si un compte existe avec cette adresse" in response.get_data(as_text=True)
    [message] = smtp.messages
    assert message["To"] == "Anne <anne@example.org>"
    assert message["Subject"] == "Peuplade : choisir un nouveau mot de passe"
    assert message["Content-Language"] == "fr"
    assert "60 minutes" in plain_text(message)
    path = _reset_path(message)
    # Only a digest is stored.
    assert db.session.scalar(select(PasswordReset.token_hash)) != path.rsplit("/", 1)[1]

    page = browser.get(path)  # following the link (as mail scanners do) changes nothing
    assert page.status_code == 200 and 'id="password"' in page.get_data(as_text=True)
    assert browser.get(path).status_code == 200

    response = _choose(browser, path)
    assert response.status_code == 302
    assert browser.get("/account").status_code == 200  # logged in, afresh
    assert other_device.get("/account").status_code == 302  # ended
    me = _client(app).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert not _can_log_in(app, anne.email, PASSWORD)
    assert _can_log_in(app, anne.email, NEW_PASSWORD)

    # The link served once.
    again = _client(app)
    used = again.get(path)
    assert used.status_code == 404
    assert "Ce lien ne fonctionne plus" in used.get_data(as_text=True)
    assert _choose(again, path, "encore un autre mot de passe solide").status_code == 404
    assert _can_log_in(app, anne.email, NEW_PASSWORD)

    # And a notice went to the member.
    notice = smtp.messages[-1]
    assert notice["Subject"] == "Peuplade : votre compte a été modifié"
    assert "lien de réinitialisation" in plain_text(notice)
    assert NEW_PASSWORD not in plain_text(notice)


def test_an_unknown_address_gets_the_same_page_and_no_email(app, smtp, anne):
    known = _ask(_client(app), "anne@example.org")
    unknown = _ask(_client(app), "personne@example.org")
    assert unknown.status_code == known.status_code == 200
    assert _without_csrf(unknown) == _without_csrf(known)
    assert [m["To"] for m in smtp.messages] == ["Anne <anne@example.org>"]
    assert _ask(_client(app), "pas une adresse").status_code == 200
    assert len(smtp.messages) == 1


def test_the_link_expires(app, smtp, anne):
    _ask(_client(app), anne.email)
    path = _reset_path(smtp.messages[0])
    db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    browser = _client(app)
    assert browser.get(path).status_code == 404
    assert _choose(browser, path).status_code == 404
    assert _can_log_in(app, anne.email, PASSWORD)


def test_a_newer_link_replaces_the_older_one(app, smtp, anne):
    _ask(_client(app), anne.email)
    _ask(_client(app), anne.email)
    first, second = (_reset_path(m) for m in smtp.messages)
    assert first != second
    assert _client(app).get(first).status_code == 404
    assert _choose(_client(app), second).status_code == 302


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("court", None, "au moins 12 caractères"),
        ("azertyazerty", None, "trop facile à deviner"),
        (NEW_PASSWORD, "autre chose encore", "pas identiques"),
    ],
)
def test_a_refused_password_keeps_the_link_working(app, smtp, anne, password, confirm, message):
    _ask(_client(app), anne.email)
    path = _reset_path(smtp.messages[0])
    browser = _client(app)
    response = _choose(browser, path, password, confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _choose(browser, path).status_code == 302


def test_the_email_is_in_the_members_language(app, smtp, anne):
    anne.locale = "en"
    db.session.commit()
    _ask(_client(app), anne.email)
    [message] = smtp.messages
    assert message["Content-Language"] == "en"
    assert message["Subject"] == "Peuplade: choose a new password"
    assert "Hello Anne," in plain_text(message)


def test_a_reset_for_a_suspended_member_does_not_log_them_in(app, smtp, anne):
    _ask(_client(app), anne.email)
    path = _reset_path(smtp.messages[0])
    anne.status, anne.suspended_until = "suspended", utcnow() + timedelta(days=2)
    db.session.commit()
    browser = _client(app)
    response = _choose(browser, path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert browser.get("/account").status_code == 302
    assert db.session.scalar(select(MemberSession)) is None


def test_requests_are_limited_per_address(make_app, smtp, anne):
    app = make_app(
        RATELIMIT_ENABLED=True, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port
    )
    statuses = [
        _client(app)
        .post(
            "/password/forgot",
            data={"email": "anne@example.org"},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        )
        .status_code
        for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    assert len(smtp.messages) == 5


def test_a_mail_server_down_is_logged_without_the_address(make_app, anne, caplog):
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    with caplog.at_level(logging.INFO):
        response = _ask(_client(app), anne.email)
    assert response.status_code == 200  # the same page: the member is not told
    failures = [r for r in caplog.records if r.name == "peuplade.mail"]
    assert failures and "not sent" in failures[0].getMessage()
    assert all("anne" not in r.getMessage().lower() for r in caplog.records)


# --- notices of changes ------------------------------------------------------------------


def _logged_in(app, email=None):
    browser = _client(app)
    response = browser.post(
        "/login", data={"email": email or "anne@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    return browser


def test_a_password_change_sends_a_notice(app, smtp, anne):
    browser = _logged_in(app)
    response = browser.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
            "end_other_sessions": "y",
        },
    )
    assert response.status_code == 302
    [notice] = smtp.messages
    assert notice["To"] == "Anne <anne@example.org>"
    assert "vient d'être changé" in plain_text(notice)
    assert "/password/forgot" in plain_text(notice)


def test_an_email_change_notifies_the_old_address(app, smtp, anne):
    browser = _logged_in(app)
    response = browser.post(
        "/account/profile",
        data={
            "display_name": "Anne",
            "radius_m": "1000",
            "email": "anne.neuve@example.org",
            "current_password": PASSWORD,
        },
    )
    assert response.status_code == 302
    # The new address gets a link to confirm it (tests/test_email_change.py); nothing
    # changes, and the old address hears nothing, until it is followed.
    [link] = smtp.to("anne.neuve@example.org")
    token = re.search(r"/email/confirm/([^\s]+)", plain_text(link)).group(1)
    assert smtp.to("anne@example.org") == []
    assert browser.post(f"/email/confirm/{token}").status_code in (200, 302)
    [notice] = smtp.to("anne@example.org")
    assert notice["To"] == "Anne <anne@example.org>"
    assert "adresse e-mail de votre compte" in plain_text(notice)
    assert "anne.neuve" not in plain_text(notice)  # the new address is not told to the old one
    member = db.session.scalar(select(Member).where(Member.id == anne.id))
    db.session.refresh(member)
    assert member.email == "anne.neuve@example.org"
