"""Server-side sessions (ASVS 7): a login is a row, the cookie carries only its random
id; logout, password change and moderation really revoke; idle and absolute timeouts;
re-authentication before changing email or home; hardened cookies in production."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from peuplade import geo
from peuplade.account import services
from peuplade.account.tokens import secret_digest
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import Member, MemberSession, utcnow
from tests.conftest import BATIGNOLLES, CLICHY, PASSWORD

NEW_PASSWORD = "girafe bleue chante 77 fois"
COOKIE = "peuplade"  # dev and test name; production's is __Host-peuplade
REMEMBER = "peuplade_remember"


@pytest.fixture
def site(make_app):
    """An app whose context the test does not hold: each request gets its own ``g`` and
    database session, as in production (Flask-Login caches the member in ``g``)."""
    return make_app()


def _register(app, email: str, at=BATIGNOLLES) -> int:
    with app.app_context():
        member = services.register_member(
            email=email,
            password=PASSWORD,
            display_name=email.split("@")[0].capitalize(),
            location=LocationInput(lat=at[0], lon=at[1]),
        )
        db.session.commit()
        return member.id


@pytest.fixture
def anne(site):
    return _register(site, "anne@example.org")


def _login(client, email="anne@example.org", password=PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def _logged_in(client) -> bool:
    response = client.get("/account")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _copy_cookies(source, target, names=(COOKIE, REMEMBER)) -> None:
    """What an attacker who stole the cookies does: replay them from elsewhere."""
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def _rows(site, member_id=None) -> list[MemberSession]:
    with site.app_context():
        query = select(MemberSession)
        if member_id is not None:
            query = query.where(MemberSession.member_id == member_id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def _age_sessions(site, member_id, **changes) -> None:
    """Move the member's sessions back in time (``last_seen_at=..., created_at=...``)."""
    with site.app_context():
        for row in db.session.scalars(
            select(MemberSession).where(MemberSession.member_id == member_id)
        ):
            for name, delta in changes.items():
                setattr(row, name, getattr(row, name) - delta)
        db.session.commit()


def _set_status(site, member_id, status, until=None) -> None:
    with site.app_context():
        member = db.session.get(Member, member_id)
        member.status = status
        member.suspended_until = until
        db.session.commit()


# --- a login is a row; the cookie carries its random id ----------------------------------


def test_login_creates_a_session_row_whose_id_only_the_cookie_knows(site, anne):
    browser = site.test_client()
    assert _login(browser).status_code == 302
    [row] = _rows(site, anne)
    with browser.session_transaction() as cookie_session:
        session_id = cookie_session["_user_id"]
    assert row.id_hash == secret_digest(session_id)
    assert not session_id.startswith(f"{anne}.")  # no longer "member id.version"
    # A second login (another browser) is another session.
    other = site.test_client()
    _login(other)
    assert len(_rows(site, anne)) == 2


def test_logout_revokes_the_session_even_for_a_copied_cookie(site, anne):
    browser, thief = site.test_client(), site.test_client()
    _login(browser)
    _copy_cookies(browser, thief)
    assert _logged_in(thief)  # the copy works while the session lives...
    assert browser.post("/logout").status_code == 302
    assert _rows(site, anne) == []
    assert not _logged_in(thief)  # ...and is worth nothing once it ended
    assert not _logged_in(browser)


def test_a_forged_or_unknown_session_id_gets_nothing(site, anne):
    browser = site.test_client()
    with browser.session_transaction() as cookie_session:
        cookie_session["_user_id"] = "s" + "A" * 43  # well formed, but no such session
    assert not _logged_in(browser)
    with browser.session_transaction() as cookie_session:
        cookie_session["_user_id"] = f"{anne}.1"  # the old "id.version" format
    assert not _logged_in(browser)


# --- timeouts ----------------------------------------------------------------------------


def test_an_idle_session_ends(site, anne):
    browser = site.test_client()
    _login(browser)
    idle = site.config["SESSION_IDLE_MINUTES"]
    _age_sessions(site, anne, last_seen_at=timedelta(minutes=idle - 5))
    assert _logged_in(browser)  # 5 minutes short of the limit, and the clock restarts
    _age_sessions(site, anne, last_seen_at=timedelta(minutes=idle + 1))
    response = browser.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _rows(site, anne) == []  # the ended session is deleted


