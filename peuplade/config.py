"""Settings read from the environment when the app is created (never at import)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ROOT = Path(__file__).resolve().parent.parent  # the checkout: templates, static, data

ENVIRONMENTS = ("development", "production", "testing")

# OWASP password storage cheat sheet minimum for argon2id: m=19 MiB, t=2, p=1.
ARGON2_OWASP_MINIMUM = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
# OWASP ASVS 5.0 appendix C for argon2id: m >= 46 MiB with t >= 1 (p = 1).
ARGON2_ASVS_MINIMUM = {"time_cost": 1, "memory_cost": 46 * 1024, "parallelism": 1}
# RFC 9106 "second recommended" profile (argon2-cffi's default): above both minimums.
ARGON2_PRODUCTION = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 4}

# Session cookies. Production: the __Host- prefix makes browsers refuse the cookie
# unless it is Secure, has Path=/ and no Domain (no sub-domain can plant or read it).
SESSION_COOKIE_NAMES = {"production": "__Host-peuplade", "other": "peuplade"}
REMEMBER_COOKIE_NAMES = {"production": "__Host-remember", "other": "peuplade_remember"}


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from exc


# The words a boolean setting may be written with, in any case (and blank: the default).
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    """Every boolean setting is read here: ``1/0``, ``true/false``, ``yes/no``,
    ``on/off`` in any case, surrounding spaces ignored; anything else stops start-up
    (a deployer who writes ``RATELIMIT_ENABLED=false`` must get what they wrote)."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(
        f"{name} must be one of {', '.join(TRUE_WORDS)} (on) or {', '.join(FALSE_WORDS)} "
        f"(off), got {raw!r}."
    )


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{name} must be a positive number of seconds, got {raw!r}.")
    return value


def _postgres_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; accept the common short forms.
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _replica_urls(env: dict[str, str], database_url: str) -> list[str]:
    """DATABASE_REPLICA_URLS: zero or more PostgreSQL URLs, separated by commas or
    spaces; only with a PostgreSQL primary."""
    urls = [
        _postgres_url(u) for u in env.get("DATABASE_REPLICA_URLS", "").replace(",", " ").split()
    ]
    if not urls:
        return []
    if not database_url.startswith("postgresql"):
        raise ConfigError(
            "DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL: SQLite/SpatiaLite has no "
            "replicas, remove the setting."
        )
    for number, url in enumerate(urls, start=1):
        try:
            backend = make_url(url).get_backend_name()
        except ArgumentError:
            backend = None
        if backend != "postgresql":
            raise ConfigError(
                f"DATABASE_REPLICA_URLS: replica {number} is not a postgresql:// URL."
            )
    return urls


def _development_url(env: dict[str, str]) -> str:
    """Outside production, without PUBLIC_URL: the address ``flask run`` serves on, from
    the variables it reads itself (``make run HOST=... PORT=...`` sets them), so links in
    the lobby board and in e-mails lead to this very server."""
    host = env.get("FLASK_RUN_HOST", "").strip() or "localhost"
    if host in ("0.0.0.0", "::"):  # noqa: S104 - every address: this machine's name opens it
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    port = _int(env, "FLASK_RUN_PORT", 5000)
    return f"http://{host}:{port}"


POOLERS = ("none", "pgbouncer", "pgbouncer-prepared")
GEOCODERS = ("nominatim", "ban", "photon", "offline")
MAIL_BACKENDS = ("smtp", "log")


