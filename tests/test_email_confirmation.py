"""Confirming the e-mail address (issue 19), with a real SMTP server (aiosmtpd on
loopback): the link of the e-mail shows a button (a GET changes nothing), the button
confirms, once; expired, altered or outdated links say so and offer a new one; a new
address in the settings must be confirmed again; the banner and its button; the API."""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timedelta

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import select

from peuplade.account import services
from peuplade.auth import confirm
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import Member, utcnow
from tests.conftest import BATIGNOLLES, CLICHY, PASSWORD
from tests.helpers.mail import plain_text

LINK = re.compile(r"https://peuplade\.example(/email/confirm/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def app(mail_app):
    """Every app of this module sends its emails to the ``smtp`` server."""
    return mail_app


def _member(email: str, name: str, at=BATIGNOLLES) -> Member:
    member = services.register_member(
        email=email,
        password=PASSWORD,
        display_name=name,
        location=LocationInput(lat=at[0], lon=at[1]),
        locale="fr",
    )
    db.session.commit()
    return member


@pytest.fixture
def anne(app):
    return _member("anne@example.org", "Anne")


@pytest.fixture
def bruno(app):
    return _member("bruno@example.org", "Bruno", CLICHY)


def _path_in(message) -> str:
    found = LINK.search(plain_text(message))
    assert found, plain_text(message)
    return found.group(1)


def _confirmed_at(member_id: int):
    db.session.remove()
    return db.session.scalar(select(Member.email_confirmed_at).where(Member.id == member_id))


def _logged_in(app, email: str):
    browser = app.test_client()
    assert browser.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return browser


def _path_for(member: Member) -> str:
    return "/email/confirm/" + confirm.make_token(member)


def _old_path_for(member: Member, monkeypatch, days: int) -> str:
    """A link for ``member`` as it was made ``days`` days ago."""
    now = int(time.time())
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: now - days * 86400)
        return _path_for(member)


# --- the link --------------------------------------------------------------------------


def test_sign_up_sends_a_link_whose_button_confirms_the_address(app, smtp):
    browser = app.test_client()
    browser.post(
        "/register",
        data={
            "email": "Nadia@Example.org",
            "display_name": "Nadia",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "lat": str(BATIGNOLLES[0]),
            "lon": str(BATIGNOLLES[1]),
            "radius_m": "1000",
        },
    )
    [message] = smtp.messages
    assert message["To"] == "Nadia <nadia@example.org>"
    assert message["Subject"] == "Peuplade : confirmez votre adresse e-mail"
    assert "Le lien marche pendant 7 jours." in plain_text(message)
    path = _path_in(message)
    assert "nadia" not in path  # the address is not in the link
    nadia_id = db.session.scalar(select(Member.id))

    # Opening the link (or a mail scanner fetching it) changes nothing: a button.
    page = browser.get(path)
    assert page.status_code == 200
    assert "Confirmer mon adresse" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert _confirmed_at(nadia_id) is None

    done = browser.post(path)
    assert done.status_code == 200
    assert "Merci ! Votre adresse e-mail est confirmée." in done.get_data(as_text=True)
    assert _confirmed_at(nadia_id) is not None


def test_confirming_twice_changes_nothing(app, anne):
    browser = app.test_client()
    path = _path_for(anne)
    assert browser.post(path).status_code == 200
    first = _confirmed_at(anne.id)
    again = browser.post(path)
    assert again.status_code == 200
    assert "déjà confirmée" in again.get_data(as_text=True)
    assert _confirmed_at(anne.id) == first
    assert "déjà confirmée" in browser.get(path).get_data(as_text=True)


def test_an_expired_link_says_so_and_sends_a_new_one(app, smtp, anne, monkeypatch):
    old = _old_path_for(anne, monkeypatch, days=confirm.LINK_DAYS + 1)
    browser = app.test_client()
    for response in (browser.get(old), browser.post(old)):
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert "Ce lien a expiré" in page
        assert "M’envoyer un nouveau lien" in page
    assert _confirmed_at(anne.id) is None

    sent = browser.post(old + "/again")
    assert sent.status_code == 200
    [message] = smtp.to("anne@example.org")
    assert "Voici un nouveau lien" in plain_text(message)
    assert browser.post(_path_in(message)).status_code == 200
    assert _confirmed_at(anne.id) is not None


