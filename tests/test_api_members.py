"""JSON API v1: accounts, tokens, profiles and neighbours (happy paths, auth, privacy)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from peuplade import geo
from peuplade.account import services
from peuplade.extensions import db
from peuplade.models import ApiToken, Member, utcnow
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, FAR_AWAY, PASSWORD

NEW_PASSWORD = "girafe orange 77 sous la pluie"


def _register_body(**overrides):
    body = {
        "email": "Nadia@Example.org",
        "password": PASSWORD,
        "display_name": "Nadia",
        "location": {"lat": DAMES_LEMERCIER[0], "lon": DAMES_LEMERCIER[1]},
    }
    body.update(overrides)
    return body


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _coordinate_strings(point: tuple[float, float]) -> list[str]:
    """A point's latitude and longitude as they would appear in JSON, to 4 decimals."""
    return [f"{point[0]:.5f}"[:-1], f"{point[1]:.5f}"[:-1]]


def _keys(value) -> set[str]:
    """Every key of every object nested in a JSON document."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


# --- POST /members --------------------------------------------------------------------


def _pending(r) -> dict:
    """The answer to a sign-up: the same for an address with or without an account."""
    assert r.status_code == 202, r.get_json()
    assert "Location" not in r.headers
    data = r.get_json()
    assert set(data) == {"status", "message"}
    assert data["status"] == "pending"
    return data


def test_register_with_a_point_then_get_a_token(api):
    r = api.post(
        "/members",
        json=_register_body(
            radius_m=1500, skills=["bricolage", "cuisine"], tags=["Vélo"], bio="Salut"
        ),
    )
    data = _pending(r)
    assert "nadia@example.org" in data["message"]  # case-folded, as stored
    assert "password" not in r.get_data(as_text=True)
    # The account works at once: the password gives a token for this member.
    api.login("NADIA@example.org")
    me = api.get("/me").get_json()
    assert me["email"] == "nadia@example.org"
    assert me["email_confirmed"] is False
    assert me["display_name"] == "Nadia"
    assert me["radius_m"] == 1500
    assert me["skills"] == ["bricolage", "cuisine"]
    assert me["tags"] == ["vélo"]
    assert me["bio"] == "Salut"
    assert me["home"] == {"lat": DAMES_LEMERCIER[0], "lon": DAMES_LEMERCIER[1]}
    assert me["quartier"] is None
    created = datetime.fromisoformat(me["created_at"])
    assert created.utcoffset() == timedelta(0)


def test_register_defaults_radius_to_1000(api):
    _pending(api.post("/members", json=_register_body()))
    api.login("nadia@example.org")
    me = api.get("/me").get_json()
    assert me["radius_m"] == 1000
    assert me["skills"] == [] and me["tags"] == []


@pytest.fixture
def gazetteer_client(make_app, tmp_path):
    """An app whose offline geocoder knows one clear address and one ambiguous street."""
    path = tmp_path / "gazetteer.json"
    path.write_text(
        json.dumps(
            {
                "entries": [
                    {"label": "12 Rue des Dames, 75017 Paris", "lat": 48.88462, "lon": 2.32091},
                    {"label": "Rue Truffaut, 75017 Paris (nord)", "lat": 48.8890, "lon": 2.3190},
                    {"label": "Rue Truffaut, 75017 Paris (sud)", "lat": 48.8830, "lon": 2.3230},
                ]
            }
        ),
        encoding="utf-8",
    )
    app = make_app(GAZETTEER_PATH=str(path))
    with app.app_context():
        yield app.test_client()


def test_register_with_an_address_is_geocoded(gazetteer_client):
    r = gazetteer_client.post(
        "/api/v1/members", json=_register_body(location={"address": "12 rue des Dames"})
    )
    _pending(r)
    home = geo.from_element(db.session.scalar(select(Member)).home)
    assert (home.lat, home.lon) == (48.88462, 2.32091)


def test_ambiguous_address_lists_candidates_then_choice_picks_one(gazetteer_client):
    body = _register_body(location={"address": "rue Truffaut"})
    r = gazetteer_client.post("/api/v1/members", json=body)
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert "location" in error["fields"]
    assert sorted(error["candidates"]) == [
        "Rue Truffaut, 75017 Paris (nord)",
        "Rue Truffaut, 75017 Paris (sud)",
    ]
    assert _count(Member) == 0
    pick = error["candidates"].index("Rue Truffaut, 75017 Paris (sud)")
    body["location"]["choice"] = pick
    _pending(gazetteer_client.post("/api/v1/members", json=body))
    home = geo.from_element(db.session.scalar(select(Member)).home)
    assert (home.lat, home.lon) == (48.8830, 2.3230)


def test_unknown_address_is_a_422_on_location(gazetteer_client):
    r = gazetteer_client.post(
        "/api/v1/members", json=_register_body(location={"address": "1 avenue de Nulle Part"})
    )
    assert r.status_code == 422
    assert "location" in r.get_json()["error"]["fields"]
    assert _count(Member) == 0


# --- POST /tokens ---------------------------------------------------------------------


def test_token_for_good_credentials(api, make_member):
    make_member("Anne", email="anne@example.org")
    r = api.post("/tokens", json={"email": "Anne@Example.ORG", "password": PASSWORD})
    assert r.status_code == 201
    data = r.get_json()
    assert data["token"].startswith("pk_")
    expires = datetime.fromisoformat(data["expires_at"])
    assert expires.utcoffset() == timedelta(0)
    assert timedelta(days=89) < expires - utcnow() <= timedelta(days=90)


@pytest.mark.parametrize(
    "email, password",
    [("anne@example.org", "pas le bon mot de passe"), ("nobody@example.org", PASSWORD)],
)
def test_token_refused_for_bad_credentials(api, make_member, email, password):
    make_member("Anne", email="anne@example.org")
    r = api.post("/tokens", json={"email": email, "password": password})
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "invalid_credentials"
    assert _count(ApiToken) == 0


# --- auth on the API ------------------------------------------------------------------


def test_my_token_shows_me_not_another_member(api, make_member):
    anne = make_member("Anne", email="anne@example.org")
    make_member("Bruno", email="bruno@example.org", at=DAMES_LEMERCIER)
    api.login("anne@example.org")
    data = api.get("/me").get_json()
    assert data["id"] == anne.id
    assert data["email"] == "anne@example.org"
    assert data["home"] == {"lat": BATIGNOLLES[0], "lon": BATIGNOLLES[1]}
    for text in _coordinate_strings(DAMES_LEMERCIER):
        assert text not in json.dumps(data)


def test_expired_token_is_refused(api, make_member):
    make_member("Anne", email="anne@example.org")
    api.login("anne@example.org")
    assert api.get("/me").status_code == 200
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    r = api.get("/me")
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_stops_working_after_password_change(api, make_member):
    anne = make_member("Anne", email="anne@example.org")
    api.login("anne@example.org")
    services.change_password(anne, PASSWORD, NEW_PASSWORD)
    db.session.commit()
    assert api.get("/me").status_code == 401
    api.login("anne@example.org", NEW_PASSWORD)
    assert api.get("/me").status_code == 200


def test_use_of_a_token_is_recorded(api, make_member):
    make_member("Anne", email="anne@example.org")
    api.login("anne@example.org")
    assert db.session.scalar(select(ApiToken.last_used_at)) is None
    assert api.get("/me").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None


def test_browser_session_cookie_alone_is_refused(client, auth, make_member):
    make_member("Anne", email="anne@example.org")
    r = auth.login("anne@example.org")
    assert r.status_code == 302
    with client.session_transaction() as session:
        assert session.get("_user_id")  # the browser is logged in...
    r = client.get("/api/v1/me")
    assert r.status_code == 401  # ...but the API wants a token
    assert r.get_json()["error"]["code"] == "unauthorized"
    r = client.patch("/api/v1/me", json={"display_name": "Pirate"})
    assert r.status_code == 401
    assert db.session.scalar(select(Member.display_name)) == "Anne"


# --- GET/PATCH /me --------------------------------------------------------------------


def test_me_shows_my_quartier(api, make_member, make_quartier):
    make_quartier()
    make_member("Anne", email="anne@example.org")
    api.login("anne@example.org")
    assert api.get("/me").get_json()["quartier"] == {"slug": "batignolles", "name": "Batignolles"}


def test_patch_me_changes_the_given_fields_only(api, make_member):
    make_member("Anne", email="anne@example.org", skills=["jardinage"], bio="Avant")
    api.login("anne@example.org")
    r = api.patch(
        "/me",
        json={"display_name": "Anne B.", "radius_m": 2500, "tags": ["tricot", "Vélo"]},
    )
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    assert data["display_name"] == "Anne B."
    assert data["radius_m"] == 2500
    assert data["tags"] == ["tricot", "vélo"]
    assert data["skills"] == ["jardinage"]  # untouched
    assert data["bio"] == "Avant"
    assert api.get("/me").get_json() == data  # it was stored


def test_patch_me_moves_my_home(api, make_member):
    make_member("Anne", email="anne@example.org")
    api.login("anne@example.org")
    r = api.patch(
        "/me",
        json={
            "location": {"lat": CLICHY[0], "lon": CLICHY[1]},
            "bio": "Déménagée",
            "current_password": PASSWORD,
        },
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["home"] == {"lat": CLICHY[0], "lon": CLICHY[1]}
    member = db.session.scalar(select(Member))
    db.session.refresh(member)
    assert geo.from_element(member.home) == geo.lat_lon(*CLICHY)
    assert member.bio == "Déménagée"


def test_patch_me_with_empty_body_changes_nothing(api, make_member):
    make_member("Anne", email="anne@example.org")
    api.login("anne@example.org")
    before = api.get("/me").get_json()
    r = api.patch("/me", json={})
    assert r.status_code == 200
    assert r.get_json() == before


# --- GET /members/{id} ----------------------------------------------------------------


def test_public_profile_of_a_neighbour(api, make_member):
    make_member("Anne", email="anne@example.org")
    bruno = make_member(
        "Bruno", at=CLICHY, skills=["bricolage"], tags=["vélo"], bio="Perceuse dispo"
    )
    api.login("anne@example.org")
    r = api.get(f"/members/{bruno.id}")
    assert r.status_code == 200
    data = r.get_json()
    assert data == {
        "id": bruno.id,
        "display_name": "Bruno",
        "avatar_url": None,
        "skills": ["bricolage"],
        "tags": ["vélo"],
        "bio": "Perceuse dispo",
        "quartier": None,
        "thanks_count": 0,
    }
    text = r.get_data(as_text=True)
    for coordinate in _coordinate_strings(CLICHY):
        assert coordinate not in text
    assert not _keys(data) & {"home", "lat", "lon", "position", "email"}


def test_profile_outside_my_neighbourhood_is_404(api, make_member):
    make_member("Anne", email="anne@example.org")
    far = make_member("Loin", at=FAR_AWAY)
    api.login("anne@example.org")
    for path in (f"/members/{far.id}", f"/members/{far.id + 1000}", "/members/99999999999999"):
        r = api.get(path)
        assert r.status_code == 404, path
        assert r.get_json()["error"]["code"] == "not_found"


# --- GET /neighbours ------------------------------------------------------------------


def test_neighbours_within_my_radius_with_distance_bands(api, make_member):
    make_member("Anne", email="anne@example.org", radius_m=1500)
    make_member("Bruno", at=CLICHY, skills=["bricolage"])
    make_member("Chloé", at=DAMES_LEMERCIER, tags=["tricot"])
    make_member("Loin", at=FAR_AWAY, skills=["bricolage"])
    api.login("anne@example.org")
    r = api.get("/neighbours")
    assert r.status_code == 200
    data = r.get_json()
    names = [item["member"]["display_name"] for item in data["items"]]
    assert sorted(names) == ["Bruno", "Chloé"]  # not me, not the far one
    assert data["next_cursor"] is None
    for item in data["items"]:
        assert item["distance_band"] in {"< 250 m", "~500 m", "~1 km"}
        assert set(item["member"]) == {
            "id",
            "display_name",
            "avatar_url",
            "skills",
            "tags",
            "quartier",
        }

    r = api.get("/neighbours?skill=bricolage")
    assert [i["member"]["display_name"] for i in r.get_json()["items"]] == ["Bruno"]
    r = api.get("/neighbours?skill=TRICOT")
    assert [i["member"]["display_name"] for i in r.get_json()["items"]] == ["Chloé"]


def test_neighbours_are_paginated_with_a_cursor(api, make_member):
    make_member("Anne", email="anne@example.org")
    for n in range(5):
        make_member(f"Voisine {n}", at=CLICHY)
    api.login("anne@example.org")
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        r = api.get("/neighbours?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200
        page = r.get_json()
        assert len(page["items"]) <= 2
        seen += [item["member"]["display_name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Voisine {n}" for n in range(5)]  # each once, in order


def test_no_coordinate_of_another_member_leaves_the_api(api, make_member):
    """Privacy: /members/{id} and /neighbours carry bands, never anyone else's position."""
    make_member("Anne", email="anne@example.org", radius_m=3000)
    others = [
        make_member("Bruno", at=CLICHY, skills=["bricolage"]),
        make_member("Chloé", at=DAMES_LEMERCIER, skills=["bricolage"]),
        make_member("David", at=(48.88001, 2.31502), skills=["bricolage"]),
    ]
    api.login("anne@example.org")
    responses = [api.get("/neighbours"), api.get("/neighbours?skill=bricolage&limit=1")]
    responses += [api.get(f"/members/{m.id}") for m in others]
    for r in responses:
        assert r.status_code == 200
        text = r.get_data(as_text=True)
        for member in others:
            home = geo.from_element(member.home)
            public = geo.from_element(member.public_position)
            for point in ((home.lat, home.lon), (public.lat, public.lon)):
                for coordinate in _coordinate_strings(point):
                    assert coordinate not in text, (r.request.path, coordinate)
        assert not _keys(r.get_json()) & {"home", "lat", "lon", "position", "email"}
