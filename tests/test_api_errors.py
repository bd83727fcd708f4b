"""JSON API v1: every kind of bad input gets the contract's error shape and status,
never a 500, and leaves the database exactly as it was."""

from __future__ import annotations

import base64
import json
import re

import pytest
from sqlalchemy import func, select

from peuplade import geo
from peuplade.api.openapi import api_rules
from peuplade.extensions import db
from peuplade.models import ApiToken, HomeChange, Member, MemberSkill, MemberTag
from tests.conftest import CLICHY, PASSWORD

TABLES = (Member, MemberSkill, MemberTag, ApiToken, HomeChange)


def _register_body(**overrides):
    body = {
        "email": "nadia@example.org",
        "password": PASSWORD,
        "display_name": "Nadia",
        "location": {"lat": 48.88462, "lon": 2.32091},
    }
    body.update(overrides)
    return body


def _counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in TABLES
    }


def _error(r, status: int, code: str | None = None) -> dict:
    """The error object of a response, after checking its status and shape."""
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:500])
    assert r.mimetype == "application/json"
    error = r.get_json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error


@pytest.fixture
def anne(api, make_member):
    """Anne, with a token in ``api``."""
    member = make_member("Anne", email="anne@example.org", skills=["jardinage"], tags=["vélo"])
    api.login("anne@example.org")
    return member


def _raw(api, method: str, path: str, data, content_type="application/json"):
    return getattr(api, method)(path, data=data, headers={"Content-Type": content_type})


# --- the body itself ------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [("post", "/members"), ("patch", "/me")])
@pytest.mark.parametrize(
    "data",
    [b"{", b'{"email": }', b"{'email': 'a'}", b"", b"\xff\xfe\x00", b"[" * 100_000],
    ids=["truncated", "no value", "single quotes", "empty", "not utf-8", "deeply nested"],
)
def test_malformed_json_is_400(api, anne, method, path, data):
    before = _counts()
    _error(_raw(api, method, path, data), 400, "malformed")
    assert _counts() == before


@pytest.mark.parametrize(
    "method, path", [("post", "/members"), ("patch", "/me"), ("post", "/tokens")]
)
@pytest.mark.parametrize(
    "data",
    ['"a string"', "[1, 2]", "42", "null", "true"],
)
def test_body_that_is_not_an_object_is_400(api, anne, method, path, data):
    before = _counts()
    error = _error(_raw(api, method, path, data), 400, "malformed")
    assert "objet" in error["message"]
    assert _counts() == before


@pytest.mark.parametrize(
    "method, path", [("post", "/members"), ("patch", "/me"), ("post", "/tokens")]
)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
def test_wrong_content_type_is_400(api, anne, method, path, content_type):
    before = _counts()
    body = json.dumps(_register_body())
    _error(_raw(api, method, path, body, content_type), 400, "unsupported_media_type")
    assert _counts() == before


def test_missing_body_is_400(api, anne):
    _error(api.post("/members"), 400, "unsupported_media_type")
    _error(api.patch("/me"), 400, "unsupported_media_type")


@pytest.mark.parametrize("method, path", [("post", "/members"), ("patch", "/me")])
def test_body_over_one_mebibyte_is_413_json(api, anne, method, path):
    before = _counts()
    huge = json.dumps(_register_body(bio="x" * (1024 * 1024)))
    _error(_raw(api, method, path, huge), 413, "payload_too_large")
    assert _counts() == before


# --- routing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/nope", "/api/v1/members/abc", "/api/v1/members/-1", "/api/v2/me"]
)
def test_unknown_route_is_404_json(client, path):
    _error(client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    "method, path",
    [
        ("delete", "/api/v1/members"),
        ("put", "/api/v1/me"),
        ("put", "/api/v1/tokens"),
        ("post", "/api/v1/me"),
    ],
)
def test_wrong_method_is_405_json(client, method, path):
    r = getattr(client, method)(path)
    _error(r, 405, "method_not_allowed")
    assert r.headers["Allow"]


