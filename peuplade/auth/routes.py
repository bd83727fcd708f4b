"""Register, log in, log out (HTML)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from peuplade import public, ratelimits
from peuplade.account import services
from peuplade.auth import bp
from peuplade.auth.forms import (
    LoginForm,
    RegisterForm,
    forget_bad_point,
    location_input,
    submit,
)
from peuplade.extensions import db, limiter

LOGIN_LIMIT = ratelimits.PER_CLIENT


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site ("/x?y"), else None (open redirects)."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read "\" as "/" and drop tabs/newlines: "/\evil" would leave the site.
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _fresh_session() -> None:
    """Drop everything in the session but the language the visitor chose."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def start_session(member) -> None:
    """A fresh session for ``member``: nothing from before the login is kept but the
    chosen language."""
    _fresh_session()
    login_user(member)
    refresh()  # the language was picked before login: pick again for this member


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
@limiter.limit(
    ratelimits.PER_ACCOUNT_FAILURES,
    methods=["POST"],
    key_func=ratelimits.account_key,
    deduct_when=ratelimits.failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("neighbours.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    status = 200
    if form.validate_on_submit():
        member = services.authenticate(form.email.data, form.password.data)
        if member is not None:
            db.session.commit()  # authenticate() may have upgraded the password hash
            start_session(member)
            flash(_("Bonjour %(name)s !", name=member.display_name), "success")
            return redirect(safe_next(form.next.data) or url_for("neighbours.index"))
        db.session.rollback()
        # One message for both cases, so the form does not tell which e-mails exist.
        form.form_errors.append(_("E-mail ou mot de passe incorrect."))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("neighbours.index"))
    form = RegisterForm()
    candidates = None
    general: list[str] = []
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            outcome = submit(
                form,
                lambda: services.register_member(
                    email=form.email.data,
                    password=form.password.data,
                    display_name=form.display_name.data,
                    location=location_input(form),
                    radius_m=form.radius_m.data,
                    skills=form.skills.data or [],
                    tags=form.tags.data,
                    bio=form.bio.data,
                    locale=str(get_locale()),
                ),
                conflict=_("Un compte existe déjà avec cette adresse e-mail."),
            )
            if outcome.ok:
                member = outcome.result
                start_session(member)
                flash(
                    _(
                        "Bienvenue %(name)s ! Voici les voisins qui habitent près de chez vous.",
                        name=member.display_name,
                    ),
                    "success",
                )
                return redirect(url_for("neighbours.index"))
            general, candidates = outcome.general, outcome.candidates
        forget_bad_point(form)
    return (
        render_template("auth/register.html", form=form, candidates=candidates, general=general),
        status,
    )


@bp.route("/logout", methods=["POST"])
@public
def logout():
    _fresh_session()
    logout_user()
    flash(_("Vous êtes déconnecté. À bientôt !"), "success")
    return redirect(url_for("neighbours.index"))
