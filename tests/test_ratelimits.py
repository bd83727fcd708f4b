"""Rate limits on credentials and sign-ups (Flask-Limiter, memory storage in tests)."""

from __future__ import annotations

from tests.conftest import PASSWORD


def _signup(n: int) -> dict:
    return {
        "email": f"nouveau{n}@example.org",
        "password": PASSWORD,
        "display_name": f"Nouveau {n}",
        "location": {"lat": 48.8851, "lon": 2.3209},
    }


def _form(n: int) -> dict:
    return {
        "email": f"nouveau{n}@example.org",
        "display_name": f"Nouveau {n}",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "lat": "48.8851",
        "lon": "2.3209",
        "radius_m": "1000",
    }


def test_api_sign_ups_are_limited_per_address(make_app):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    statuses = [client.post("/api/v1/members", json=_signup(n)).status_code for n in range(11)]
    assert statuses[:10] == [202] * 10
    assert statuses[10] == 429
    assert client.post("/api/v1/members", json=_signup(99)).get_json()["error"]["code"] == (
        "rate_limited"
    )


def test_the_form_and_the_api_share_one_sign_up_bucket_per_address(make_app):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    here = {"REMOTE_ADDR": "198.51.100.7"}
    pages = [client.post("/register", data=_form(n), environ_base=here) for n in range(10)]
    assert [r.status_code for r in pages] == [200] * 10
    # The form used this address's allowance: the API has none left for it either...
    refused = client.post("/api/v1/members", json=_signup(10), environ_base=here)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    # ...nor the form; another address still has its own.
    assert client.post("/register", data=_form(11), environ_base=here).status_code == 429
    elsewhere = {"REMOTE_ADDR": "198.51.100.8"}
    assert client.post("/api/v1/members", json=_signup(12), environ_base=elsewhere).status_code == (
        202
    )


def test_the_api_uses_up_the_form_s_sign_up_bucket_too(make_app):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    statuses = [client.post("/api/v1/members", json=_signup(n)).status_code for n in range(10)]
    assert statuses == [202] * 10
    assert client.post("/register", data=_form(10)).status_code == 429
    assert client.get("/register").status_code == 200  # reading the form is not counted


def test_failed_logins_are_limited_per_account_across_addresses(make_app, make_member):
    app = make_app(RATELIMIT_ENABLED=True)
    member = make_member("Anne", email="anne@example.org")
    client = app.test_client()

    def attempt(n: int, password: str):
        return client.post(
            "/login",
            data={"email": "Anne@Example.org", "password": password},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},  # a new address every time
        )

    statuses = [attempt(n, "pas le bon mot de passe").status_code for n in range(20)]
    assert set(statuses) == {422}
    assert attempt(21, "pas le bon mot de passe").status_code == 429
    # Even the right password waits now: the guesser cannot tell.
    assert attempt(22, PASSWORD).status_code == 429
    # Another account is not affected.
    other = client.post(
        "/login",
        data={"email": "autre@example.org", "password": "x"},
        environ_base={"REMOTE_ADDR": "198.51.100.30"},
    )
    assert other.status_code == 422
    assert member.id


def test_successful_logins_do_not_count_against_the_account(make_app, make_member):
    app = make_app(RATELIMIT_ENABLED=True)
    make_member("Anne", email="anne@example.org")
    for n in range(25):
        client = app.test_client()
        r = client.post(
            "/login",
            data={"email": "anne@example.org", "password": PASSWORD},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        )
        assert r.status_code == 302


def test_password_change_attempts_are_limited_per_member(make_app, make_member):
    app = make_app(RATELIMIT_ENABLED=True)
    make_member("Anne", email="anne@example.org")
    client = app.test_client()
    client.post("/login", data={"email": "anne@example.org", "password": PASSWORD})
    form = {
        "current_password": "devine",
        "new_password": "x" * 20,
        "new_password_confirm": "x" * 20,
    }
    statuses = [client.post("/account/password", data=form).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


def test_api_tokens_are_limited_per_account(make_app, make_member):
    app = make_app(RATELIMIT_ENABLED=True)
    make_member("Anne", email="anne@example.org")
    client = app.test_client()
    statuses = [
        client.post(
            "/api/v1/tokens",
            json={"email": "anne@example.org", "password": "faux"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        ).status_code
        for n in range(21)
    ]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429
