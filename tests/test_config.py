"""Settings from the environment: every boolean setting is read by one parser, which
takes 1/0, true/false, yes/no, on/off in any case and stops start-up, with one sentence,
on anything else. A deployer who writes ``RATELIMIT_ENABLED=false`` gets what they wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from peuplade import create_app
from peuplade.config import FALSE_WORDS, TRUE_WORDS, ConfigError, load_config
from tests.conftest import _test_config

ROOT = Path(__file__).resolve().parent.parent
BOOLEANS = {"RATELIMIT_ENABLED": True, "MAIL_USE_TLS": False, "MAIL_USE_SSL": False}
# Each word as a deployer may write it: lower, upper, capitalised, with spaces (in a
# fixed order: pytest-xdist's workers must collect the same tests).
SPELLINGS = list(
    dict.fromkeys(
        spelled
        for word in TRUE_WORDS + FALSE_WORDS
        for spelled in (word, word.upper(), word.capitalize(), f" {word} ")
    )
)


@pytest.mark.parametrize("name", list(BOOLEANS))
@pytest.mark.parametrize("written", SPELLINGS)
def test_each_word_means_what_it_says(tmp_path, name, written):
    config = load_config(str(tmp_path), {name: written})
    assert config[name] is (written.strip().lower() in TRUE_WORDS)


@pytest.mark.parametrize("name", list(BOOLEANS))
@pytest.mark.parametrize("written", [None, "", "  "])
def test_unset_or_blank_is_the_default(tmp_path, name, written):
    env = {} if written is None else {name: written}
    assert load_config(str(tmp_path), env)[name] is BOOLEANS[name]


@pytest.mark.parametrize("name", list(BOOLEANS))
@pytest.mark.parametrize("written", ["maybe", "2", "-1", "oui", "enabled", "truee", "0n"])
def test_any_other_word_stops_start_up_naming_the_setting_and_the_words(tmp_path, name, written):
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path), {name: written})
    message = str(refused.value)
    assert message.startswith(f"{name} must be one of")
    assert repr(written) in message
    assert all(word in message for word in TRUE_WORDS + FALSE_WORDS)


def test_starttls_and_implicit_tls_together_stop_start_up(tmp_path):
    with pytest.raises(ConfigError, match="cannot both be on"):
        load_config(str(tmp_path), {"MAIL_USE_TLS": "yes", "MAIL_USE_SSL": "on"})


def test_the_app_refuses_to_start_with_one_sentence_and_no_traceback(tmp_path):
    env = {
        **os.environ,
        "PEUPLADE_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
        "RATELIMIT_ENABLED": "maybe",
    }
    started = subprocess.run(
        [sys.executable, "-c", "from peuplade import create_app; create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 1
    assert "Traceback" not in started.stderr
    assert started.stderr.strip().splitlines()[-1] == (
        "RATELIMIT_ENABLED must be one of 1, true, yes, on (on) or 0, false, no, off (off), "
        "got 'maybe'."
    )


def _app_from_environment(backend, monkeypatch, written: str):
    """An app whose RATELIMIT_ENABLED comes from the environment, as a deployer sets it."""
    monkeypatch.setenv("RATELIMIT_ENABLED", written)
    config = _test_config(backend)
    del config["RATELIMIT_ENABLED"]
    return create_app(config)


def _statuses_of_eleven_sign_ups(app) -> list[int]:
    client = app.test_client()
    body = {"email": "pas-une-adresse", "password": "x", "display_name": "A", "location": {}}
    return [client.post("/api/v1/members", json=body).status_code for _ in range(11)]


@pytest.mark.parametrize("written", ["false", "FALSE", "no", "off", "0"])
def test_rate_limits_written_off_are_off(backend, monkeypatch, written):
    app = _app_from_environment(backend, monkeypatch, written)
    assert 429 not in _statuses_of_eleven_sign_ups(app)


@pytest.mark.parametrize("written", ["true", "Yes", "on", "1"])
def test_rate_limits_written_on_are_on(backend, monkeypatch, written):
    app = _app_from_environment(backend, monkeypatch, written)
    assert _statuses_of_eleven_sign_ups(app)[-1] == 429


# --- PUBLIC_URL follows `flask run`'s address in development ---------------------------


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "http://localhost:5000"),
        ({"FLASK_RUN_HOST": "127.0.0.1", "FLASK_RUN_PORT": "5093"}, "http://127.0.0.1:5093"),
        ({"FLASK_RUN_PORT": "5093"}, "http://localhost:5093"),
        ({"FLASK_RUN_HOST": "0.0.0.0", "FLASK_RUN_PORT": "8000"}, "http://localhost:8000"),
        ({"FLASK_RUN_HOST": "::1", "FLASK_RUN_PORT": "8000"}, "http://[::1]:8000"),
        (
            {"FLASK_RUN_PORT": "5093", "PUBLIC_URL": "https://peuplade.example.org/"},
            "https://peuplade.example.org",
        ),
    ],
)
def test_public_url_follows_the_development_servers_address(tmp_path, env, url):
    assert load_config(str(tmp_path), env)["PUBLIC_URL"] == url


def test_a_port_that_is_not_a_number_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="FLASK_RUN_PORT must be a whole number"):
        load_config(str(tmp_path), {"FLASK_RUN_PORT": "cinq mille"})


def test_production_still_requires_public_url(tmp_path):
    env = {"PEUPLADE_ENV": "production", "SECRET_KEY": "x" * 40, "FLASK_RUN_PORT": "5093"}
    with pytest.raises(ConfigError, match="PUBLIC_URL must be set in production"):
        load_config(str(tmp_path), env)


def test_e_mails_and_the_board_name_the_port_make_run_serves_on(backend, monkeypatch):
    from peuplade.notifications.links import external_url

    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.setenv("FLASK_RUN_HOST", "127.0.0.1")
    monkeypatch.setenv("FLASK_RUN_PORT", "5093")
    app = create_app(_test_config(backend))
    with app.app_context():
        assert external_url("auth.login") == "http://127.0.0.1:5093/login"