def test_an_expired_link_of_a_confirmed_address_says_there_is_nothing_to_do(
    app, anne, api, monkeypatch
):
    old = _old_path_for(anne, monkeypatch, days=confirm.LINK_DAYS + 1)
    browser = app.test_client()
    assert browser.post(_path_for(anne)).status_code == 200
    for response in (browser.get(old), browser.post(old)):
        assert response.status_code == 200
        assert "déjà confirmée" in response.get_data(as_text=True)
    r = api.post("/confirmations", json={"token": old.rsplit("/", 1)[1]})
    assert r.get_json() == {"status": "confirmed", "first_time": False}


def test_a_link_still_works_on_its_last_day(app, anne, monkeypatch):
    path = _old_path_for(anne, monkeypatch, days=confirm.LINK_DAYS - 1)
    assert app.test_client().post(path).status_code == 200
    assert _confirmed_at(anne.id) is not None


def _tampered(path: str) -> list[str]:
    payload, stamp, signature = path.removeprefix("/email/confirm/").split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    return [
        f"/email/confirm/{payload}.{stamp}.{flipped}",  # the signature
        f"/email/confirm/{payload[:-2]}x{payload[-1]}.{stamp}.{signature}",  # the payload
        f"/email/confirm/{payload}.{stamp}",  # cut short
        "/email/confirm/" + "x" * 400,
    ]


def test_an_altered_link_confirms_nothing(app, anne):
    browser = app.test_client()
    for path in _tampered(_path_for(anne)):
        for response in (browser.get(path), browser.post(path)):
            assert response.status_code == 404, path
            assert "Ce lien ne fonctionne pas" in response.get_data(as_text=True)
    assert _confirmed_at(anne.id) is None


def test_a_link_cannot_be_pointed_at_another_member(app, anne, bruno):
    # The payload is signed: Anne's link with Bruno's id in it is not ours any more.
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("not-the-secret", salt=confirm.SALT).dumps(
        [bruno.id, confirm._address_digest(bruno.email)]
    )
    assert app.test_client().post("/email/confirm/" + forged).status_code == 404
    # And Anne's own link, followed in Bruno's browser, confirms Anne, not Bruno.
    browser = _logged_in(app, "bruno@example.org")
    assert browser.post(_path_for(anne)).status_code == 200
    assert _confirmed_at(anne.id) is not None
    assert _confirmed_at(bruno.id) is None


def test_a_link_for_an_address_the_member_no_longer_has_confirms_nothing(app, smtp, anne):
    old_link = _path_for(anne)
    browser = _logged_in(app, "anne@example.org")
    assert browser.post(old_link).status_code == 200  # confirmed
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
    # The new address is pending: the account keeps its confirmed address meanwhile.
    confirmed = _confirmed_at(anne.id)
    assert confirmed is not None
    # A link went to the new address: it applies it, confirmed.
    [message] = smtp.to("anne.neuve@example.org")
    assert "nouvelle adresse e-mail" in plain_text(message)
    assert browser.post(_path_in(message)).status_code == 200
    assert _confirmed_at(anne.id) > confirmed
    assert db.session.get(Member, anne.id).email == "anne.neuve@example.org"
    # The link of the old address is for an address the member no longer has.
    assert browser.post(old_link).status_code == 404


def test_the_same_email_typed_again_keeps_the_confirmation(app, smtp, anne):
    browser = _logged_in(app, "anne@example.org")
    browser.post(_path_for(anne))
    confirmed = _confirmed_at(anne.id)
    browser.post(
        "/account/profile",
        data={"display_name": "Anne B.", "radius_m": "1000", "email": "ANNE@example.org"},
    )
    assert _confirmed_at(anne.id) == confirmed
    assert smtp.messages == []


def test_confirming_logs_the_member_id_but_never_the_link_or_the_address(app, anne, caplog):
    path = _path_for(anne)
    token = path.rsplit("/", 1)[1]
    with caplog.at_level(logging.DEBUG):
        app.test_client().get(path)
        app.test_client().post(path)
    written = "\n".join(r.getMessage() for r in caplog.records)
    assert f"email_confirmed member={anne.id}" in written
    assert token not in written and token[:20] not in written
    assert "anne@example.org" not in written


# --- the banner ------------------------------------------------------------------------


