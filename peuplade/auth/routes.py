"""Register, log in, log out, forgotten password (HTML)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from peuplade import public, ratelimits
from peuplade.account import queries, services
from peuplade.auth import bp, emails, reset, security_log, sessions
from peuplade.auth.forms import (
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    forget_bad_point,
    location_input,
    submit,
)
from peuplade.errors import ValidationFailed
from peuplade.extensions import db, limiter

LOGIN_LIMIT = ratelimits.PER_CLIENT
# Reset emails asked for one address: enough to retry, too few to flood a mailbox.
RESET_PER_ACCOUNT = "5 per hour"


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


def _failed_login(email: str | None) -> None:
    try:
        known = queries.member_by_email(services.normalise_email(email or ""))
    except ValidationFailed:
        known = None
    security_log.warning(
        "login_failed",
        member=known.id if known is not None else None,
        account=security_log.account_fingerprint(email),
    )


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
        refusal = sessions.access_refusal(member) if member is not None else None
        if member is not None and refusal is None:
            remember = bool(form.remember.data)
            sessions.log_in(member, remember)  # commits, with a password hash upgrade if any
            security_log.event("login", member=member.id, remember=int(remember))
            flash(_("Bonjour %(name)s !", name=member.display_name), "success")
            return redirect(safe_next(form.next.data) or url_for("neighbours.index"))
        if member is not None:
            # The right password, but moderation keeps the account out: say so.
            db.session.commit()  # authenticate() may have upgraded the password hash
            security_log.warning("login_refused", member=member.id, status=member.status)
            form.form_errors.append(refusal)
            status = 403
        else:
            db.session.rollback()
            _failed_login(form.email.data)
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
                unique=("members", "email"),
            )
            if outcome.ok:
                member = outcome.result
                sessions.log_in(member)
                flash(
                    _(
                        "Bienvenue %(name)s ! Voici les voisins qui habitent près de chez vous.",
                        name=member.display_name,
                    ),
                    "success",
                )
                return redirect(url_for("neighbours.index"))
            general, candidates, status = outcome.general, outcome.candidates, outcome.status
        forget_bad_point(form)
    return (
        render_template("auth/register.html", form=form, candidates=candidates, general=general),
        status,
    )


@bp.route("/logout", methods=["POST"])
@public
def logout():
    if current_user.is_authenticated:
        member_id = current_user.id
        sessions.end(current_user.session_id)  # the cookie, and any copy, is now worthless
        db.session.commit()
        security_log.event("logout", member=member_id)
    sessions.log_out()
    flash(_("Vous êtes déconnecté. À bientôt !"), "success")
    return redirect(url_for("neighbours.index"))


def _private(response):
    """Pages of the reset flow: the link's token stays out of caches and Referer headers."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
@limiter.limit(RESET_PER_ACCOUNT, methods=["POST"], key_func=ratelimits.account_key)
def forgot_password():
    form = ForgotPasswordForm()
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        page = render_template("auth/forgot_password.html", form=form, sent=False, minutes=minutes)
        return _private(make_response(page, status))
    found = reset.request_reset(form.email.data)
    db.session.commit()
    if found is not None:
        member, token = found
        emails.send_reset_link(member, token)
        security_log.event("password_reset_requested", member=member.id)
    else:
        security_log.event(
            "password_reset_requested",
            member=None,
            account=security_log.account_fingerprint(form.email.data),
        )
    # The same page whether the account exists or not; the email leaves after it.
    page = render_template("auth/forgot_password.html", form=form, sent=True, minutes=minutes)
    return _private(make_response(page, 200))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def reset_password(token: str):
    if reset.valid_reset(token) is None:
        message = _(
            "Ce lien ne fonctionne plus : il a déjà servi ou il a expiré. Demandez-en un nouveau."
        )
        page = render_template("auth/reset_password.html", form=None, message=message)
        return _private(make_response(page, 404))
    form = ResetPasswordForm()
    general: list[str] = []
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            outcome = submit(form, lambda: reset.reset_password(token, form.password.data))
            general, status = outcome.general, outcome.status
            if outcome.ok:
                return _after_reset(outcome.result)
    page = render_template("auth/reset_password.html", form=form, general=general)
    return _private(make_response(page, status))


def _after_reset(member):
    security_log.event("password_reset", member=member.id)
    emails.send_notice(member, "reset")
    refusal = sessions.access_refusal(member)
    if refusal is not None:
        if current_user.is_authenticated:
            sessions.end(current_user.session_id)
            db.session.commit()
        sessions.log_out()
        flash(_("Votre mot de passe est changé.") + " " + refusal, "error")
        return redirect(url_for("auth.login"))
    sessions.log_in(member)
    flash(
        _("Votre mot de passe est changé. Vos autres appareils sont déconnectés."),
        "success",
    )
    return redirect(url_for("neighbours.index"))