def test_a_remembered_session_lives_longer_but_not_for_ever(site, anne):
    browser = site.test_client()
    _login(browser, remember="y")
    assert browser.get_cookie(REMEMBER) is not None
    _age_sessions(site, anne, last_seen_at=timedelta(hours=6))
    assert _logged_in(browser)
    days = site.config["REMEMBER_IDLE_DAYS"]
    _age_sessions(site, anne, last_seen_at=timedelta(days=days))
    assert not _logged_in(browser)


def test_the_remember_me_cookie_alone_brings_the_member_back_until_logout(site, anne):
    browser = site.test_client()
    _login(browser, remember="y")
    later = site.test_client()  # the browser was closed: only the remember-me cookie is left
    _copy_cookies(browser, later, names=(REMEMBER,))
    assert _logged_in(later)
    browser.post("/logout")
    again = site.test_client()
    _copy_cookies(browser, again, names=(REMEMBER,))
    assert not _logged_in(later)
    assert not _logged_in(again)


def test_sessions_end_after_the_absolute_lifetime_even_when_used(site, anne):
    browser = site.test_client()
    _login(browser, remember="y")
    days = site.config["SESSION_MAX_DAYS"]
    _age_sessions(site, anne, created_at=timedelta(days=days - 1))
    assert _logged_in(browser)
    _age_sessions(site, anne, created_at=timedelta(days=2))
    assert not _logged_in(browser)


def test_last_seen_is_written_at_most_once_a_minute(site, anne):
    browser = site.test_client()
    _login(browser)
    _age_sessions(site, anne, last_seen_at=timedelta(seconds=30))
    [before] = _rows(site, anne)
    assert _logged_in(browser)
    [unchanged] = _rows(site, anne)
    assert unchanged.last_seen_at == before.last_seen_at
    _age_sessions(site, anne, last_seen_at=timedelta(minutes=2))
    assert _logged_in(browser)
    [touched] = _rows(site, anne)
    assert utcnow() - touched.last_seen_at < timedelta(seconds=30)


def test_logging_in_clears_the_members_dead_sessions(site, anne):
    first = site.test_client()
    _login(first)
    _age_sessions(site, anne, created_at=timedelta(days=365), last_seen_at=timedelta(days=365))
    _login(site.test_client())
    assert len(_rows(site, anne)) == 1


# --- password change -----------------------------------------------------------------------


def _change_password(client, **extra):
    return client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
            **extra,
        },
    )


def _token_works(client, token) -> bool:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def _token(client) -> str:
    response = client.post(
        "/api/v1/tokens", json={"email": "anne@example.org", "password": PASSWORD}
    )
    assert response.status_code == 201
    return response.get_json()["token"]


def test_password_change_ends_the_other_sessions_and_renews_this_one(site, anne):
    here, elsewhere, copy_of_here = site.test_client(), site.test_client(), site.test_client()
    _login(here)
    _login(elsewhere)
    _copy_cookies(here, copy_of_here)
    token = _token(site.test_client())

    assert _change_password(here, end_other_sessions="y").status_code == 302
    assert _logged_in(here)
    assert not _logged_in(elsewhere)
    # This browser got a new session id: a copy of its cookie taken before is worthless.
    assert not _logged_in(copy_of_here)
    assert not _token_works(site.test_client(), token)
    assert len(_rows(site, anne)) == 1


def test_password_change_may_keep_the_other_sessions_but_not_the_tokens(site, anne):
    here, elsewhere = site.test_client(), site.test_client()
    _login(here)
    _login(elsewhere)
    token = _token(site.test_client())
    # The box unticked: a browser sends no value for it.
    assert _change_password(here).status_code == 302
    assert "Votre mot de passe est changé." in here.get("/account").get_data(as_text=True)
    assert _logged_in(here) and _logged_in(elsewhere)
    assert not _token_works(site.test_client(), token)


def test_a_wrong_current_password_changes_nothing(site, anne):
    here, elsewhere = site.test_client(), site.test_client()
    _login(here)
    _login(elsewhere)
    response = _change_password(here, current_password="pas le bon", end_other_sessions="y")
    assert response.status_code == 422
    assert _logged_in(elsewhere)
    assert _login(site.test_client()).status_code == 302  # old password still good


# --- moderation status ------------------------------------------------------------------