def test_an_unconfirmed_member_sees_a_banner_whose_button_sends_a_new_link(app, smtp, anne):
    browser = _logged_in(app, "anne@example.org")
    page = browser.get("/exchanges").get_data(as_text=True)
    assert "Confirmez votre adresse e-mail" in page
    assert 'id="confirm-email-banner"' in page
    assert 'name="next" value="/exchanges"' in page

    response = browser.post("/email/confirmation", data={"next": "/exchanges"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/exchanges"
    assert "un nouveau lien part vers anne@example.org" in browser.get("/exchanges").get_data(
        as_text=True
    )
    [message] = smtp.to("anne@example.org")
    assert browser.post(_path_in(message)).status_code == 200
    assert "confirm-email-banner" not in browser.get("/exchanges").get_data(as_text=True)
    # Confirmed: the button sends nothing any more.
    browser.post("/email/confirmation", data={"next": "//evil.example"})
    assert len(smtp.messages) == 1


def test_the_banner_s_button_needs_a_login_and_a_csrf_token(make_app, app, anne):
    assert app.test_client().post("/email/confirmation").status_code == 302  # to /login
    strict = make_app(WTF_CSRF_ENABLED=True)
    browser = strict.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    browser.post(
        "/login", data={"email": "anne@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert browser.post("/email/confirmation").status_code == 400


def test_asking_for_new_links_is_limited(make_app, smtp, anne):
    limited = make_app(
        RATELIMIT_ENABLED=True,
        MAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp.port,
    )
    browser = _logged_in(limited, "anne@example.org")
    statuses = [browser.post("/email/confirmation").status_code for _ in range(6)]
    assert statuses == [302] * 5 + [429]
    assert len(smtp.messages) == 5


# --- the API ---------------------------------------------------------------------------


def test_api_confirms_with_the_link_s_token_once(app, anne, api):
    token = confirm.make_token(anne)
    api.login("anne@example.org")
    assert api.get("/me").get_json()["email_confirmed"] is False
    api.token = None  # the link is the credential: no bearer token needed
    r = api.post("/confirmations", json={"token": token})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"status": "confirmed", "first_time": True}
    assert api.post("/confirmations", json={"token": token}).get_json()["first_time"] is False
    api.login("anne@example.org")
    assert api.get("/me").get_json()["email_confirmed"] is True


def test_api_refuses_a_link_that_does_not_work(app, anne, api, monkeypatch):
    expired = _old_path_for(anne, monkeypatch, days=confirm.LINK_DAYS + 1).rsplit("/", 1)[1]
    for token, words in [
        (expired, "a expiré"),
        (_tampered(_path_for(anne))[0].rsplit("/", 1)[1], "ne fonctionne pas"),
    ]:
        r = api.post("/confirmations", json={"token": token})
        assert r.status_code == 422
        error = r.get_json()["error"]
        assert error["code"] == "validation_failed"
        assert words in error["fields"]["token"]
    assert _confirmed_at(anne.id) is None


def test_api_sends_a_new_link_until_the_address_is_confirmed(app, smtp, anne, api):
    api.login("anne@example.org")
    r = api.post("/me/confirmation")
    assert r.status_code == 202
    assert r.get_json() == {"status": "sent"}
    [message] = smtp.to("anne@example.org")
    token = _path_in(message).rsplit("/", 1)[1]
    assert api.post("/confirmations", json={"token": token}).status_code == 200
    r = api.post("/me/confirmation")
    assert r.status_code == 200
    assert r.get_json() == {"status": "confirmed"}
    assert len(smtp.messages) == 1


def test_api_email_change_needs_a_new_confirmation(app, smtp, anne, api):
    api.login("anne@example.org")
    api.post("/confirmations", json={"token": confirm.make_token(anne)})
    assert api.get("/me").get_json()["email_confirmed"] is True
    r = api.patch("/me", json={"email": "anne.neuve@example.org", "current_password": PASSWORD})
    assert r.status_code == 200
    assert r.get_json()["email"] == "anne@example.org"  # pending until the link is followed
    assert r.get_json()["pending_email"] == "anne.neuve@example.org"
    [message] = smtp.to("anne.neuve@example.org")
    token = _path_in(message).rsplit("/", 1)[1]
    assert api.post("/confirmations", json={"token": token}).get_json()["first_time"] is True
    me = api.get("/me").get_json()
    assert (me["email"], me["pending_email"], me["email_confirmed"]) == (
        "anne.neuve@example.org",
        None,
        True,
    )


def test_the_export_tells_when_the_address_was_confirmed(app, anne, api):
    api.login("anne@example.org")
    assert api.get("/me/export").get_json()["account"]["email_confirmed_at"] is None
    before = utcnow() - timedelta(seconds=5)
    api.post("/confirmations", json={"token": confirm.make_token(anne)})
    when = datetime.fromisoformat(api.get("/me/export").get_json()["account"]["email_confirmed_at"])
    assert when >= before
