"""Member services: registration rules, password storage, tokens, home changes."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import func, select

from peuplade import create_app, database, geo
from peuplade.account import services
from peuplade.account.tokens import new_token, token_for
from peuplade.config import (
    ARGON2_ASVS_MINIMUM,
    ARGON2_OWASP_MINIMUM,
    ARGON2_PRODUCTION,
    load_config,
)
from peuplade.errors import TooManyChanges, ValidationFailed
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import ApiToken, Member, utcnow
from tests.conftest import BATIGNOLLES, PASSWORD


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Member))


def _register(**overrides):
    values = {
        "email": "anne@example.org",
        "password": PASSWORD,
        "display_name": "Anne",
        "location": LocationInput(lat=BATIGNOLLES[0], lon=BATIGNOLLES[1]),
    }
    values.update(overrides)
    member = services.register_member(**values)
    db.session.commit()
    return member


def _argon2_params(encoded: str) -> dict[str, int]:
    m = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", encoded)
    assert m, encoded
    return {"memory_cost": int(m[1]), "time_cost": int(m[2]), "parallelism": int(m[3])}


def test_password_is_stored_with_argon2id_at_or_above_owasp(app):
    member = _register()
    params = _argon2_params(member.password_hash)
    assert params["memory_cost"] >= 19 * 1024
    assert params["time_cost"] >= 2
    assert PASSWORD not in member.password_hash


def test_production_parameters_are_above_the_owasp_minimum():
    prod = load_config(
        "instance",
        {"PEUPLADE_ENV": "production", "SECRET_KEY": "k", "PUBLIC_URL": "https://x.example"},
    )
    assert prod["ARGON2_PARAMETERS"] == ARGON2_PRODUCTION
    assert ARGON2_PRODUCTION["memory_cost"] >= ARGON2_OWASP_MINIMUM["memory_cost"]
    assert ARGON2_PRODUCTION["time_cost"] >= ARGON2_OWASP_MINIMUM["time_cost"]


def _below(parameters: dict, minimum: dict) -> list[str]:
    """The argon2 parameters under ``minimum`` (none: ``parameters`` meet it)."""
    return [name for name, floor in minimum.items() if parameters[name] < floor]


def test_production_parameters_meet_asvs_appendix_c():
    """ASVS 5.0 appendix C: argon2id with m >= 46 MiB and t >= 1 (or stronger)."""
    assert ARGON2_PRODUCTION["memory_cost"] >= 46 * 1024
    assert ARGON2_PRODUCTION["time_cost"] >= 1
    assert ARGON2_PRODUCTION["parallelism"] >= 1
    prod = load_config(
        "instance",
        {"PEUPLADE_ENV": "production", "SECRET_KEY": "k", "PUBLIC_URL": "https://x.example"},
    )
    assert prod["ARGON2_PARAMETERS"]["memory_cost"] >= ARGON2_ASVS_MINIMUM["memory_cost"]
    # Every parameter, not the memory alone; and the minimum can be failed: the tests'
    # cheaper parameters (OWASP's minimum, 19 MiB) are below it.
    assert _below(prod["ARGON2_PARAMETERS"], ARGON2_ASVS_MINIMUM) == []
    assert _below(ARGON2_OWASP_MINIMUM, ARGON2_ASVS_MINIMUM) == ["memory_cost"]


def test_a_production_hash_is_argon2id_at_the_production_cost(make_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("PUBLIC_URL", "https://peuplade.example")
    app = make_app(PEUPLADE_ENV="production")
    with app.app_context():
        encoded = services.hash_password(PASSWORD)
    assert encoded.startswith("$argon2id$")
    assert _argon2_params(encoded) == ARGON2_PRODUCTION


@pytest.mark.parametrize(
    "password",
    [
        "x7Kp!q2mWz9v",  # 12 characters, no words
        "sept chats gris dorment sous la pluie",  # a passphrase, spaces and all
        "тёплый чай с мёдом и лимоном",  # any script
        "🦒🐘🦓 girafe éléphant zèbre",  # emoji
        " ".join(["hibou", "mélèze", "cornichon", "parapluie"] * 4)[:64],  # 64
        ("lapin bleu " * 12)[:120] + "tortue 7",  # 128, the maximum
        "all lower case words without digits or symbols",  # no composition rules
    ],
)
def test_long_and_any_character_passwords_are_accepted(password):
    assert len(password) <= 128
    services.check_password_strength(password)  # no error (zxcvbn stops at 72: no 500)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("x7Kp!q2mWz9", "au moins 12"),  # 11 characters
        ("a" * 129, "au plus 128"),
        ("password1234", "trop facile"),
        ("azertyuiop123", "trop facile"),
        ("123456789012", "trop facile"),
        ("iloveyou123!", "trop facile"),
    ],
)
def test_short_long_and_common_passwords_are_refused(password, message):
    with pytest.raises(ValidationFailed) as err:
        services.check_password_strength(password)
    assert message in str(err.value.fields["password"])


def test_a_password_is_the_same_however_its_accents_are_typed(app):
    composed = "cafe\u0301 noir sans sucre 42"  # "é" as e + combining accent
    member = _register(password=composed)
    assert services.authenticate("anne@example.org", "café noir sans sucre 42") == member
    assert services.authenticate("anne@example.org", composed) == member


def test_hashes_of_unnormalised_passwords_still_log_in_and_are_upgraded(app):
    typed = "cafe\u0301 noir sans sucre 42"
    member = _register()
    old = PasswordHasher(type=Type.ID, **ARGON2_OWASP_MINIMUM)
    member.password_hash = old.hash(typed)  # made before passwords were normalised
    db.session.commit()
    assert services.authenticate("anne@example.org", typed) == member
    db.session.commit()
    assert PasswordHasher().verify(member.password_hash, "café noir sans sucre 42")


def test_weaker_hashes_are_upgraded_at_login(app):
    member = _register()
    weak = PasswordHasher(type=Type.ID, time_cost=1, memory_cost=8 * 1024, parallelism=1)
    member.password_hash = weak.hash(PASSWORD)
    db.session.commit()
    assert services.authenticate("ANNE@example.org", PASSWORD) == member
    db.session.commit()
    assert _argon2_params(member.password_hash)["memory_cost"] >= 19 * 1024


def test_authenticate_rejects_wrong_and_unknown(app):
    _register()
    assert services.authenticate("anne@example.org", "wrong password here") is None
    assert services.authenticate("nobody@example.org", PASSWORD) is None
    assert services.authenticate("not an email", PASSWORD) is None


def test_email_is_unique_whatever_its_case(app):
    _register(email="Anne.Martin@Example.ORG")
    with pytest.raises(ValidationFailed) as err:
        _register(email="anne.martin@example.org", display_name="Autre")
    assert "email" in err.value.fields
    assert _count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": ""}, "password"),
        ({"password": "court"}, "password"),
        ({"password": "motdepasse123"}, "password"),  # long enough, but guessable
        ({"password": "qwertyuiopasd"}, "password"),  # a keyboard walk
        ({"password": "anne@example.org"}, "password"),  # the e-mail itself
        ({"email": "pas-un-email"}, "email"),
        ({"display_name": " "}, "display_name"),
        ({"display_name": "x" * 61}, "display_name"),
        ({"radius_m": 199}, "radius_m"),
        ({"radius_m": 5001}, "radius_m"),
        ({"radius_m": "abc"}, "radius_m"),
        ({"radius_m": True}, "radius_m"),
        ({"radius_m": 1000.5}, "radius_m"),
        ({"skills": ["plongée"]}, "skills"),
        ({"tags": "ok, <script>"}, "tags"),
        ({"tags": ",".join(f"t{i}" for i in range(11))}, "tags"),
        ({"bio": "x" * 1001}, "bio"),
        ({"location": LocationInput(lat=float("nan"), lon=2.3)}, "location"),
        ({"location": LocationInput(lat=91, lon=2.3)}, "location"),
        ({"location": LocationInput(lat="48.8", lon=None)}, "location"),
        ({"location": LocationInput(address="")}, "location"),
        ({"location": LocationInput(address="1 rue qui n'existe pas")}, "location"),
    ],
)
def test_bad_registration_says_which_field_and_writes_nothing(app, overrides, field):
    with pytest.raises(ValidationFailed) as err:
        _register(**overrides)
    assert field in err.value.fields
    assert str(err.value.fields[field])
    db.session.rollback()
    assert _count() == 0


def test_all_field_errors_are_reported_together(app):
    with pytest.raises(ValidationFailed) as err:
        _register(email="x", password="short", radius_m=10, location=LocationInput())
    assert {"email", "password", "radius_m", "location"} <= set(err.value.fields)


def test_registration_stores_a_public_position_not_the_home(app):
    member = _register()
    home, public = geo.from_element(member.home), geo.from_element(member.public_position)
    assert home == geo.lat_lon(*BATIGNOLLES)
    assert public != home
    assert geo.geodesic_distance_m(home, public) < 160


def test_home_change_updates_quartier_and_is_limited(app, make_quartier):
    batignolles = make_quartier("batignolles", around=BATIGNOLLES, half=0.003)
    nation = make_quartier("nation", around=(48.848, 2.396), half=0.003)
    member = _register()
    assert member.quartier == batignolles
    old_public = geo.from_element(member.public_position)
    services.change_home(member, LocationInput(lat=48.848, lon=2.396))
    db.session.commit()
    assert member.quartier == nation
    assert geo.from_element(member.public_position) != old_public
    for _ in range(app.config["HOME_CHANGES_PER_30_DAYS"] - 1):
        services.change_home(member, LocationInput(lat=48.8481, lon=2.3961))
    db.session.commit()
    assert services.home_changes_left(member) == 0
    with pytest.raises(TooManyChanges):
        services.change_home(member, LocationInput(lat=48.88, lon=2.32))
    # A month later the member may move again.
    later = utcnow() + timedelta(days=31)
    assert services.home_changes_left(member, now=later) == app.config["HOME_CHANGES_PER_30_DAYS"]


def test_tokens_expire_and_die_with_a_password_change(app):
    member = _register()
    token = new_token(member)[0]
    db.session.commit()
    assert token_for(token).member == member
    assert token_for(token + "x") is None
    assert db.session.scalar(select(ApiToken.token_hash)) != token  # only a digest is stored
    row = db.session.scalar(select(ApiToken))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert token_for(token) is None
    fresh = new_token(member)[0]
    db.session.commit()
    services.change_password(member, PASSWORD, "une autre phrase de passe solide")
    db.session.commit()
    assert token_for(fresh) is None


def test_change_password_needs_the_current_one(app):
    member = _register()
    with pytest.raises(ValidationFailed) as err:
        services.change_password(member, "pas le bon", "une autre phrase de passe solide")
    assert "current_password" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        services.change_password(member, PASSWORD, "court")
    assert "password" in err.value.fields


def test_update_profile_is_all_or_nothing(app):
    member = _register(skills=["bricolage"])
    with pytest.raises(ValidationFailed):
        services.update_profile(member, display_name="Anne-Marie", radius_m=99999)
    db.session.rollback()
    assert member.display_name == "Anne"
    services.update_profile(member, skills=["cuisine", "couture"], tags="Vélo, tricot, vélo")
    db.session.commit()
    assert member.skill_slugs == ["couture", "cuisine"]
    assert member.tag_names == ["tricot", "vélo"]


def test_missing_spatialite_is_one_clear_sentence():
    # The stdlib sqlite3 of this Python cannot load extensions at all: the real failure.
    conn = sqlite3.connect(":memory:")
    with pytest.raises(database.SpatialiteMissing) as err:
        database._load_spatialite(conn)
    assert "libsqlite3-mod-spatialite" in str(err.value)
    assert "\n" not in str(err.value)


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PEUPLADE_ENV", "production")
    with pytest.raises(SystemExit) as err:
        create_app()
    assert "SECRET_KEY" in str(err.value)


def test_trusted_proxy_setting_gives_rate_limits_the_client_address(make_app):
    from flask import request

    seen = {}
    for proxies in (0, 1):
        app = make_app(TRUSTED_PROXIES=proxies)

        @app.get("/_test_remote_addr")
        def remote_addr(proxies=proxies):
            seen[proxies] = request.remote_addr
            return "ok"

        app.view_functions["remote_addr"].peuplade_public = True
        app.test_client().get(
            "/_test_remote_addr",
            headers={"X-Forwarded-For": "203.0.113.7"},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        )
    assert seen == {0: "10.0.0.1", 1: "203.0.113.7"}


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("GEOCODER", "google", "GEOCODER"),
        ("GEOCODER_TIMEOUT", "abc", "GEOCODER_TIMEOUT"),
        ("GEOCODER_TIMEOUT", "-1", "positive"),
        ("PEUPLADE_ENV", "staging", "PEUPLADE_ENV"),
    ],
)
def test_bad_settings_stop_the_app_with_one_sentence(monkeypatch, name, value, words):
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as err:
        create_app()
    assert words in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.postgis_only
def test_parallel_home_changes_cannot_pass_the_limit_together(make_app, make_member):
    """Two requests moving one home at the same instant, one change left: one wins."""
    import threading

    app = make_app(HOME_CHANGES_PER_30_DAYS=1)
    with app.app_context():
        member_id = make_member("Anne").id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(lat: float) -> None:
        with app.app_context():
            member = db.session.get(Member, member_id)
            barrier.wait()
            try:
                services.change_home(member, LocationInput(lat=lat, lon=2.32))
                db.session.commit()
                outcomes.append("moved")
            except TooManyChanges:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=move, args=(lat,)) for lat in (48.881, 48.889)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["moved", "refused"]