# --- auth -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer ",
        "Basic YW5uZTpwYXNz",
        "Bearer pk_not-a-real-token",
        "Bearer " + "x" * 5000,
    ],
)
def test_every_private_route_wants_a_valid_token(app, client, anne, authorization):
    """Deny by default: each API route not marked public answers 401 without a token."""
    headers = {"Authorization": authorization} if authorization else {}
    checked = 0
    for rule in api_rules(app):
        if getattr(app.view_functions[rule.endpoint], "peuplade_public", False):
            continue
        path = re.sub(r"<[^>]+>", str(anne.id), rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            before = _counts()
            r = client.open(path, method=method, headers=headers, json={"display_name": "Pirate"})
            _error(r, 401, "unauthorized")
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
            assert _counts() == before
            checked += 1
    assert checked >= 4
    assert db.session.get(Member, anne.id).display_name == "Anne"


def test_tokens_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    body = {"email": "anne@example.org", "password": "wrong password here"}
    statuses = [client.post("/api/v1/tokens", json=body).status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    error = _error(client.post("/api/v1/tokens", json=body), 429, "rate_limited")
    assert error["message"]


# --- validation: POST /members --------------------------------------------------------

BAD_LOCATIONS = [
    {"lat": 91, "lon": 2.3},
    {"lat": -90.5, "lon": 2.3},
    {"lat": 48.8, "lon": 181},
    {"lat": 48.8, "lon": -180.01},
    {"lat": "48.8", "lon": "2.3"},
    {"lat": True, "lon": 2.3},
    {"lat": None, "lon": 2.3},
    {"lat": 48.8},
    {"lat": 1e400, "lon": 2.3},
    {"lat": 10**400, "lon": 2.3},
    {"lat": 48.8, "lon": 2.3, "alt": 30},
    {"address": ""},
    {"address": 12},
    {"address": "x" * 201},
    {"address": "12 rue des Dames", "choice": -1},
    {"address": "12 rue des Dames", "choice": "1"},
    {},
    "48.8,2.3",
    [48.8, 2.3],
    None,
]


@pytest.mark.parametrize("location", BAD_LOCATIONS, ids=[json.dumps(b)[:30] for b in BAD_LOCATIONS])
def test_bad_location_is_422_on_location(api, location):
    r = api.post("/members", json=_register_body(location=location))
    error = _error(r, 422, "validation_failed")
    assert list(error["fields"]) == ["location"]
    assert _counts()["members"] == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("coordinate", ["lat", "lon"])
def test_nan_and_infinity_are_422_not_500(api, literal, coordinate):
    location = {"lat": "48.88", "lon": "2.32", coordinate: literal}
    raw = json.dumps({"email": "n@example.org", "password": PASSWORD, "display_name": "Nadia"})
    raw = raw[:-1] + f', "location": {{"lat": {location["lat"]}, "lon": {location["lon"]}}}}}'
    r = api.post("/members", data=raw, headers={"Content-Type": "application/json"})
    assert list(_error(r, 422)["fields"]) == ["location"]
    assert _counts()["members"] == 0


@pytest.mark.parametrize(
    # (1000.0 is a JSON Schema integer, so a radius: tests/test_api_text_rules.py)
    "radius",
    [199, 5001, 0, -1000, 10**30, 10**400, "abc", "1000", True, 300.5, [1000]],
)
def test_bad_radius_is_422(api, radius):
    r = api.post("/members", json=_register_body(radius_m=radius))
    error = _error(r, 422, "validation_failed")
    assert list(error["fields"]) == ["radius_m"]
    assert "200" in error["fields"]["radius_m"] and "5000" in error["fields"]["radius_m"]
    assert _counts()["members"] == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("email", "pas-une-adresse"),
        ("email", 42),
        ("email", None),
        ("email", "an\u0000ne@example.org"),
        ("email", "a@" + "b" * 300 + ".org"),
        ("password", "court"),
        ("password", "password123456"),
        ("password", ""),
        ("password", ["x"]),
        ("password", "x" * 129),
        ("display_name", " "),
        ("display_name", "N" * 61),
        ("display_name", {"first": "Nadia"}),
        ("skills", "bricolage"),
        ("skills", ["bricolage", 3]),
        ("skills", ["astrologie"]),
        ("skills", None),
        ("tags", "vélo"),
        ("tags", ["<script>"]),
        ("tags", [f"t{n}" for n in range(11)]),
        ("tags", ["x" * 41]),
        ("bio", "x" * 1001),
        ("bio", 12),
        ("bio", None),
        ("radius_m", None),
        ("surname", "Dupont"),
    ],
)
def test_bad_field_is_422_with_its_message(api, field, value):
    r = api.post("/members", json=_register_body(**{field: value}))
    error = _error(r, 422, "validation_failed")
    assert field in error["fields"], error
    assert error["fields"][field]
    assert _counts()["members"] == 0


