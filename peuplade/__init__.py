"""Peuplade: neighbourhood mutual aid. ``create_app`` is the only entry point."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, redirect, request, session, url_for

from peuplade.access import public
from peuplade.config import ROOT
from peuplade.headers import API_POLICY, content_security_policy


def _login_message():
    from flask_babel import lazy_gettext as _l

    return _l("Connectez-vous pour ouvrir cette page.")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings read from the environment."""
    from peuplade import compression, database, geocoding, health, migrating, replicas, requestlog
    from peuplade.config import ConfigError, load_config
    from peuplade.error_handlers import register_error_handlers
    from peuplade.extensions import babel, csrf, db, limiter, login_manager

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_relative_config=True,
    )
    from peuplade.validation import bounded_int_converter

    app.url_map.converters["int"] = bounded_int_converter  # ids too large: 404, never 405
    env_override = (
        {"PEUPLADE_ENV": config["PEUPLADE_ENV"]} if config and "PEUPLADE_ENV" in config else {}
    )
    try:
        import os

        app.config.from_mapping(load_config(app.instance_path, {**os.environ, **env_override}))
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"] > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    logging.basicConfig(level=logging.INFO)

    database.init_app(app, db)
    replicas.init_app(app, db)  # reads of GET requests to replicas, when configured
    migrating.init_app(app)  # flask db: Flask-Migrate, loaded by the command line only
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Flask-Login's own "Please log in to access this page." would be English on every
    # French page: ours, translated when it is flashed.
    login_manager.login_message = _login_message()
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str
    # Off: a changed IP (mobile networks) must not log people out, and sessions are
    # revoked server-side (auth/sessions.py). Flask-Login's "basic" mode would only
    # write a "_fresh" flag we never read into every visitor's cookie, and that write,
    # answered to a request still in flight, could undo a choice made meanwhile (the
    # language just picked).
    login_manager.session_protection = None
    from peuplade.photos import uploads

    uploads.init_app(app)  # before the CSRF check reads the form: photos weigh more
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    geocoding.init_app(app)
    health.init_app(app)  # /healthz, /readyz: answered before sessions, login and limits
    requestlog.init_app(app)  # one JSON line per request, X-Request-Id
    compression.init_app(app)  # static/'s CSS, scripts and SVG; never a page (BREACH)

    _register_login_loader()
    _register_blueprints(app, csrf)
    register_error_handlers(app)
    _register_access_control(app)
    _register_template_helpers(app)

    from peuplade.cli import register_cli

    register_cli(app)
    return app


