"""The member's own account pages and other members' public profiles (both backends)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from peuplade import geo
from peuplade.extensions import db
from peuplade.models import HomeChange, Member
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, FAR_AWAY, PASSWORD
from tests.helpers.pages import checked_value, coordinate_strings, field_error, input_value

NEW_PASSWORD = "girafe bleue chante 77 fois"


@pytest.fixture
def batignolles_quartier(make_quartier):
    return make_quartier("batignolles", bounds=(2.310, 48.878, 2.330, 48.890))


def reload(member_id: int) -> Member:
    db.session.expire_all()  # requests may share this session: re-read, do not detach
    return db.session.get(Member, member_id)


# --- own pages -----------------------------------------------------------------


def test_own_page_shows_my_data_and_quartier_but_no_coordinates(
    client, auth, make_member, batignolles_quartier
):
    me = make_member(
        name="Anne", email="anne@example.org", skills=["couture"], tags=["tricot"], bio="Bonjour"
    )
    auth.login("anne@example.org")
    page = client.get("/account").get_data(as_text=True)
    assert "Anne" in page and "anne@example.org" in page
    assert "Batignolles" in page
    assert "Couture" in page and "tricot" in page and "Bonjour" in page
    assert "3 fois" in page  # home changes left this month
    public = geo.from_element(me.public_position)
    for written in coordinate_strings(BATIGNOLLES, (public.lat, public.lon)):
        assert written not in page


def test_edit_profile(client, auth, make_member):
    me = make_member(name="Anne", email="anne@example.org", skills=["couture"], radius_m=800)
    auth.login("anne@example.org")
    page = client.get("/account/profile").get_data(as_text=True)
    assert input_value(page, "display_name") == "Anne"
    assert checked_value(page, "radius_m") == "800"
    assert re.search(r'value="couture"[^>]*checked', page)

    response = client.post(
        "/account/profile",
        data={
            "display_name": "Anne M.",
            "bio": "Couturière à la retraite.",
            "skills": ["couture", "cuisine"],
            "tags": "Tricot, crochet",
            "radius_m": "1500",
        },
    )
    assert response.status_code == 302
    member = reload(me.id)
    assert member.display_name == "Anne M."
    assert member.bio == "Couturière à la retraite."
    assert member.skill_slugs == ["couture", "cuisine"]
    assert member.tag_names == ["crochet", "tricot"]
    assert member.radius_m == 1500
    assert "Votre profil est enregistré." in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("radius_m", "9000", "entre 200 et 5000"),
        ("radius_m", "beaucoup", "entre 200 et 5000"),
        ("tags", "<script>", "Mot-clé invalide"),
        ("display_name", "A", "au moins 2 caractères"),
    ],
)
def test_edit_profile_errors_keep_values_and_change_nothing(
    client, auth, make_member, field, value, message
):
    me = make_member(name="Anne", email="anne@example.org", radius_m=800)
    auth.login("anne@example.org")
    data = {
        "display_name": "Anne M.",
        "bio": "",
        "skills": ["cuisine"],
        "tags": "vélo",
        "radius_m": "1500",
        field: value,
    }
    response = client.post("/account/profile", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in field_error(page, field)
    if field == "radius_m":  # a choice: out of range, none is checked
        assert checked_value(page, field) is None
    else:
        assert input_value(page, field) == value
    member = reload(me.id)
    assert (member.display_name, member.radius_m, member.skill_slugs) == ("Anne", 800, [])


# --- password -------------------------------------------------------------------


def test_password_change_ends_other_sessions_and_keeps_this_one(make_app, make_member):
    make_member(email="anne@example.org")
    # An app whose context is not held open by the test: each request gets its own `g`,
    # as in production (Flask-Login caches the member there).
    app = make_app()
    here, elsewhere = app.test_client(), app.test_client()
    for browser in (here, elsewhere):
        browser.post("/login", data={"email": "anne@example.org", "password": PASSWORD})
        assert browser.get("/account").status_code == 200

    page = here.get("/account/password").get_data(as_text=True)
    box = re.search(r'<input [^>]*id="end_other_sessions"[^>]*>', page)
    assert box and " checked" in box.group(0)  # ticked by default
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
            "end_other_sessions": "y",
        },
    )
    assert response.status_code == 302
    page = here.get("/account")
    assert page.status_code == 200
    assert "Votre mot de passe est changé" in page.get_data(as_text=True)

    stale = elsewhere.get("/account")
    assert stale.status_code == 302
    assert stale.headers["Location"].startswith("/login")

    # Old password refused, new one accepted.
    fresh = app.test_client()
    old = fresh.post("/login", data={"email": "anne@example.org", "password": PASSWORD})
    assert old.status_code == 422
    new = fresh.post("/login", data={"email": "anne@example.org", "password": NEW_PASSWORD})
    assert new.status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"current_password": "pas le bon du tout"}, "current_password", "pas le bon"),
        ({"new_password": "court", "new_password_confirm": "court"}, "new_password", "12"),
        ({"new_password_confirm": "autre chose"}, "new_password_confirm", "pas identiques"),
    ],
)
def test_password_change_errors(client, auth, make_member, data, field, message):
    me = make_member(email="anne@example.org")
    before = me.password_hash
    auth.login("anne@example.org")
    form = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
        **data,
    }
    response = client.post("/account/password", data=form)
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), field)
    assert reload(me.id).password_hash == before
    assert client.get("/account").status_code == 200  # still logged in


# --- home -------------------------------------------------------------------------


def test_home_form_shows_my_own_point_to_me(client, auth, make_member):
    make_member(email="anne@example.org", at=BATIGNOLLES)
    auth.login("anne@example.org")
    page = client.get("/account/home").get_data(as_text=True)
    assert f'data-current="{BATIGNOLLES[0]:.6f},{BATIGNOLLES[1]:.6f}"' in page
    assert "3 fois" in page
    assert "/static/vendor/leaflet/leaflet.js" in page  # vendored, no CDN
    # No script or style sheet from another site (a CDN): searched in the tags, not in
    # the whole page, whose random tokens may hold any three letters.
    assert re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="(?:https?:)?//', page) == []


def test_home_change_is_limited_to_three_per_30_days(client, auth, make_member):
    me = make_member(email="anne@example.org", at=BATIGNOLLES)
    auth.login("anne@example.org")
    for point in (CLICHY, DAMES_LEMERCIER, BATIGNOLLES):
        response = client.post(
            "/account/home",
            data={"lat": point[0], "lon": point[1], "current_password": PASSWORD},
        )
        assert response.status_code == 302
    assert (geo.from_element(reload(me.id).home).lat) == pytest.approx(BATIGNOLLES[0])

    response = client.post(
        "/account/home",
        data={"lat": FAR_AWAY[0], "lon": FAR_AWAY[1], "current_password": PASSWORD},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "déjà changé de domicile 3 fois" in field_error(page, "address")
    assert "0 fois" in page
    home = geo.from_element(reload(me.id).home)
    assert (home.lat, home.lon) == pytest.approx(BATIGNOLLES)
    assert db.session.scalar(select(func.count()).select_from(HomeChange)) == 3


def test_home_change_with_a_bad_point_is_refused(client, auth, make_member):
    me = make_member(email="anne@example.org", at=BATIGNOLLES)
    auth.login("anne@example.org")
    response = client.post(
        "/account/home", data={"lat": "nan", "lon": "2.3", "current_password": PASSWORD}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Position invalide" in field_error(page, "address")
    assert input_value(page, "home-lat") == ""  # the rejected point is not sent again
    home = geo.from_element(reload(me.id).home)
    assert (home.lat, home.lon) == pytest.approx(BATIGNOLLES)
    assert db.session.scalar(select(func.count()).select_from(HomeChange)) == 0


# --- public profiles ---------------------------------------------------------------


def test_public_profile_of_a_neighbour(client, auth, make_member, batignolles_quartier):
    make_member(email="anne@example.org", at=BATIGNOLLES)
    bob = make_member(
        name="Bob",
        at=CLICHY,
        skills=["bricolage", "informatique"],
        tags=["vélo"],
        bio="Je répare les vélos.",
        email="bob@example.org",
    )
    auth.login("anne@example.org")
    response = client.get(f"/profile/{bob.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Bob" in page and "Je répare les vélos." in page
    assert "Bricolage" in page and "Informatique" in page and "vélo" in page
    assert "Batignolles" in page
    assert "bob@example.org" not in page
    public = geo.from_element(bob.public_position)
    for written in coordinate_strings(CLICHY, BATIGNOLLES, (public.lat, public.lon)):
        assert written not in page


def test_profile_outside_my_neighbourhood_is_not_found(client, auth, make_member):
    make_member(email="anne@example.org", at=BATIGNOLLES, radius_m=500)
    far = make_member(name="Zoé", at=FAR_AWAY, radius_m=500)
    auth.login("anne@example.org")
    response = client.get(f"/profile/{far.id}")
    assert response.status_code == 404
    assert "Zoé" not in response.get_data(as_text=True)
    assert client.get("/profile/999999").status_code == 404