@pytest.mark.parametrize("missing", ["email", "password", "display_name", "location"])
def test_missing_required_field_is_422(api, missing):
    body = _register_body()
    del body[missing]
    error = _error(api.post("/members", json=body), 422)
    assert missing in error["fields"]


def test_every_bad_field_is_reported_at_once(api):
    # Types and shapes are checked first, all together...
    body = _register_body(radius_m="abc", skills="x", bio=12, location="ici")
    error = _error(api.post("/members", json=body), 422)
    assert set(error["fields"]) == {"radius_m", "skills", "bio", "location"}
    # ...then the rules, all together too.
    body = _register_body(email="nope", display_name="", password="court", skills=["astrologie"])
    error = _error(api.post("/members", json=body), 422)
    assert set(error["fields"]) == {"email", "display_name", "password", "skills"}


@pytest.mark.parametrize("email", ["anne@example.org", "ANNE@Example.Org"])
def test_an_email_taken_in_any_case_creates_nothing_and_is_no_error(api, anne, email):
    # The answer does not tell that the address has an account (tests/test_signup.py).
    before = _counts()
    r = api.post("/members", json=_register_body(email=email))
    assert r.status_code == 202
    assert r.get_json()["status"] == "pending"
    assert _counts() == before


@pytest.mark.parametrize("email", ["anne@example.org", "nouvelle@example.org"])
def test_field_errors_are_the_same_whether_the_email_is_taken_or_not(api, anne, email):
    body = _register_body(email=email, display_name="", password="court")
    error = _error(api.post("/members", json=body), 422)
    assert set(error["fields"]) == {"display_name", "password"}


def test_tokens_body_is_validated(api, anne):
    error = _error(api.post("/tokens", json={"email": "anne@example.org"}), 422)
    assert "password" in error["fields"]
    error = _error(api.post("/tokens", json={"email": ["anne"], "password": 1}), 422)
    assert {"email", "password"} <= set(error["fields"])


# --- validation: PATCH /me is all or nothing ------------------------------------------


def _anne_as_stored(anne) -> tuple:
    db.session.expire_all()
    m = db.session.get(Member, anne.id)
    return (m.display_name, m.radius_m, m.bio, m.skill_slugs, m.tag_names, geo.from_element(m.home))


@pytest.mark.parametrize(
    "patch, bad_field",
    [
        ({"display_name": "Anne B.", "radius_m": 6000}, "radius_m"),
        ({"display_name": "Anne B.", "radius_m": "abc"}, "radius_m"),
        ({"display_name": "Anne B.", "radius_m": True}, "radius_m"),
        ({"display_name": None}, "display_name"),
        ({"bio": "Nouvelle bio", "skills": "x"}, "skills"),
        ({"tags": ["ok"], "skills": ["astrologie"]}, "skills"),
        ({"radius_m": 2000, "location": {"lat": "NaN", "lon": 2.3}}, "location"),
        ({"display_name": "Anne B.", "location": {"lat": 95, "lon": 2.3}}, "location"),
        (
            {
                "bio": "Nouvelle",
                "location": {"address": "1 avenue de Nulle Part"},
                "current_password": PASSWORD,
            },
            "location",
        ),
        ({"bio": "Nouvelle", "home": {"lat": 48.8, "lon": 2.3}}, "home"),
        ({"bio": "Nouvelle", "email": "pas une adresse", "current_password": PASSWORD}, "email"),
        # A new email or home needs the current password (re-authentication).
        ({"bio": "Nouvelle", "email": "autre@example.org"}, "current_password"),
        ({"location": {"lat": 48.8845, "lon": 2.3201}}, "current_password"),
    ],
)
def test_bad_patch_changes_nothing(api, anne, patch, bad_field):
    stored = _anne_as_stored(anne)
    before = _counts()
    error = _error(api.patch("/me", json=patch), 422, "validation_failed")
    assert bad_field in error["fields"]
    assert _anne_as_stored(anne) == stored
    assert _counts() == before


