"""Changing one's e-mail (issue 19): the new address is only pending until the link sent
to it is followed, and the answer never tells whether another account has it. A taken
address gets no link (its owner is told instead); one taken between the request and
the link is said so, and the account keeps its address (no 500 when the unique index
fires). Nothing is ever keyed to an address nobody confirmed: closing an account with
a victim's address pending leaves the victim free to sign up. The settings page shows
the pending address, with a new link and a way to cancel; the export has it."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from peuplade.account import person, queries, services
from peuplade.auth import confirm
from peuplade.extensions import db
from peuplade.gdpr import services as gdpr
from peuplade.location import LocationInput
from peuplade.models import DepartedHomeChange, Member
from peuplade.validation import normalise_email
from tests.conftest import BATIGNOLLES, CLICHY, FAR_AWAY, PASSWORD
from tests.helpers.mail import plain_text

LINK = re.compile(r"https://peuplade\.example(/email/confirm/[A-Za-z0-9_.\-]+)")
FORM = {"display_name": "Voisin", "bio": "", "tags": "", "radius_m": "1000"}


@pytest.fixture
def app(mail_app):
    """Every app of this module sends its emails to the ``smtp`` server."""
    return mail_app


def _member(email: str, name: str = "Voisin", at=BATIGNOLLES) -> Member:
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
    return _member("anne@example.org")


@pytest.fixture
def bruno(app):
    return _member("bruno@example.org", at=CLICHY)


def _fresh(member_id: int) -> Member:
    db.session.remove()
    return db.session.get(Member, member_id)


def _logged_in(app, email: str):
    browser = app.test_client()
    response = browser.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def _ask(browser, email: str):
    return browser.post(
        "/account/profile", data={**FORM, "email": email, "current_password": PASSWORD}
    )


def _link_in(message) -> str:
    found = LINK.search(plain_text(message))
    assert found, plain_text(message)
    return found.group(1)


def _links(smtp) -> list[str]:
    return [m.group(1) for msg in smtp.messages for m in [LINK.search(plain_text(msg))] if m]


def _page_text(page: str) -> str:
    page = re.sub(r'name="csrf_token"[^>]*>', "", page)
    page = re.sub(r'value="[^"]*"', "", page)
    return page


# --- the same answer, taken or not -------------------------------------------------------


def test_a_taken_and_a_free_address_get_the_same_page(app, smtp, bruno):
    pages, states = [], []
    for own, asked in [
        ("anne@example.org", "BRUNO@example.org"),  # Bruno's address
        ("carl@example.org", "libre@example.org"),  # nobody's
    ]:
        member = _member(own)
        before = _fresh(member.id).email_confirmed_at
        browser = _logged_in(app, own)
        response = _ask(browser, asked)
        assert response.status_code == 302
        assert response.headers["Location"] == "/account"
        page = browser.get("/account").get_data(as_text=True)
        shown = asked.lower()
        assert f"Nous avons envoyé un lien à {shown}" in page
        assert f"En attente de confirmation : {shown}" in page
        assert "existe déjà" not in page
        page = _page_text(page).replace(f"/profile/{member.id}", "/profile/ID")
        # The initials' disc takes its colour from the member's id.
        page = re.sub(r'data-colour="\d+"', 'data-colour="N"', page)
        pages.append(page.replace(own, "OWN").replace(shown, "ASKED"))
        stored = _fresh(member.id)
        assert (stored.email, stored.pending_email) == (own, shown)
        states.append(stored.email_confirmed_at == before)
    assert pages[0] == pages[1]
    assert states == [True, True]
    # The free address got its link; the taken one none: its owner got a word instead.
    [link] = smtp.to("libre@example.org")
    assert LINK.search(plain_text(link))
    [notice] = smtp.to("bruno@example.org")
    assert "un autre compte" in plain_text(notice)
    assert not LINK.search(plain_text(notice))
    assert "anne" not in plain_text(notice).lower()  # nothing about the other account
    assert len(smtp.messages) == 2


def test_a_taken_and_a_free_address_get_the_same_api_answer(app, smtp, bruno, api):
    bodies = []
    for own, asked in [("anne@example.org", "Bruno@Example.org"), ("carl@example.org", "x@y.org")]:
        _member(own)
        api.login(own)
        r = api.patch("/me", json={"email": asked, "current_password": PASSWORD})
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["email"] == own
        assert body["pending_email"] == normalise_email(asked)
        assert api.get("/me").get_json()["pending_email"] == body["pending_email"]
        for key in ("id", "email", "pending_email", "created_at"):
            body.pop(key)
        bodies.append(body)
    assert bodies[0] == bodies[1]
    assert [m["To"] for m in smtp.messages] != []
    assert smtp.to("bruno@example.org") and not _links(smtp)[1:]  # one link, to x@y.org


# --- nothing applies before the link -----------------------------------------------------


def test_nothing_changes_until_the_link_is_followed_then_it_applies(app, smtp, anne, caplog):
    browser = _logged_in(app, "anne@example.org")
    browser.post(_path := "/email/confirm/" + confirm.make_token(anne))
    confirmed = _fresh(anne.id).email_confirmed_at
    assert confirmed is not None
    with caplog.at_level(logging.INFO, logger="peuplade.security"):
        assert _ask(browser, "anne.neuve@example.org").status_code == 302
    # Pending only: the old address still logs in, the new one does not, no notice yet.
    member = _fresh(anne.id)
    assert (member.email, member.pending_email) == ("anne@example.org", "anne.neuve@example.org")
    assert member.email_confirmed_at == confirmed
    _logged_in(app, "anne@example.org")
    refused = app.test_client().post(
        "/login", data={"email": "anne.neuve@example.org", "password": PASSWORD}
    )
    assert refused.status_code == 422
    assert smtp.to("anne@example.org") == []
    assert "email_changed" not in caplog.text

    [message] = smtp.to("anne.neuve@example.org")
    link = _link_in(message)
    page = app.test_client().get(link)  # a GET changes nothing
    assert page.status_code == 200 and "devienne celle de votre compte" in page.get_data(
        as_text=True
    )
    assert _fresh(anne.id).email == "anne@example.org"
    with caplog.at_level(logging.INFO, logger="peuplade.security"):
        response = app.test_client().post(link)
    assert response.status_code == 200
    assert "c’est désormais celle de votre compte" in response.get_data(as_text=True)
    member = _fresh(anne.id)
    assert (member.email, member.pending_email) == ("anne.neuve@example.org", None)
    assert member.email_confirmed_at > confirmed
    assert f"email_changed member={anne.id}" in caplog.text
    # The notice goes to the old address now, not before.
    [notice] = smtp.to("anne@example.org")
    assert "vient d'être changée" in plain_text(notice)
    # Following it again is harmless; the old address's link no longer works.
    assert app.test_client().post(link).status_code == 200
    assert app.test_client().post(_path).status_code == 404
    assert len(smtp.to("anne@example.org")) == 1


def test_the_api_link_applies_the_new_address(app, smtp, anne, api):
    api.login("anne@example.org")
    api.patch("/me", json={"email": "anne.neuve@example.org", "current_password": PASSWORD})
    [message] = smtp.to("anne.neuve@example.org")
    token = _link_in(message).rsplit("/", 1)[1]
    api.token = None
    r = api.post("/confirmations", json={"token": token})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"status": "confirmed", "first_time": True}
    api.login("anne.neuve@example.org")
    me = api.get("/me").get_json()
    assert (me["email"], me["pending_email"], me["email_confirmed"]) == (
        "anne.neuve@example.org",
        None,
        True,
    )


def test_an_older_link_confirms_the_current_address_only_while_it_is_the_account_s(app, smtp, anne):
    old_link = "/email/confirm/" + confirm.make_token(anne)
    browser = _logged_in(app, "anne@example.org")
    _ask(browser, "anne.neuve@example.org")
    # Still Anne's address: the sign-up link confirms it, the pending one stays pending.
    assert app.test_client().post(old_link).status_code == 200
    member = _fresh(anne.id)
    assert member.email_confirmed_at is not None
    assert member.pending_email == "anne.neuve@example.org"
    # A sign-up link is not a change link, nor the other way round.
    change = confirm.make_change_token(member)
    assert confirm.read(change).change is True
    assert confirm.read(old_link.rsplit("/", 1)[1]).change is False


def test_a_newer_pending_address_voids_the_link_of_the_previous_one(app, smtp, anne):
    browser = _logged_in(app, "anne@example.org")
    _ask(browser, "premiere@example.org")
    _ask(browser, "seconde@example.org")
    [first] = smtp.to("premiere@example.org")
    assert app.test_client().post(_link_in(first)).status_code == 404
    assert _fresh(anne.id).email == "anne@example.org"
    [second] = smtp.to("seconde@example.org")
    assert app.test_client().post(_link_in(second)).status_code == 200
    assert _fresh(anne.id).email == "seconde@example.org"


# --- an address taken in between ---------------------------------------------------------


def test_an_address_taken_before_the_link_is_followed_changes_nothing(app, smtp, anne, api):
    browser = _logged_in(app, "anne@example.org")
    _ask(browser, "disputee@example.org")
    [message] = smtp.to("disputee@example.org")
    _member("disputee@example.org", at=CLICHY)  # someone signs up with it meanwhile
    response = app.test_client().post(_link_in(message))
    assert response.status_code == 409
    assert "celle d'un autre compte" in response.get_data(as_text=True).replace("&#39;", "'")
    member = _fresh(anne.id)
    assert (member.email, member.pending_email) == ("anne@example.org", None)
    assert smtp.to("anne@example.org") == []  # no notice: nothing changed
    # The API says it the same way.
    _ask(browser, "prise@example.org")
    message = smtp.to("prise@example.org")[0]
    _member("prise@example.org", at=CLICHY)
    r = api.post("/confirmations", json={"token": _link_in(message).rsplit("/", 1)[1]})
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "conflict"
    assert _fresh(anne.id).pending_email is None


def test_the_unique_index_firing_on_the_race_is_no_500(app, smtp, anne, monkeypatch):
    """The other account commits after the check: the database refuses the write."""
    browser = _logged_in(app, "anne@example.org")
    _ask(browser, "course@example.org")
    [message] = smtp.to("course@example.org")
    _member("course@example.org", at=CLICHY)
    monkeypatch.setattr(queries, "member_by_email", lambda email: None)  # the check missed it
    response = app.test_client().post(_link_in(message))
    monkeypatch.undo()
    assert response.status_code == 409
    member = _fresh(anne.id)
    assert (member.email, member.pending_email) == ("anne@example.org", None)


def test_a_taken_address_never_gets_a_link_even_once_free(app, smtp, anne, bruno):
    anne_id, bruno_id = anne.id, bruno.id
    browser = _logged_in(app, "anne@example.org")
    _ask(browser, "bruno@example.org")
    assert _links(smtp) == []
    # Bruno leaves; nothing Anne holds can apply his old address.
    gdpr.delete_account(_fresh(bruno_id), PASSWORD)
    db.session.commit()
    assert _fresh(anne_id).email == "anne@example.org"


# --- nothing keyed to an unconfirmed address ---------------------------------------------


def test_a_victim_s_address_pending_then_the_account_deleted_does_not_block_the_victim(app, smtp):
    mallory = _member("mallory@example.org")
    for spot in (CLICHY, FAR_AWAY, BATIGNOLLES):
        services.change_home(mallory, LocationInput(lat=spot[0], lon=spot[1]))
        db.session.commit()
    services.update_account(mallory, email="victime@example.org", current_password=PASSWORD)
    db.session.commit()
    gdpr.delete_account(_fresh(mallory.id), PASSWORD)
    db.session.commit()
    assert person.moves_blocked_until("victime@example.org") is None
    assert person.moves_blocked_until("mallory@example.org") is not None
    keys = set(db.session.scalars(select(DepartedHomeChange.email_key)))
    assert keys == {person.email_key("mallory@example.org")}


# --- the settings page: a new link, cancel ----------------------------------------------


def test_the_pending_address_can_be_cancelled(app, smtp, anne):
    browser = _logged_in(app, "anne@example.org")
    _ask(browser, "anne.neuve@example.org")
    page = browser.get("/account").get_data(as_text=True)
    assert "En attente de confirmation : anne.neuve@example.org" in page
    assert "Renvoyer le lien" in page and "Annuler" in page
    response = browser.post("/account/email/pending/cancel")
    assert response.status_code == 302
    assert _fresh(anne.id).pending_email is None
    page = browser.get("/account").get_data(as_text=True)
    assert "En attente de confirmation" not in page
    assert "votre adresse e-mail ne changera pas" in page
    [message] = smtp.to("anne.neuve@example.org")
    assert app.test_client().post(_link_in(message)).status_code == 404
    assert _fresh(anne.id).email == "anne@example.org"


def test_a_new_link_for_the_pending_address(app, smtp, anne, bruno):
    browser = _logged_in(app, "anne@example.org")
    _ask(browser, "anne.neuve@example.org")
    response = browser.post("/account/email/pending/again")
    assert response.status_code == 302
    assert "un nouveau lien part vers anne.neuve@example.org" in browser.get("/account").get_data(
        as_text=True
    )
    _first, again = smtp.to("anne.neuve@example.org")
    assert "nouveau lien" in plain_text(again)
    assert app.test_client().post(_link_in(again)).status_code == 200
    assert _fresh(anne.id).email == "anne.neuve@example.org"
    # A taken one: the same words, but no link (Bruno was told once, not again).
    carl = _member("carl@example.org")
    other = _logged_in(app, "carl@example.org")
    _ask(other, "bruno@example.org")
    other.post("/account/email/pending/again")
    assert "un nouveau lien part vers bruno@example.org" in other.get("/account").get_data(
        as_text=True
    )
    assert len(smtp.to("bruno@example.org")) == 1
    assert _fresh(carl.id).email == "carl@example.org"
    # Nothing pending: nothing sent.
    before = len(smtp.messages)
    browser.post("/account/email/pending/again")
    assert len(smtp.messages) == before


def test_new_links_are_limited_and_the_buttons_need_a_csrf_token(make_app, smtp, anne):
    limited = make_app(
        RATELIMIT_ENABLED=True, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port
    )
    browser = _logged_in(limited, "anne@example.org")
    _ask(browser, "anne.neuve@example.org")
    statuses = [browser.post("/account/email/pending/again").status_code for _ in range(6)]
    assert statuses == [302] * 5 + [429]
    strict = make_app(WTF_CSRF_ENABLED=True)
    browser = strict.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    browser.post(
        "/login", data={"email": "anne@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert browser.post("/account/email/pending/cancel").status_code == 400
    assert browser.post("/account/email/pending/again").status_code == 400
    assert _fresh(anne.id).pending_email == "anne.neuve@example.org"


def test_the_export_has_the_pending_address(app, anne, api):
    api.login("anne@example.org")
    assert api.get("/me/export").get_json()["account"]["pending_email"] is None
    api.patch("/me", json={"email": "anne.neuve@example.org", "current_password": PASSWORD})
    account = api.get("/me/export").get_json()["account"]
    assert (account["email"], account["pending_email"]) == (
        "anne@example.org",
        "anne.neuve@example.org",
    )
