"""Sign-up does not tell whether an address has an account (issue 19), through the page
and the API, with a real SMTP server (aiosmtpd on loopback): the same status and the
same words for a new address and a taken one, nothing created for the taken one, and
its owner told by e-mail; every field error is the same either way; the password is
hashed either way (the one slow step).

Issue 21: the page is three short steps in one form (who you are, where you live, what
you know how to do) that reopens on the first step with an error and loses nothing
typed; after it, "Premiers pas"."""

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
from tests.helpers.pages import field_error, input_value
from tests.helpers.pages import text_of as plain

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


# --- sign-up in three short steps (issue 21) ---------------------------------------------

STEP_FIELDS = {
    "step-who": ["display_name", "email", "password", "password_confirm"],
    "step-home": ["address", "home-lat", "home-lon", "radius_m"],
    "step-skills": ["skills", "tags", "bio"],
}


def _steps(page: str) -> dict[str, str]:
    """Each step's section of the page, by its id, in the page's order."""
    return dict(
        re.findall(
            r'<section class="signup-step" id="(step-[a-z]+)".*?>(.*?)</section>', page, re.S
        )
    )


def _open_step(page: str) -> str:
    found = re.search(r'data-open-step="(\d)"', page)
    assert found, "the form does not say which step to open"
    return found.group(1)


def test_the_page_is_three_steps_in_one_form(app):
    page = app.test_client().get("/register").get_data(as_text=True)
    steps = _steps(page)
    assert list(steps) == list(STEP_FIELDS)
    for number, (step, fields) in enumerate(STEP_FIELDS.items(), start=1):
        assert f"Étape {number} sur 3" in plain(steps[step])
        for field in fields:
            assert f'id="{field}"' in steps[step], (field, step)
    titles = [plain(re.search(r"<h2.*?</h2>", s, re.S).group(0)) for s in steps.values()]
    assert titles == [
        "Étape 1 sur 3 : Qui êtes-vous ?",
        "Étape 2 sur 3 : Où habitez-vous ?",
        "Étape 3 sur 3 : Que savez-vous faire ?",
    ]
    # One form, one button that sends it (at the end); "Suivant" and "Retour" only
    # appear with the script, which needs no inline code.
    assert re.search(r"<main.*?</main>", page, re.S).group(0).count("<form") == 1
    assert page.count('type="submit" class="button button--primary"') == 1
    assert "Créer mon compte" in steps["step-skills"]
    assert len(re.findall(r'<div class="signup-step__nav" data-step-nav hidden>', page)) == 3
    assert '<script src="/static/js/signup-steps.js' in page
    assert _open_step(page) == "1"


def test_the_page_checks_each_step_with_the_server_s_own_words(app):
    page = app.test_client().get("/register").get_data(as_text=True)
    assert 'data-required="Indiquez votre adresse e-mail."' in page
    assert 'data-invalid="Adresse e-mail invalide."' in page
    assert 'data-min-length="12"' in page
    assert "Le mot de passe doit faire au moins 12 caractères." in page
    assert 'data-different="Les deux mots de passe ne sont pas identiques."' in page
    assert (
        'data-location-missing="Indiquez votre adresse, ou placez votre domicile sur la carte."'
        in page
    )
    english = app.test_client().get("/register", headers={"Accept-Language": "en"})
    english = english.get_data(as_text=True)
    assert "Indiquez votre adresse e-mail." not in english  # the messages follow the language