def test_patch_reports_profile_and_location_errors_together(api, anne):
    # A tag that grows past 40 characters once case-folded ("ß" becomes "ss") is an
    # error of the profile that only the service can see (the schema counts 21).
    stored = _anne_as_stored(anne)
    patch = {
        "tags": ["ß" * 21],
        "location": {"address": "1 avenue de Nulle Part"},
        "current_password": PASSWORD,
    }
    error = _error(api.patch("/me", json=patch), 422)
    assert {"tags", "location"} <= set(error["fields"])
    assert _anne_as_stored(anne) == stored


def test_home_changes_are_limited_and_the_refusal_changes_nothing(api, anne, app):
    left = app.config["HOME_CHANGES_PER_30_DAYS"]
    for _ in range(left):
        r = api.patch(
            "/me",
            json={"location": {"lat": CLICHY[0], "lon": CLICHY[1]}, "current_password": PASSWORD},
        )
        assert r.status_code == 200
    stored = _anne_as_stored(anne)
    before = _counts()
    r = api.patch(
        "/me",
        json={
            "bio": "Encore",
            "location": {"lat": 48.8845, "lon": 2.3201},
            "current_password": PASSWORD,
        },
    )
    error = _error(r, 429, "rate_limited")
    assert "location" in error["fields"]
    assert _anne_as_stored(anne) == stored
    assert _counts() == before


# --- validation: query strings --------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=abc", "limit=2.5", "limit=-3", "limit=" + "9" * 50]
)
def test_bad_limit_is_422(api, anne, query):
    error = _error(api.get("/neighbours?" + query), 422, "validation_failed")
    assert list(error["fields"]) == ["limit"]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "W10",  # []
        "WzEsImEiXQ",  # [1,"a"]
        "WyJhIiwiYiIsMV0",  # ["a","b",1]
    ],
)
def test_bad_cursor_is_400(api, anne, cursor):
    error = _error(api.get("/neighbours?cursor=" + cursor), 400, "bad_cursor")
    assert list(error["fields"]) == ["cursor"]


def test_a_cursor_longer_than_declared_is_422(api, anne):
    error = _error(api.get("/neighbours?cursor=" + "x" * 501), 422, "validation_failed")
    assert list(error["fields"]) == ["cursor"]


def test_forged_cursor_values_are_no_500(api, anne, make_member):
    make_member("Bruno", at=CLICHY)
    for values in ([99, "zzz", 2**62], [-(2**70), "a", 1], [0, "nul\u0000", 1], [0, "é" * 100, 0]):
        raw = json.dumps(values).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        r = api.get("/neighbours?cursor=" + cursor)
        assert r.status_code in (200, 400, 422), (values, r.get_data(as_text=True)[:300])


@pytest.mark.parametrize("skill", ["a" * 41, "bri%00colage", "%0A"])
def test_bad_skill_filter_is_422(api, anne, skill):
    error = _error(api.get("/neighbours?skill=" + skill), 422)
    assert list(error["fields"]) == ["skill"]


def test_nul_in_credentials_is_401_not_500(api, anne):
    r = api.post("/tokens", json={"email": "anne\u0000@example.org", "password": PASSWORD})
    _error(r, 401, "invalid_credentials")
