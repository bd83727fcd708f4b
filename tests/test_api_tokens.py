"""Managing my API tokens: name them, list them (never the token itself), rename,
revoke (at once, even the one in use), a bound on live tokens, per-token rate limits
with 429 and Retry-After. Tokens are stored hashed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from peuplade.account.tokens import TOKENS_MAX, new_token, secret_digest
from peuplade.extensions import db
from peuplade.models import ApiToken
from tests.conftest import BATIGNOLLES, CLICHY, PASSWORD


@pytest.fixture
def anne(make_member):
    return make_member("Anne", at=BATIGNOLLES, email="anne@example.org")


def _token(client, name=None, email="anne@example.org"):
    body = {"email": email, "password": PASSWORD}
    if name is not None:
        body["name"] = name
    r = client.post("/api/v1/tokens", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_are_named_listed_without_their_secret_and_stored_hashed(client, anne):
    phone = _token(client, "  Téléphone   de Anne ")
    script = _token(client)
    assert phone["name"] == "Téléphone de Anne" and script["name"] is None
    assert phone["token"].startswith("pk_") and phone["expires_at"]

    r = client.get("/api/v1/tokens", headers=_auth(script["token"]))
    assert r.status_code == 200
    listed = r.get_json()
    assert [t["id"] for t in listed["items"]] == [script["id"], phone["id"]]  # newest first
    assert [t["current"] for t in listed["items"]] == [True, False]
    assert listed["next_cursor"] is None
    text = r.get_data(as_text=True)
    assert phone["token"] not in text and script["token"] not in text

    stored = set(db.session.scalars(select(ApiToken.token_hash)))
    assert stored == {secret_digest(t["token"]) for t in (phone, script)}
    assert not {phone["token"], script["token"]} & stored  # a digest, never the token


def test_rename_then_revoke_and_the_revoked_token_stops_at_once(client, anne):
    phone, laptop = _token(client, "Téléphone"), _token(client, "Portable")
    r = client.patch(
        f"/api/v1/tokens/{phone['id']}",
        json={"name": "Vieux téléphone"},
        headers=_auth(laptop["token"]),
    )
    assert r.status_code == 200 and r.get_json()["name"] == "Vieux téléphone"
    assert r.get_json()["current"] is False

    r = client.delete(f"/api/v1/tokens/{phone['id']}", headers=_auth(laptop["token"]))
    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=_auth(phone["token"])).status_code == 401
    assert client.get("/api/v1/me", headers=_auth(laptop["token"])).status_code == 200
    # Revoking the token in use: this answer is the last one it gets.
    r = client.delete(f"/api/v1/tokens/{laptop['id']}", headers=_auth(laptop["token"]))
    assert r.status_code == 204
    assert client.get("/api/v1/tokens", headers=_auth(laptop["token"])).status_code == 401


def test_someone_elses_or_a_dead_token_is_404(client, anne, make_member):
    make_member("Bruno", at=CLICHY, email="bruno@example.org")
    annes, brunos = _token(client), _token(client, email="bruno@example.org")
    for method in ("patch", "delete"):
        r = getattr(client, method)(
            f"/api/v1/tokens/{brunos['id']}", json={"name": "x"}, headers=_auth(annes["token"])
        )
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/me", headers=_auth(brunos["token"])).status_code == 200
    r = client.delete("/api/v1/tokens/99999", headers=_auth(annes["token"]))
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [({"name": "x" * 81}, 422, "name"), ({"name": 12}, 422, "name"), ({"nom": "x"}, 422, "nom")],
)
def test_bad_names_are_422_on_their_field(client, anne, body, status, field):
    token = _token(client)
    r = client.patch(f"/api/v1/tokens/{token['id']}", json=body, headers=_auth(token["token"]))
    assert r.status_code == status and field in r.get_json()["error"]["fields"]
    r = client.post(
        "/api/v1/tokens", json={"email": "anne@example.org", "password": PASSWORD, **body}
    )
    assert r.status_code == status and field in r.get_json()["error"]["fields"]


def test_live_tokens_are_bounded(client, anne):
    for _ in range(TOKENS_MAX):
        new_token(anne)
    db.session.commit()
    r = client.post("/api/v1/tokens", json={"email": "anne@example.org", "password": PASSWORD})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"


def test_a_password_change_voids_the_tokens_and_they_leave_the_list(client, anne):
    old = _token(client, "Ancien")
    anne.session_version += 1  # what a password change does
    db.session.commit()
    assert client.get("/api/v1/me", headers=_auth(old["token"])).status_code == 401
    new = _token(client, "Nouveau")
    listed = client.get("/api/v1/tokens", headers=_auth(new["token"])).get_json()["items"]
    assert [t["name"] for t in listed] == ["Nouveau"]


def test_calls_are_limited_per_token_with_retry_after(make_app, make_member):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    with app.app_context():
        make_member("Anne", at=BATIGNOLLES, email="anne@example.org")
        client = app.test_client()
        first, second = _token(client), _token(client)
        for _ in range(3):
            assert client.get("/api/v1/me", headers=_auth(first["token"])).status_code == 200
        r = client.get("/api/v1/me", headers=_auth(first["token"]))
        assert r.status_code == 429
        assert r.get_json()["error"]["code"] == "rate_limited"
        assert 0 < int(r.headers["Retry-After"]) <= 60
        # Another token of the same member has its own allowance.
        assert client.get("/api/v1/me", headers=_auth(second["token"])).status_code == 200


def test_the_account_page_lists_the_tokens_and_revokes_one(app, client, auth, anne, make_member):
    phone, script = _token(client, "Téléphone perdu"), _token(client)
    bruno = make_member("Bruno", at=CLICHY, email="bruno@example.org")
    brunos = new_token(bruno, "Le sien")[1]
    db.session.commit()
    auth.login("anne@example.org")
    page = client.get("/account").get_data(as_text=True)
    assert "Téléphone perdu" in page and "Jeton sans nom" in page and "Le sien" not in page
    assert phone["token"] not in page and script["token"] not in page

    r = client.post(f"/account/tokens/{phone['id']}/revoke")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account#tokens-title")
    assert client.get("/api/v1/me", headers=_auth(phone["token"])).status_code == 401
    assert client.get("/api/v1/me", headers=_auth(script["token"])).status_code == 200
    assert "Téléphone perdu" not in client.get("/account").get_data(as_text=True)
    # Someone else's token: not found, and it still works.
    assert client.post(f"/account/tokens/{brunos.id}/revoke").status_code == 404
    assert db.session.get(ApiToken, brunos.id) is not None