def load_config(instance_path: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config from environment variables (see .env.example)."""
    env = dict(os.environ if env is None else env)
    app_env = env.get("PEUPLADE_ENV", "development")
    if app_env not in ENVIRONMENTS:
        raise ConfigError(
            f"PEUPLADE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {app_env!r}."
        )

    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if app_env == "production":
            raise ConfigError("SECRET_KEY must be set in production (a long random string).")
        # Dev/test only: a per-process key; sessions do not survive a restart.
        secret_key = secrets.token_hex(32)

    database_url = env.get("DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "peuplade.sqlite")
    )
    database_url = _postgres_url(database_url)

    geocoder = env.get("GEOCODER", "offline" if app_env != "production" else "nominatim")
    if geocoder not in GEOCODERS:
        raise ConfigError(f"GEOCODER must be one of {', '.join(GEOCODERS)}, got {geocoder!r}.")

    mail_backend = env.get("MAIL_BACKEND", "smtp" if app_env == "production" else "log")
    if mail_backend not in MAIL_BACKENDS:
        raise ConfigError(
            f"MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}, got {mail_backend!r}."
        )
    mail_use_tls = _bool(env, "MAIL_USE_TLS", False)
    mail_use_ssl = _bool(env, "MAIL_USE_SSL", False)
    if mail_use_tls and mail_use_ssl:
        raise ConfigError(
            "MAIL_USE_TLS (STARTTLS, port 587) and MAIL_USE_SSL (implicit TLS, port 465) "
            "cannot both be on: choose the one your mail server speaks."
        )
    public_url = env.get("PUBLIC_URL", "")
    if not public_url:
        if app_env == "production":
            raise ConfigError(
                "PUBLIC_URL must be set in production (the site's address, used in emails)."
            )
        public_url = _development_url(env)
    if not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"PUBLIC_URL must start with http:// or https://, got {public_url!r}.")
    production = app_env == "production"
    if production and not public_url.startswith("https://"):
        # Cookies are Secure (and __Host-) in production: over http nobody could log in.
        raise ConfigError(f"PUBLIC_URL must start with https:// in production, got {public_url!r}.")
    session_idle_minutes = _int(env, "SESSION_IDLE_MINUTES", 120)
    remember_idle_days = _int(env, "REMEMBER_IDLE_DAYS", 14)
    session_max_days = _int(env, "SESSION_MAX_DAYS", 30)
    if min(session_idle_minutes, remember_idle_days, session_max_days) < 1:
        raise ConfigError(
            "SESSION_IDLE_MINUTES, REMEMBER_IDLE_DAYS and SESSION_MAX_DAYS must be at least 1."
        )
    cookie_kind = "production" if production else "other"
    replica_urls = _replica_urls(env, database_url)
    pooler = env.get("DATABASE_POOLER", "") or "none"
    if pooler not in POOLERS:
        raise ConfigError(f"DATABASE_POOLER must be one of {', '.join(POOLERS)}, got {pooler!r}.")

    return {
        "PEUPLADE_ENV": app_env,
        "TESTING": app_env == "testing",
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # Read replicas (peuplade/replicas.py, docs/SCALING.md): reads of GET pages go
        # to one whose replay lag is at most REPLICA_MAX_LAG_S seconds.
        "DATABASE_REPLICA_URLS": replica_urls,
        "REPLICA_MAX_LAG_S": _float(env, "REPLICA_MAX_LAG_S", 5.0),
        # A transaction-mode pooler (PgBouncer) between the app and PostgreSQL: no
        # session state, no startup options, prepared statements only with
        # "pgbouncer-prepared" (PgBouncer >= 1.21, max_prepared_statements > 0).
        "DATABASE_POOLER": pooler,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Pages and API endpoints that take photos accept this much per request (four
        # photos of 10 MB and the form); each photo is then checked on its own
        # (photos/processing.py: 10 MB at most, told on the form, never a 413 page).
        "PHOTO_REQUEST_MAX_BYTES": _int(env, "PHOTO_REQUEST_MAX_BYTES", 48 * 1024 * 1024),
        # "database" (bytes in the photos table) or a directory shared by every app
        # server (photos/storage.py, docs/operations.md).
        "PHOTO_STORAGE": env.get("PHOTO_STORAGE") or "database",
        # Cookies (docs/security.md): no Domain, Path=/, HttpOnly, SameSite=Lax, and
        # Secure with the __Host- prefix in production. Dev and tests run on plain http.
        "SESSION_COOKIE_NAME": SESSION_COOKIE_NAMES[cookie_kind],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "REMEMBER_COOKIE_NAME": REMEMBER_COOKIE_NAMES[cookie_kind],
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_PATH": "/",
        "REMEMBER_COOKIE_DOMAIN": None,
        "REMEMBER_COOKIE_DURATION": timedelta(days=session_max_days),
        # Written at login only, never again on each response: the session's idle and
        # absolute limits are kept on the server (auth/sessions.py), so a cookie sent
        # anew would extend nothing. (Flask's SESSION_REFRESH_EACH_REQUEST concerns
        # permanent sessions only, which Peuplade does not use: its cookie is sent when
        # it changed.)
        "REMEMBER_COOKIE_REFRESH_EACH_REQUEST": False,
        # Server-side sessions (auth/sessions.py): ended after this long without a
        # request (in minutes; days for "rester connecté"), and in any case this many
        # days after the login.
        "SESSION_IDLE_MINUTES": session_idle_minutes,
        "REMEMBER_IDLE_DAYS": remember_idle_days,
        "SESSION_MAX_DAYS": session_max_days,
        # An emailed password reset link works once, for this many minutes.
        "PASSWORD_RESET_MINUTES": _int(env, "PASSWORD_RESET_MINUTES", 60),
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "GEOCODER": geocoder,
        "GEOCODER_USER_AGENT": env.get("GEOCODER_USER_AGENT", "peuplade (self-hosted)"),
        "GEOCODER_DOMAIN": env.get("GEOCODER_DOMAIN") or None,
        "GEOCODER_SCHEME": env.get("GEOCODER_SCHEME", "https"),
        "GEOCODER_TIMEOUT": _float(env, "GEOCODER_TIMEOUT", 5.0),
        "GEOCODER_CACHE_SECONDS": _int(env, "GEOCODER_CACHE_SECONDS", 24 * 3600),
        "GAZETTEER_PATH": env.get("GAZETTEER_PATH")
        or str(Path(__file__).resolve().parent.parent / "data" / "gazetteer.json"),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(env, "RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Every authenticated API call, per token (429 with Retry-After beyond it).
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "300 per minute"),
        "ARGON2_PARAMETERS": ARGON2_OWASP_MINIMUM if app_env == "testing" else ARGON2_PRODUCTION,
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_SUPPORTED_LOCALES": ["fr", "en"],
        "BABEL_TRANSLATION_DIRECTORIES": str(
            Path(__file__).resolve().parent.parent / "translations"
        ),
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _int(env, "MAIL_PORT", 25),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": mail_use_tls,
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "Peuplade <noreply@localhost>"),
        "MAIL_USE_SSL": mail_use_ssl,
        "MAIL_TIMEOUT": _float(env, "MAIL_TIMEOUT", 10.0),
        # "smtp" sends; "log" (the default outside production) writes emails to the log.
        "MAIL_BACKEND": mail_backend,
        "MAIL_MAX_ATTEMPTS": _int(env, "MAIL_MAX_ATTEMPTS", 8),
        # The address members reach the site at: links in emails are built on it.
        "PUBLIC_URL": public_url.rstrip("/"),
        # A new request notifies at most this many neighbours who know how (nearest).
        "NOTIFY_MATCHING_MAX": _int(env, "NOTIFY_MATCHING_MAX", 50),
        # Rendered timeline cards each worker keeps (peuplade.fragments); 0: none.
        "FRAGMENT_CACHE_SIZE": _int(env, "FRAGMENT_CACHE_SIZE", 2000),
        # Reverse proxies in front of the app (nginx...): their X-Forwarded-* headers are
        # trusted, so rate limits see each client's own address. 0 = none.
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        # Dates typed by members ("samedi 14") are days in this zone.
        "TIMEZONE": env.get("TIMEZONE", "Europe/Paris"),
        "HOME_CHANGES_PER_30_DAYS": _int(env, "HOME_CHANGES_PER_30_DAYS", 3),
        # Crowd-blurring: a member is shown in the finest privacy cell where at least
        # this many members live (docs/privacy.md). 1 turns it off.
        "PRIVACY_CROWD_MIN": _int(env, "PRIVACY_CROWD_MIN", 3),
        # Only established members make a crowd: e-mail confirmed, account this old (in
        # days), not suspended, banned or reported.
        "PRIVACY_ESTABLISHED_DAYS": _int(env, "PRIVACY_ESTABLISHED_DAYS", 30),
        # A crowd must have held this many days before `flask privacy-refresh` shows its
        # members in a finer cell (coarsening is immediate).
        "PRIVACY_STABLE_DAYS": _int(env, "PRIVACY_STABLE_DAYS", 7),
        # This many sign-ups within a day whose homes lie in one ~444 m cell put a signal
        # in the moderators' queue.
        "SIGNUP_SIGNAL_COUNT": _int(env, "SIGNUP_SIGNAL_COUNT", 6),
        # Who answers questions about personal data (shown on /privacy; GDPR art. 13).
        "PRIVACY_CONTACT": env.get("PRIVACY_CONTACT") or None,
        # New accounts (younger than NEW_ACCOUNT_DAYS) publish and write a little at most.
        "NEW_ACCOUNT_DAYS": _int(env, "NEW_ACCOUNT_DAYS", 7),
        "NEW_ACCOUNT_POSTS_PER_DAY": _int(env, "NEW_ACCOUNT_POSTS_PER_DAY", 5),
        "NEW_ACCOUNT_MESSAGES_PER_HOUR": _int(env, "NEW_ACCOUNT_MESSAGES_PER_HOUR", 20),
        "API_TOKEN_DAYS": _int(env, "API_TOKEN_DAYS", 90),
        "MAP_TILE_URL": env.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        "MAP_TILE_ATTRIBUTION": env.get(
            "MAP_TILE_ATTRIBUTION", "© OpenStreetMap contributors · Données : Ville de Paris, ODbL"
        ),
    }