def test_a_suspended_member_cannot_log_in_and_is_told_until_when(site, anne):
    until = utcnow() + timedelta(days=3)
    _set_status(site, anne, "suspended", until)
    browser = site.test_client()
    response = _login(browser)
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Votre compte est suspendu jusqu&#39;au" in page
    assert str(until.year) in page
    assert not _logged_in(browser)
    # A wrong password does not learn about the suspension.
    wrong = _login(site.test_client(), password="pas le bon mot de passe")
    assert wrong.status_code == 422 and "suspendu" not in wrong.get_data(as_text=True)
    response = site.test_client().post(
        "/api/v1/tokens", json={"email": "anne@example.org", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "account_suspended"


def test_a_ban_closes_the_account(site, anne):
    _set_status(site, anne, "banned")
    response = _login(site.test_client())
    assert response.status_code == 403
    assert "Ce compte a été fermé par la modération." in response.get_data(as_text=True)
    response = site.test_client().post(
        "/api/v1/tokens", json={"email": "anne@example.org", "password": PASSWORD}
    )
    assert response.get_json()["error"]["code"] == "account_closed"


def test_existing_sessions_and_tokens_stop_when_the_member_is_suspended(site, anne):
    browser = site.test_client()
    _login(browser)
    token = _token(site.test_client())
    _set_status(site, anne, "suspended", utcnow() + timedelta(hours=2))
    assert not _logged_in(browser)
    assert _rows(site, anne) == []
    response = site.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert "suspendu" in response.get_json()["error"]["message"]


def test_a_suspension_that_is_over_lets_the_member_back_in(site, anne):
    _set_status(site, anne, "suspended", utcnow() - timedelta(minutes=1))
    browser = site.test_client()
    assert _login(browser).status_code == 302
    assert _logged_in(browser)


# --- re-authentication before changing email or home --------------------------------------


def _home(site, member_id):
    with site.app_context():
        return geo.from_element(db.session.get(Member, member_id).home)


@pytest.mark.parametrize("password", [None, "pas le bon mot de passe"])
def test_moving_home_needs_the_current_password(site, anne, password):
    browser = site.test_client()
    _login(browser)
    data = {"lat": CLICHY[0], "lon": CLICHY[1]}
    if password is not None:
        data["current_password"] = password
    response = browser.post("/account/home", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="current_password-error"', page)
    assert _home(site, anne).lat == pytest.approx(BATIGNOLLES[0])
    response = browser.post("/account/home", data={**data, "current_password": PASSWORD})
    assert response.status_code == 302
    assert _home(site, anne).lat == pytest.approx(CLICHY[0])


def _profile_form(**overrides):
    return {
        "display_name": "Anne",
        "bio": "",
        "tags": "",
        "radius_m": "1000",
        "email": "anne@example.org",
        **overrides,
    }


def test_changing_email_needs_the_current_password(site, anne):
    browser = site.test_client()
    _login(browser)
    page = browser.get("/account/profile").get_data(as_text=True)
    assert 'value="anne@example.org"' in page and 'id="current_password"' in page
    # Other fields change without the password while the email stays.
    assert browser.post("/account/profile", data=_profile_form(bio="Hello")).status_code == 302

    response = browser.post("/account/profile", data=_profile_form(email="anne.m@example.org"))
    assert response.status_code == 422
    assert "mot de passe actuel" in response.get_data(as_text=True)
    response = browser.post(
        "/account/profile",
        data=_profile_form(email="Anne.M@example.org", current_password=PASSWORD),
    )
    assert response.status_code == 302
    # Pending until the link sent to it is followed (tests/test_email_change.py).
    assert _login(site.test_client()).status_code == 302
    assert _login(site.test_client(), email="anne.m@example.org").status_code == 422


def test_changing_email_to_a_taken_one_does_not_say_it_is_taken(site, anne):
    _register(site, "bob@example.org", at=CLICHY)
    browser = site.test_client()
    _login(browser)
    response = browser.post(
        "/account/profile",
        data=_profile_form(email="BOB@example.org", current_password=PASSWORD),
    )
    assert response.status_code == 302  # as for a free address: a link is "sent"
    assert "existe déjà" not in browser.get(response.headers["Location"]).get_data(as_text=True)
    assert _login(site.test_client()).status_code == 302  # Anne keeps her address


def test_api_email_and_home_changes_need_the_current_password(site, anne):
    client = site.test_client()
    headers = {"Authorization": f"Bearer {_token(client)}"}
    for patch in (
        {"email": "anne.m@example.org"},
        {"location": {"lat": CLICHY[0], "lon": CLICHY[1]}},
        {"email": "anne.m@example.org", "current_password": "pas le bon mot de passe"},
    ):
        response = client.patch("/api/v1/me", json=patch, headers=headers)
        assert response.status_code == 422, patch
        assert "current_password" in response.get_json()["error"]["fields"]
    assert client.get("/api/v1/me", headers=headers).get_json()["email"] == "anne@example.org"
    # Not needed for the rest, nor for the email one already has.
    response = client.patch(
        "/api/v1/me", json={"bio": "Bonjour", "email": "ANNE@example.org"}, headers=headers
    )
    assert response.status_code == 200
    response = client.patch(
        "/api/v1/me",
        json={
            "email": "anne.m@example.org",
            "location": {"lat": CLICHY[0], "lon": CLICHY[1]},
            "current_password": PASSWORD,
        },
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["email"] == "anne@example.org"  # until the link is followed
    assert response.get_json()["pending_email"] == "anne.m@example.org"
    assert _home(site, anne).lat == pytest.approx(CLICHY[0])


def test_guessing_the_password_through_reauthentication_is_limited(make_app, anne):
    site = make_app(RATELIMIT_ENABLED=True)
    browser = site.test_client()
    _login(browser)
    wrong = {"lat": CLICHY[0], "lon": CLICHY[1], "current_password": "devine"}
    statuses = [browser.post("/account/home", data=wrong).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429

    client = site.test_client()
    headers = {"Authorization": f"Bearer {_token(client)}"}
    # Plain profile edits do not count...
    for _ in range(12):
        assert client.patch("/api/v1/me", json={"bio": "x"}, headers=headers).status_code == 200
    # ...wrong passwords do.
    wrong_patch = {"email": "x@example.org", "current_password": "devine"}
    statuses = [
        client.patch("/api/v1/me", json=wrong_patch, headers=headers).status_code for _ in range(11)
    ]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


# --- cookies in production ----------------------------------------------------------------


@pytest.fixture
def production(make_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("PUBLIC_URL", "https://peuplade.example")
    return make_app(PEUPLADE_ENV="production")


def _set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def _attributes(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")][1:]
    return {p.split("=", 1)[0].lower(): p.partition("=")[2] for p in parts}


def test_production_cookies_are_host_prefixed_secure_httponly_and_samesite(production, anne):
    browser = production.test_client()
    response = browser.post(
        "/login",
        data={"email": "anne@example.org", "password": PASSWORD, "remember": "y"},
        base_url="https://peuplade.example",
    )
    assert response.status_code == 302
    cookies = _set_cookies(response)
    assert set(cookies) == {"__Host-peuplade", "__Host-remember"}
    for name, header in cookies.items():
        attributes = _attributes(header)
        assert "secure" in attributes, name
        assert "httponly" in attributes, name
        assert attributes["samesite"] == "Lax", name
        assert attributes["path"] == "/", name
        assert "domain" not in attributes, name  # __Host-: no Domain
    remember = _attributes(cookies["__Host-remember"])
    assert "expires" in remember or "max-age" in remember
    assert "expires" not in _attributes(cookies["__Host-peuplade"])  # ends with the browser
    # The cookies work over HTTPS.
    page = browser.get("/account", base_url="https://peuplade.example")
    assert page.status_code == 200


def test_production_needs_an_https_public_url(make_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("PUBLIC_URL", "http://peuplade.example")
    with pytest.raises(SystemExit) as err:
        make_app(PEUPLADE_ENV="production")
    assert "https://" in str(err.value)


def test_development_cookies_have_no_prefix_and_are_not_secure(site, anne):
    response = _login(site.test_client(), remember="y")
    cookies = _set_cookies(response)
    assert set(cookies) == {COOKIE, REMEMBER}
    for header in cookies.values():
        attributes = _attributes(header)
        assert "secure" not in attributes and "httponly" in attributes


def test_browsing_does_not_rewrite_a_visitors_cookie(site, anne):
    """Only a change is written back: a response to a request still in flight (the
    favicon, another tab) would otherwise put back a cookie older than a choice made
    meanwhile, such as the language just picked."""
    client = site.test_client()
    assert COOKIE in _set_cookies(client.get("/login"))  # the form's CSRF token
    pages = ("/no-such-page", "/login", "/register", "/password/forgot")
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 404)
        assert COOKIE not in _set_cookies(response), path
    assert COOKIE in _set_cookies(client.post("/lang/en", data={"next": "/login"}))
    for path in pages:
        assert COOKIE not in _set_cookies(client.get(path)), path
    assert '<html lang="en">' in client.get("/register").get_data(as_text=True)
    _login(client)
    client.get("/")  # shows (and so removes) the welcome message
    for path in ("/", "/exchanges", "/no-such-page"):
        assert COOKIE not in _set_cookies(client.get(path)), path


def test_pages_name_an_icon_so_browsers_do_not_ask_for_favicon_ico(site):
    client = site.test_client()
    page = client.get("/login").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page)
    assert icon is not None
    response = client.get(icon.group(1))
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
