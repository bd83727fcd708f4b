"""Register, confirm the e-mail address, log in, log out, forgotten password (HTML)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
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

from peuplade import ratelimits, security_log
from peuplade.access import public
from peuplade.account import queries, services
from peuplade.account.tokens import secret_digest
from peuplade.auth import confirm, emails, reset, sessions, signup
from peuplade.auth.forms import (
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from peuplade.errors import ValidationFailed
from peuplade.extensions import db, limiter
from peuplade.forms import forget_bad_point, location_input, submit
from peuplade.ratelimits import member_key
from peuplade.validation import normalise_email

bp = Blueprint("auth", __name__)

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
        known = queries.member_by_email(normalise_email(email or ""))
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
@ratelimits.sign_up_limit()  # one bucket with POST /api/v1/members
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
                lambda: signup.sign_up(
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
                refusals_on_form=True,
            )
            if outcome.ok:
                # The same page whether the address had an account or not.
                page = render_template("auth/register_sent.html", email=outcome.result.email)
                return _private(make_response(page, 200))
            general, candidates, status = outcome.general, outcome.candidates, outcome.status
        forget_bad_point(form)
        if form.password.errors or form.password_confirm.errors:
            # A refused password is typed again; any other error keeps it (the form
            # shows it back, so this page is never stored: see _private).
            form.password.data = form.password_confirm.data = ""
    page = render_template("auth/register.html", form=form, candidates=candidates, general=general)
    return _private(make_response(page, status))


# --- confirming the e-mail address ---------------------------------------------------


def _confirm_page(state: str, status: int = 200, **values):
    page = render_template("auth/confirm_email.html", state=state, **values)
    return _private(make_response(page, status))


def _link_refused(link: confirm.Link, token: str):
    """A link that does not work (404): what happened, and how to get a new one (a
    button right here when the link is ours but too old)."""
    again = link.state == confirm.EXPIRED  # ours, only too old: its member is unconfirmed
    return _confirm_page(
        "refused", 404, message=confirm.no_longer_valid(link), again=again, token=token
    )


@bp.route("/email/confirm/<token>", methods=["GET"])
@public
def confirm_email(token: str):
    """The link of the e-mail: a page with a button (mail scanners follow links; a GET
    changes nothing)."""
    link = confirm.read(token)
    if link.member is not None and link.done:
        return _confirm_page("already")  # an expired link too: nothing left to do
    if link.state != confirm.VALID:
        return _link_refused(link, token)
    return _confirm_page("ask", change=link.change)


@bp.route("/email/confirm/<token>", methods=["POST"])
@public
@limiter.limit(ratelimits.PER_CLIENT)
def confirm_email_post(token: str):
    try:
        outcome = confirm.follow(token)  # commits; logs; the notice to an old address
    except ValidationFailed:
        db.session.rollback()
        return _link_refused(confirm.read(token), token)
    if outcome.taken:
        return _confirm_page("refused", 409, message=confirm.taken_message(), again=False)
    if outcome.old_email is not None:
        return _confirm_page("changed")
    return _confirm_page("confirmed" if outcome.first else "already")


def _link_key() -> str:
    """Rate-limit key of "a new link, please" from an old link: that link (a digest)."""
    return "confirm-link:" + secret_digest(request.view_args.get("token", ""))[:32]


@bp.route("/email/confirm/<token>/again", methods=["POST"])
@public
@limiter.limit(ratelimits.PER_CLIENT)
@limiter.limit(ratelimits.CONFIRMATION_LINKS, key_func=_link_key)
def confirmation_again(token: str):
    """A new link, asked from an expired one (which only we could have signed): it goes
    to the member's own address, never elsewhere."""
    link = confirm.read(token)
    if link.member is None or link.state not in (confirm.VALID, confirm.EXPIRED):
        return _link_refused(link, token)
    if link.done:
        return _confirm_page("already")
    if link.change:  # to the pending address it was for (if no other account has it)
        confirm.send_address_change(link.member, again=True)
    else:
        confirm.send_confirmation(link.member, confirm.CONFIRM_AGAIN)
    security_log.event("email_confirmation_sent", member=link.member.id)
    return _confirm_page("sent")


@bp.route("/email/confirmation", methods=["POST"])
@limiter.limit(ratelimits.CONFIRMATION_LINKS, key_func=member_key)
def send_confirmation():
    """The banner's button: a new link to the logged-in member's address."""
    member = current_user
    target = safe_next(request.form.get("next")) or url_for("neighbours.index")
    if member.email_confirmed_at is not None:
        flash(_("Votre adresse e-mail est déjà confirmée."), "success")
        return redirect(target)
    confirm.send_confirmation(member, confirm.CONFIRM_AGAIN)
    security_log.event("email_confirmation_sent", member=member.id)
    flash(
        _(
            "C'est envoyé : un nouveau lien part vers %(email)s. Il peut mettre quelques "
            "minutes à arriver.",
            email=member.email,
        ),
        "success",
    )
    return redirect(target)


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
    """Pages of the reset and confirmation flows, and the sign-up form (which shows the
    typed passwords back): kept out of caches, and their link's token out of Referer
    headers."""
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
            outcome = submit(
                form,
                lambda: reset.reset_password(token, form.password.data),
                refusals_on_form=True,
            )
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