@pytest.mark.parametrize(
    ("overrides", "step"),
    [
        ({"display_name": " "}, "1"),
        ({"password_confirm": "autre chose encore 42"}, "1"),
        ({"lat": "", "lon": "", "address": "3 rue Imaginaire, 75017 Paris"}, "2"),
        ({"lat": "", "lon": "", "address": ""}, "2"),
        ({"radius_m": "9000"}, "2"),
        ({"bio": "x" * 1001}, "3"),
        # Errors on several steps: the first of them.
        (
            {"lat": "", "lon": "", "address": "", "password": "court", "password_confirm": "court"},
            "1",
        ),
    ],
    ids=["name", "mismatch", "unknown-address", "no-home", "radius", "bio", "first-of-two"],
)
def test_an_error_reopens_the_first_step_that_has_one(app, overrides, step):
    response = app.test_client().post("/register", data=_form(NEW, **overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _open_step(page) == step
    # The message is next to its field, in that step.
    shown = list(_steps(page))[int(step) - 1]
    assert 'class="field-error"' in _steps(page)[shown]


def test_an_unknown_address_keeps_everything_typed(app):
    """A geocoder miss costs nothing: name, e-mail, both passwords, skills, the rest."""
    data = _form(
        NEW,
        lat="",
        lon="",
        address="3 rue Imaginaire, 75017 Paris",
        skills=["bricolage", "couture"],
        tags="vélo, tricot",
        bio="Retraitée, j'aime coudre.",
    )
    response = app.test_client().post("/register", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Adresse introuvable" in field_error(page, "address")
    for name in ("display_name", "email", "password", "password_confirm", "address", "tags"):
        assert input_value(page, name) == data[name], name
    assert re.findall(r'name="skills" value="([a-z]+)"[^>]*checked', page) == [
        "bricolage",
        "couture",
    ]
    assert "Retraitée, j&#39;aime coudre." in page
    # The typed "more about you" stays unfolded, and the page is kept out of caches.
    assert '<details class="signup-more" open>' in page
    assert response.headers["Cache-Control"] == "no-store"
    assert _members() == 0


# --- "Premiers pas" after sign-up ----------------------------------------------------------


def _links(page: str) -> list[str]:
    """The buttons of the page's main part (not of its header)."""
    main = re.search(r"<main.*?</main>", page, re.S).group(0)
    return re.findall(r'<a class="button[^"]*" href="([^"]+)"', main)


def _log_in(browser, email: str, password: str, next_path: str | None = None):
    page = browser.get("/login" + (f"?next={next_path}" if next_path else ""))
    hidden = re.search(r'name="next" type="hidden" value="([^"]*)"', page.get_data(as_text=True))
    return browser.post(
        "/login",
        data={"email": email, "password": password, "next": hidden.group(1) if hidden else ""},
    )


def test_logging_in_from_the_sign_up_answer_opens_premiers_pas(app, smtp):
    browser = app.test_client()
    sent = browser.post("/register", data=_form(NEW, skills=["bricolage"]))
    assert sent.status_code == 200
    login = re.search(
        r'<a class="button button--primary" href="([^"]+)">Se connecter',
        sent.get_data(as_text=True),
    )
    assert login and login.group(1) == "/login?next=/account/first-steps"
    response = _log_in(browser, NEW, "lampe tempête 42 cerises", "/account/first-steps")
    assert response.headers["Location"] == "/account/first-steps"

    page = browser.get("/account/first-steps").get_data(as_text=True)
    assert "<h1>Premiers pas</h1>" in page
    assert "Bienvenue, Nadia !" in plain(page)
    cards = re.findall(r'<li class="first-step">(.*?)</li>', page, re.S)
    assert [plain(re.search(r"<h2.*?</h2>", c, re.S).group(0)) for c in cards] == [
        "Ajouter mon savoir-faire",
        "Ma première demande ou offre",
        "Imprimer l’affiche pour mon immeuble",
    ]
    # Each says why in a sentence; her skill is named back to her.
    assert all(re.search(r"<p>[^<]{40,}</p>", card) for card in cards)
    assert "Vous avez déjà indiqué : Bricolage." in plain(cards[0])
    assert _links(page) == [
        "/account/profile#skills",
        "/publish",  # the chooser of every kind of post
        "/board",
        "/",
    ]
    assert "Passer, voir le fil" in page
    # A later login goes to the feed: the page is not shown at every login.
    browser.post("/logout")
    assert _log_in(browser, NEW, "lampe tempête 42 cerises").headers["Location"] == "/"


def _confirmation_path(smtp, email: str) -> str:
    [message] = smtp.to(email)
    return re.search(r"https://peuplade\.example(/email/confirm/\S+)", plain_text(message)).group(1)


def test_confirming_a_new_address_leads_to_premiers_pas(app, smtp):
    other = "autre@example.org"
    for email in (NEW, other):
        app.test_client().post("/register", data=_form(email))
    # From the e-mail, not logged in: the login, then Premiers pas.
    done = app.test_client().post(_confirmation_path(smtp, NEW)).get_data(as_text=True)
    assert "Merci ! Votre adresse e-mail est confirmée." in done
    assert 'href="/login?next=/account/first-steps"' in done
    # Logged in already (the account works before): straight to it.
    browser = app.test_client()
    _log_in(browser, other, "lampe tempête 42 cerises")
    path = _confirmation_path(smtp, other)
    done = browser.post(path).get_data(as_text=True)
    assert re.search(r'href="/account/first-steps">\s*Continuer', done)
    # Only the first time: a link followed again leads to the feed.
    again = browser.post(path).get_data(as_text=True)
    assert "déjà confirmée" in again and "/account/first-steps" not in again


def test_premiers_pas_is_for_members_and_reachable_from_my_profile(app, anne):
    assert app.test_client().get("/account/first-steps").status_code == 302
    browser = app.test_client()
    _log_in(browser, TAKEN, PASSWORD)
    overview = browser.get("/account").get_data(as_text=True)
    assert 'href="/account/first-steps"' in overview
    page = browser.get("/account/first-steps").get_data(as_text=True)
    assert "Les voisins qui cherchent de l’aide vous trouveront" in page  # no skill yet
