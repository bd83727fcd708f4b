"""Sign-up does not tell whether an address has an account (issue 19), through the page
and the API, with a real SMTP server (aiosmtpd on loopback): the same status and the
same words for a new address and a taken one, nothing created for the taken one, and
its owner told by e-mail; every field error is the same either way; the password is
hashed either way (the one slow step)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from peuplade.account import person, services
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import Member, utcnow
from tests.conftest import BATIGNOLLES, PASSWORD
from tests.helpers.mail import mail_settings, plain_text

TAKEN = "anne@example.org"
NEW = "nouvelle@example.org"
GAZETTEER = {
    "entries": [
        {"label": "5 place de la Gare, 69002 Lyon", "lat": 45.74938, "lon": 4.82592},
        {"label": "5 place de la Gare, 33800 Bordeaux", "lat": 44.82563, "lon": -0.55612},
    ]
}


@pytest.fixture
def app(make_app, smtp, tmp_path):
    path = tmp_path / "gazetteer.json"
    path.write_text(json.dumps(GAZETTEER), encoding="utf-8")
    app = make_app(**mail_settings(smtp), GAZETTEER_PATH=str(path))
    with app.app_context():
        yield app


@pytest.fixture
def anne(app):
    member = services.register_member(
        email=TAKEN,
        password=PASSWORD,
        display_name="Anne",
        location=LocationInput(lat=BATIGNOLLES[0], lon=BATIGNOLLES[1]),
        locale="fr",
    )
    db.session.commit()
    return member


def _form(email: str, **overrides) -> dict:
    return {
        "email": email,
        "display_name": "Nadia",
        "password": "lampe tempête 42 cerises",
        "password_confirm": "lampe tempête 42 cerises",
        "address": "",
        "lat": "48.88462",
        "lon": "2.32091",
        "radius_m": "1000",
        "tags": "",
        "bio": "",
        **overrides,
    }


def _body(email: str, **overrides) -> dict:
    return {
        "email": email,
        "password": "lampe tempête 42 cerises",
        "display_name": "Nadia",
        "location": {"lat": 48.88462, "lon": 2.32091},
        **overrides,
    }


def _members() -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(Member))


def _page(response, email: str) -> str:
    """The page as any visitor would get it for ``TAKEN``: the address it names put back
    to TAKEN, and what changes on every request (CSRF tokens, CSP nonces) taken out."""
    page = response.get_data(as_text=True).replace(email, TAKEN)
    page = re.sub(r'name="csrf_token" value="[^"]*"', "", page)
    return re.sub(r'nonce="[^"]*"', "", page)


def _headers(response) -> dict:
    kept = ("Content-Type", "Cache-Control", "Referrer-Policy", "Location", "Vary")
    return {name: response.headers.get(name) for name in kept}


def _register_both(app, form_of) -> tuple:
    """The same sign-up, once with the taken address and once with a new one, each from a
    fresh browser."""
    taken = app.test_client().post("/register", data=form_of(TAKEN))
    new = app.test_client().post("/register", data=form_of(NEW))
    return taken, new


# --- the page --------------------------------------------------------------------------


def test_the_page_answers_a_taken_address_exactly_as_a_new_one(app, smtp, anne):
    anne_id = anne.id
    browsers = app.test_client(), app.test_client()
    taken = browsers[0].post("/register", data=_form(TAKEN))
    new = browsers[1].post("/register", data=_form(NEW))

    assert taken.status_code == new.status_code == 200
    assert _page(taken, TAKEN) == _page(new, NEW)
    assert _headers(taken) == _headers(new)
    assert "Vérifiez votre boîte mail : nous avons envoyé un lien à anne@example.org" in (
        _page(taken, TAKEN)
    )
    # Neither visitor is logged in.
    assert [b.get("/account").status_code for b in browsers] == [302, 302]
    assert _members() == 2  # Anne, and the new one only
    # Anne is told someone tried, and how to log in or choose a new password; her
    # account is as it was.
    [notice] = smtp.to(TAKEN)
    assert notice["Subject"] == "Peuplade : vous avez déjà un compte"
    assert "https://peuplade.example/login" in plain_text(notice)
    assert "https://peuplade.example/password/forgot" in plain_text(notice)
    assert "/email/confirm/" not in plain_text(notice)
    assert db.session.get(Member, anne_id).display_name == "Anne"
    # The new address gets its confirmation link.
    [link] = smtp.to(NEW)
    assert "/email/confirm/" in plain_text(link)


def test_a_taken_address_in_another_case_is_answered_the_same(app, smtp, anne):
    response = app.test_client().post("/register", data=_form("ANNE@Example.ORG"))
    new = app.test_client().post("/register", data=_form(NEW))
    assert response.status_code == 200
    assert _page(response, TAKEN) == _page(new, NEW)
    assert _members() == 2
    assert len(smtp.to(TAKEN)) == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"password": "court", "password_confirm": "court"},
        {"password": "azertyazerty", "password_confirm": "azertyazerty"},
        {"password_confirm": "autre chose encore 42"},
        {"display_name": " "},
        {"radius_m": "9000"},
        {"lat": "", "lon": "", "address": "3 rue Imaginaire, 75017 Paris"},
        {"lat": "", "lon": "", "address": "5 place de la Gare"},  # ambiguous: candidates
        {"lat": "", "lon": "", "address": ""},
    ],
    ids=["short", "weak", "mismatch", "name", "radius", "unknown", "ambiguous", "no-home"],
)
def test_field_errors_are_the_same_whether_the_address_is_taken_or_not(app, smtp, anne, overrides):
    taken, new = _register_both(app, lambda email: _form(email, **overrides))
    assert taken.status_code == new.status_code == 422
    assert _page(taken, TAKEN) == _page(new, NEW)
    assert "existe déjà" not in _page(taken, TAKEN)
    assert _members() == 1
    assert smtp.messages == []


def test_the_password_is_hashed_for_a_taken_address_too(app, anne, monkeypatch):
    hashed: list[str] = []
    real = services.hash_password

    def spy(password: str) -> str:
        hashed.append(password)
        return real(password)

    monkeypatch.setattr(services, "hash_password", spy)
    app.test_client().post("/register", data=_form(TAKEN))
    assert hashed == ["lampe tempête 42 cerises"]
    app.test_client().post("/register", data=_form(NEW))
    assert hashed == ["lampe tempête 42 cerises"] * 2


def test_an_address_that_must_wait_is_answered_the_same_and_told_when(app, smtp, monkeypatch):
    until = utcnow() + timedelta(days=12)
    monkeypatch.setattr(
        person, "moves_blocked_until", lambda email, now=None: until if email == TAKEN else None
    )
    blocked, new = _register_both(app, _form)
    assert blocked.status_code == new.status_code == 200
    assert _page(blocked, TAKEN) == _page(new, NEW)
    assert _members() == 1  # the new one only
    [told] = smtp.to(TAKEN)
    assert "Vous pourrez vous réinscrire avec cette adresse à partir du" in plain_text(told)
    assert str(until.year) in plain_text(told)


# --- the API ---------------------------------------------------------------------------


def test_the_api_answers_a_taken_address_exactly_as_a_new_one(app, smtp, anne):
    taken = app.test_client().post("/api/v1/members", json=_body(TAKEN))
    new = app.test_client().post("/api/v1/members", json=_body(NEW))
    assert taken.status_code == new.status_code == 202
    assert taken.get_data(as_text=True) == new.get_data(as_text=True).replace(NEW, TAKEN)
    assert _headers(taken) == _headers(new)
    assert taken.get_json()["status"] == "pending"
    assert "Location" not in taken.headers and "Location" not in new.headers
    assert _members() == 2
    assert len(smtp.to(TAKEN)) == 1 and "/password/forgot" in plain_text(smtp.to(TAKEN)[0])
    # The new account works at once: a token, as before.
    token = app.test_client().post(
        "/api/v1/tokens", json={"email": NEW, "password": "lampe tempête 42 cerises"}
    )
    assert token.status_code == 201


@pytest.mark.parametrize(
    "overrides",
    [
        {"password": "court"},
        {"display_name": "x"},
        {"location": {"address": "3 rue Imaginaire, 75017 Paris"}},
        {"location": {"address": "5 place de la Gare"}},
    ],
    ids=["short", "name", "unknown", "ambiguous"],
)
def test_api_field_errors_are_the_same_whether_the_address_is_taken_or_not(
    app, smtp, anne, overrides
):
    taken = app.test_client().post("/api/v1/members", json=_body(TAKEN, **overrides))
    new = app.test_client().post("/api/v1/members", json=_body(NEW, **overrides))
    assert taken.status_code == new.status_code == 422
    assert taken.get_json() == new.get_json()
    assert "email" not in taken.get_json()["error"]["fields"]
    assert _members() == 1
    assert smtp.messages == []


def test_sign_ups_from_many_machines_cannot_flood_an_owner_s_mailbox(make_app, smtp, tmp_path):
    """At most ratelimits.SIGN_UP_MAILS e-mails to an address that has an account, whatever
    the number of client addresses; beyond, the answer is the same and nothing is sent."""
    app = make_app(**mail_settings(smtp), RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        services.register_member(
            email=TAKEN,
            password=PASSWORD,
            display_name="Anne",
            location=LocationInput(lat=BATIGNOLLES[0], lon=BATIGNOLLES[1]),
        )
        db.session.commit()
        pages = []
        for n in range(5):
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
            pages.append(client.post("/register", data=_form(TAKEN)))
        assert [p.status_code for p in pages] == [200] * 5
        assert len({_page(p, TAKEN) for p in pages}) == 1
        assert len(smtp.to(TAKEN)) == 3