def _select_locale() -> str:
    """The visitor's choice (cookie), else the member's language as remembered when they
    were authenticated (``peuplade.viewer``: never the ORM, which a failed write can
    leave unreadable), else the browser's."""
    from flask import current_app

    from peuplade import viewer

    if not has_request_context():  # CLI commands and services called outside a request
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    supported = current_app.config["BABEL_SUPPORTED_LOCALES"]
    chosen = session.get("lang")
    if chosen in supported:
        return chosen
    member = viewer.current()
    if member is not None and member.locale in supported:
        return member.locale
    return (
        request.accept_languages.best_match(supported) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def _register_login_loader() -> None:
    from peuplade.auth import sessions
    from peuplade.extensions import login_manager

    # The cookies carry a server-side session id, never the member id (auth/sessions.py).
    login_manager.user_loader(sessions.member_for_session)


def _register_blueprints(app: Flask, csrf) -> None:
    from peuplade.account.routes import bp as account_bp
    from peuplade.api import bp as api_bp
    from peuplade.auth.routes import bp as auth_bp
    from peuplade.board.routes import bp as board_bp
    from peuplade.events.routes import bp as events_bp
    from peuplade.exchanges.routes import bp as exchanges_bp
    from peuplade.feeds import bp as feeds_bp
    from peuplade.gdpr.routes import bp as gdpr_bp
    from peuplade.home.routes import bp as home_bp
    from peuplade.loans.routes import bp as loans_bp
    from peuplade.map.routes import bp as map_bp
    from peuplade.media.routes import bp as media_bp
    from peuplade.messages.routes import bp as messages_bp
    from peuplade.moderation.routes import bp as moderation_bp
    from peuplade.neighbours.routes import bp as neighbours_bp
    from peuplade.news.routes import bp as news_bp
    from peuplade.notifications import mail
    from peuplade.notifications.routes import bp as notifications_bp
    from peuplade.posts.routes import bp as places_bp
    from peuplade.pwa.routes import bp as pwa_bp
    from peuplade.sharing.routes import bp as sharing_bp
    from peuplade.timeline import routes as timeline_routes  # noqa: F401 - /timeline, on news_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(neighbours_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(exchanges_bp)
    app.register_blueprint(loans_bp)
    app.register_blueprint(news_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(places_bp)
    app.register_blueprint(map_bp)
    app.register_blueprint(board_bp)
    app.register_blueprint(messages_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(gdpr_bp)
    mail.init_app(app)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(pwa_bp)
    app.register_blueprint(sharing_bp)
    # Importing a feature's API module registers its JSON views on api_bp, in this order
    # (that of the routes): bearer authentication first, the OpenAPI document's view last.
    # isort: off
    from peuplade.auth import bearer  # noqa: F401
    from peuplade.messages import api as messages_api  # noqa: F401
    from peuplade.exchanges import api as exchanges_api  # noqa: F401
    from peuplade.gdpr import api as gdpr_api  # noqa: F401
    from peuplade.loans import api as loans_api  # noqa: F401
    from peuplade.moderation import api as moderation_api  # noqa: F401
    from peuplade.news import api as news_api  # noqa: F401
    from peuplade.timeline import api as timeline_api  # noqa: F401
    from peuplade.notifications import api as notifications_api  # noqa: F401
    from peuplade.account import api as account_api  # noqa: F401
    from peuplade.neighbours import api as neighbours_api  # noqa: F401
    from peuplade.media import api as media_api  # noqa: F401
    from peuplade.api.docs import bp as api_docs_bp
    # isort: on

    from peuplade.moderation import targets

    if targets.missing():  # every feature's queries module registered its kinds above
        raise RuntimeError(f"report targets without a loader: {targets.missing()}")
    app.register_blueprint(api_bp)
    app.register_blueprint(api_docs_bp)
    csrf.exempt(api_bp)  # bearer tokens only under /api/: no cookies, so no CSRF


def _register_access_control(app: Flask) -> None:
    from flask_login import current_user

    from peuplade.extensions import login_manager

    @app.before_request
    def deny_by_default():
        if request.endpoint == "static":
            return None
        if request.endpoint is None:  # a 404 or 405: answered in the member's language
            if not request.path.startswith("/api/"):
                current_user.is_authenticated  # noqa: B018 - loads the member, once
            return None
        if request.blueprint == "api":
            return None  # the API blueprint checks its bearer tokens itself
        # The session is looked up first, public page or not: the loader's own commit
        # (last_seen_at) then happens before the view writes anything.
        logged_in = current_user.is_authenticated
        view = app.view_functions.get(request.endpoint)
        if getattr(view, "peuplade_public", False) or logged_in:
            return None
        return login_manager.unauthorized()

    @app.route("/lang/<code>", methods=["POST"])
    @public
    def set_language(code: str):
        if code in app.config["BABEL_SUPPORTED_LOCALES"]:
            session["lang"] = code
            if current_user.is_authenticated:  # remembered on the next devices too
                from peuplade.account import services
                from peuplade.extensions import db

                services.update_profile(current_user, locale=code)
                db.session.commit()
        target = request.form.get("next", "")
        from peuplade.auth.routes import safe_next

        return redirect(safe_next(target) or url_for("neighbours.index"))

    page_policy = content_security_policy(app.config["MAP_TILE_URL"])

    @app.after_request
    def security_headers(response):
        api = request.path.startswith("/api/")
        headers = response.headers
        headers.setdefault("Content-Security-Policy", API_POLICY if api else page_policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:  # behind a proxy: ProxyFix with TRUSTED_PROXIES sets this
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Personal pages and API answers stay out of shared and browser caches; a photo
        # (peuplade.media) is cached by the member's own browser under its immutable URL.
        personal = request.endpoint != "static" and (api or _logged_in())
        kept = headers.get("Cache-Control", "")
        if personal and "no-store" not in kept and "immutable" not in kept:
            headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_request
    def _forget(_exc):
        g.pop("api_member", None)


def _logged_in() -> bool:
    from flask_login import current_user

    return bool(getattr(current_user, "is_authenticated", False))


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from peuplade import categories, formats, fragments
    from peuplade.notifications.links import external_url

    formats.init_app(app)  # the date filters and each page's words, looked up once
    fragments.init_app(app)  # rendered cards, kept by everything they show

    @app.context_processor
    def inject():
        return {
            "category_label": categories.label,
            "external_url": external_url,
            "current_locale": str(get_locale()),
            "supported_locales": app.config["BABEL_SUPPORTED_LOCALES"],
        }
