"""Register, log in, log out through the HTML pages (both backends)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from peuplade.auth.routes import safe_next
from peuplade.extensions import db
from peuplade.geo import from_element
from peuplade.models import Member
from tests.conftest import BATIGNOLLES, PASSWORD
from tests.helpers.pages import checked_value, field_error, input_value, text_of

# Our own small gazetteer, so these tests do not depend on the shipped one.
GAZETTEER = {
    "entries": [
        {"label": "8 rue des Dames, 75017 Paris", "lat": 48.88462, "lon": 2.32091},
        {"label": "5 place de la Gare, 69002 Lyon", "lat": 45.74938, "lon": 4.82592},
        {"label": "5 place de la Gare, 33800 Bordeaux", "lat": 44.82563, "lon": -0.55612},
    ]
}


@pytest.fixture
def site(make_app, tmp_path):
    path = tmp_path / "gazetteer.json"
    path.write_text(json.dumps(GAZETTEER), encoding="utf-8")
    app = make_app(GAZETTEER_PATH=str(path))
    with app.app_context():
        yield app


@pytest.fixture
def browser(site):
    return site.test_client()


# --- small HTML readers -------------------------------------------------------


def checked_values(page: str, name: str) -> set[str]:
    return {
        m.group(1)
        for tag in re.finditer(rf'<input [^>]*name="{name}"[^>]*>', page)
        if " checked" in tag.group(0)
        for m in [re.search(r'value="([^"]*)"', tag.group(0))]
    }


def member_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Member))


def registration(**overrides) -> dict:
    data = {
        "email": "Anne.Martin@example.org",
        "display_name": "Anne",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "address": "8 rue des Dames, 75017 Paris",
        "lat": "",
        "lon": "",
        "radius_m": "1200",
        "skills": ["bricolage", "couture"],
        "tags": "vélo, tricot",
        "bio": "Retraitée, j'aime coudre.",
    }
    data.update(overrides)
    return data


# --- registration -------------------------------------------------------------


def test_register_page_is_readable_without_login(browser):
    page = browser.get("/register").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert 'for="email"' in page and 'for="address"' in page  # visible labels
    # The radius is a choice with its meaning; "10 min à pied · ~800 m" at first.
    assert checked_value(page, "radius_m") == "800"
    # Every skill of the fixed list is a checkbox.
    assert len(re.findall(r'type="checkbox" name="skills"', page)) == 13


def test_register_creates_an_unconfirmed_member_and_asks_to_check_the_mailbox(browser):
    response = browser.post("/register", data=registration())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert (
        "Vérifiez votre boîte mail : nous avons envoyé un lien à anne.martin@example.org."
        in text_of(page)
    )
    assert response.headers["Cache-Control"] == "no-store"
    # Not logged in: the same answer as for an address that has an account already.
    assert browser.get("/account").status_code == 302

    member = db.session.scalar(select(Member))
    assert member.email_confirmed_at is None
    assert member.email == "anne.martin@example.org"
    assert member.display_name == "Anne"
    assert member.radius_m == 1200
    assert member.skill_slugs == ["bricolage", "couture"]
    assert member.tag_names == ["tricot", "vélo"]
    home = from_element(member.home)
    assert (round(home.lat, 5), round(home.lon, 5)) == (48.88462, 2.32091)

    # The account works before its address is confirmed.
    assert (
        browser.post(
            "/login", data={"email": "anne.martin@example.org", "password": PASSWORD}
        ).headers["Location"]
        == "/"
    )
    page = browser.get("/").get_data(as_text=True)
    assert "Bonjour Anne" in page
    assert 'href="/publish"' in page and 'href="/more"' in page  # the members' navigation
    assert "Confirmez votre adresse e-mail" in text_of(page)
    assert browser.get("/account").status_code == 200


def test_register_with_a_point_picked_on_the_map(browser):
    response = browser.post(
        "/register",
        data=registration(address="", lat=str(BATIGNOLLES[0]), lon=str(BATIGNOLLES[1])),
    )
    assert response.status_code == 200
    home = from_element(db.session.scalar(select(Member)).home)
    assert (home.lat, home.lon) == pytest.approx(BATIGNOLLES)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"password": "court", "password_confirm": "court"}, "password", "au moins 12 caractères"),
        (
            {"password": "azertyazerty", "password_confirm": "azertyazerty"},
            "password",
            "trop facile à deviner",
        ),
        ({"password_confirm": "autre chose encore 42"}, "password_confirm", "pas identiques"),
        ({"address": "3 rue Imaginaire, 75017 Paris"}, "address", "Adresse introuvable"),
        ({"radius_m": "50"}, "radius_m", "entre 200 et 5000"),
        ({"radius_m": "9000"}, "radius_m", "entre 200 et 5000"),
        ({"address": "", "lat": "NaN", "lon": "2.32"}, "address", "Position invalide"),
        ({"address": "", "lat": "200", "lon": "2.32"}, "address", "Position invalide"),
        ({"display_name": " ", "skills": ["bricolage"]}, "display_name", "nom"),
    ],
    ids=[
        "short-password",
        "weak-password",
        "mismatch",
        "unknown-address",
        "radius-50",
        "radius-9000",
        "lat-nan",
        "lat-200",
        "blank-name",
    ],
)
def test_register_error_is_shown_next_to_field_and_keeps_values(browser, overrides, field, message):
    before = member_count()
    data = registration(**overrides)
    response = browser.post("/register", data=data)
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert message in field_error(page, field)
    # The input points at its error, and the summary at the top links to the field.
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', page)
    assert 'class="error-summary"' in page and f'href="#{field}"' in page
    # What the member typed is still there; the passwords too, unless refused.
    assert input_value(page, "email") == data["email"]
    if field != "display_name":
        assert input_value(page, "display_name") == data["display_name"]
    assert input_value(page, "tags") == data["tags"]
    # A radius out of range is no choice to keep: the member picks one again.
    kept_radius = None if field == "radius_m" else data["radius_m"]
    assert checked_value(page, "radius_m") == kept_radius
    assert data["bio"].replace("'", "&#39;") in page
    assert checked_values(page, "skills") == set(data["skills"])
    if field.startswith("password"):
        assert not input_value(page, "password")
        assert not input_value(page, "password_confirm")
    else:
        assert input_value(page, "password") == data["password"]
        assert input_value(page, "password_confirm") == data["password_confirm"]
    assert response.headers["Cache-Control"] == "no-store"  # it holds the passwords
    assert member_count() == before


def test_an_email_taken_in_another_case_is_not_an_error(browser, make_member):
    make_member(email="anne.martin@example.org")
    before = member_count()
    response = browser.post("/register", data=registration(email="ANNE.Martin@Example.ORG"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "existe déjà" not in page
    assert "Vérifiez votre boîte mail" in page
    assert member_count() == before


def test_ambiguous_address_offers_choices_and_the_choice_registers(browser):
    before = member_count()
    data = registration(address="5 place de la Gare")
    response = browser.post("/register", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Plusieurs adresses correspondent" in field_error(page, "address")
    assert 'name="address_choice" value="0"' in page
    assert "5 place de la Gare, 69002 Lyon" in page
    assert "5 place de la Gare, 33800 Bordeaux" in page
    assert input_value(page, "address") == "5 place de la Gare"
    assert input_value(page, "password") == PASSWORD  # not to be typed again
    assert member_count() == before

    chosen = re.search(
        r'name="address_choice" value="(\d)"[^>]*>\s*<label[^>]*>5 place de la Gare, 33800',
        page,
    )
    assert chosen
    response = browser.post(
        "/register",
        data={**data, "address_choice": chosen.group(1), "choice_for": "5 place de la Gare"},
    )
    assert response.status_code == 200
    home = from_element(db.session.scalar(select(Member)).home)
    assert (home.lat, home.lon) == pytest.approx((44.82563, -0.55612))


def test_a_choice_made_for_another_address_is_not_used(browser):
    before = member_count()
    response = browser.post(
        "/register",
        data=registration(
            address="5 place de la Gare", address_choice="0", choice_for="autre adresse"
        ),
    )
    assert response.status_code == 422
    assert member_count() == before


def test_logged_in_member_is_sent_away_from_register(client, make_member, auth):
    make_member(email="bob@example.org")
    auth.login("bob@example.org")
    response = client.get("/register")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- login / logout -------------------------------------------------------------


def test_login_and_logout(client, make_member, auth):
    make_member(name="Bob", email="bob@example.org")
    response = auth.login("BOB@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Bonjour Bob" in client.get("/").get_data(as_text=True)

    assert client.get("/logout").status_code == 405  # a link or prefetch cannot log out
    assert client.get("/account").status_code == 200

    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [("bob@example.org", "not the right password"), ("nobody@example.org", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_wrong_credentials_get_one_generic_message(client, make_member, auth, email, password):
    make_member(email="bob@example.org")
    response = auth.login(email, password)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "E-mail ou mot de passe incorrect." in page
    assert client.get("/account").status_code == 302
    assert input_value(page, "email") == email
    assert not input_value(page, "password")


def test_login_regenerates_the_session(client, make_member, auth):
    make_member(email="bob@example.org")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    auth.login("bob@example.org")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        # The cookie carries a new random session id, not the member's id.
        session_id = sess["_user_id"]
    assert len(session_id) >= 40
    assert str(db.session.scalar(select(Member.id))) not in session_id.split(".")


def test_login_follows_a_safe_next(client, make_member):
    make_member(email="bob@example.org")
    page = client.get("/login?next=/account/profile").get_data(as_text=True)
    assert input_value(page, "next") == "/account/profile"
    response = client.post(
        "/login",
        data={"email": "bob@example.org", "password": PASSWORD, "next": "/account/profile"},
    )
    assert response.headers["Location"] == "/account/profile"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\tevil",
    ],
)
def test_login_ignores_an_unsafe_next(client, make_member, target):
    make_member(email="bob@example.org")
    response = client.post(
        "/login", data={"email": "bob@example.org", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_safe_next_keeps_only_local_paths():
    assert safe_next("/neighbours?skill=couture") == "/neighbours?skill=couture"
    for bad in (
        "",
        None,
        "//evil.example",
        "http://evil.example/",
        "/\\evil",
        "x/y",
        "https:/evil.example",
    ):
        assert safe_next(bad) is None


@pytest.mark.parametrize(
    "path",
    [
        "/neighbours",
        "/account",
        "/account/profile",
        "/account/home",
        "/account/password",
        "/profile/1",
    ],
)
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_anonymous_home_page_is_a_welcome(client):
    page = client.get("/").get_data(as_text=True)
    assert "Bienvenue sur Peuplade" in page
    assert 'href="/register"' in page and 'href="/login"' in page


def test_post_without_csrf_token_is_refused(make_app, make_member):
    make_member(email="bob@example.org")
    app = make_app(WTF_CSRF_ENABLED=True)
    browser = app.test_client()
    credentials = {"email": "bob@example.org", "password": PASSWORD}

    refused = browser.post("/login", data=credentials)
    assert refused.status_code == 400
    assert "La demande est mal formée." in refused.get_data(as_text=True)
    assert browser.get("/account").status_code == 302

    page = browser.get("/login").get_data(as_text=True)
    token = input_value(page, "csrf_token")
    assert token
    accepted = browser.post("/login", data={**credentials, "csrf_token": token})
    assert accepted.status_code == 302
    assert browser.get("/account").status_code == 200

    # Logging out is a POST too, and needs the token as well.
    assert browser.post("/logout").status_code == 400
    assert browser.get("/account").status_code == 200


def test_login_is_throttled(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    browser = app.test_client()
    wrong = {"email": "nobody@example.org", "password": "wrong password here"}
    for _ in range(10):
        assert browser.post("/login", data=wrong).status_code == 422
    response = browser.post("/login", data=wrong)
    assert response.status_code == 429
    assert "Trop de tentatives" in response.get_data(as_text=True)
    assert browser.get("/login").status_code == 200  # reading the page is not limited


def test_language_switch_is_a_post_that_comes_back_here(make_app):
    client = make_app().test_client()  # no app context held open: the locale is per request
    assert client.get("/lang/en").status_code == 405
    response = client.post("/lang/en", data={"next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert re.search(r'lang="en"\s+aria-pressed="true"', page)
    unsafe = client.post("/lang/fr", data={"next": "//evil.example/"})
    assert unsafe.headers["Location"] == "/"


def test_a_huge_form_is_refused_with_a_clear_page_and_writes_nothing(client):
    from sqlalchemy import func, select

    from peuplade.extensions import db
    from peuplade.models import Member

    r = client.post(
        "/register",
        data={"email": "big@example.org", "display_name": "Big", "bio": "x" * (2 * 1024 * 1024)},
    )
    assert r.status_code == 413
    assert "trop volumineux" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0


def test_a_page_behind_the_login_says_so_in_the_visitors_language(client):
    """Flask-Login's own message is English: ours is translated."""
    answer = client.get("/account/position", follow_redirects=True)
    assert "Connectez-vous pour ouvrir cette page." in answer.get_data(as_text=True)
    assert "Please log in to access this page" not in answer.get_data(as_text=True)
    client.post("/lang/en")
    answer = client.get("/account/position", follow_redirects=True)
    assert "Please log in to open this page." in answer.get_data(as_text=True)
