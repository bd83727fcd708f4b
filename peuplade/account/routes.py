"""The member's own account (profile, password, home) and other members' public profiles."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from peuplade import categories, database, geo, ratelimits, security_log
from peuplade.account import blur, queries, services, tokens
from peuplade.account.forms import (
    AvatarForm,
    HomeForm,
    PasswordForm,
    PositionForm,
    ProfileForm,
)
from peuplade.auth import confirm, emails, sessions
from peuplade.extensions import limiter
from peuplade.forms import add_error, forget_bad_point, location_input, submit
from peuplade.photos import processing
from peuplade.photos import services as photos
from peuplade.photos.uploads import accepts_photos
from peuplade.validation import url_id

bp = Blueprint("account", __name__)

bp.add_app_template_filter(categories.label, "skill_label")


def _me():
    return current_user._get_current_object()


def member_key() -> str:
    """Rate-limit key of the logged-in member (their id: never the session id)."""
    return f"member:{current_user.id}"


def _reauth_failed(_response) -> bool:
    """Count a try against the limit only when the password asked again was wrong."""
    return bool(g.get("peuplade_reauth_failed"))


def _note_reauth(form) -> None:
    if form.current_password.errors:
        g.peuplade_reauth_failed = True
        security_log.warning("reauth_failed", member=current_user.id)


# A stolen session must not be able to guess the password through these forms.
reauth_limit = limiter.limit(
    ratelimits.PASSWORD_CHANGES,
    methods=["POST"],
    key_func=member_key,
    deduct_when=_reauth_failed,
)


@bp.route("/account")
def overview():
    member = _me()
    return render_template(
        "account/overview.html",
        member=member,
        home_changes_left=services.home_changes_left(member),
        tokens=tokens.live_tokens(member),
    )


@bp.route("/account/first-steps")
def first_steps():
    """The "Premiers pas" page: what a new member may do first (say what they know how to do,
    publish, print the board for their building), each skippable. The pages after
    sign-up lead here (the "check your mailbox" page and the e-mail confirmation, through
    the login); "Mon profil" links to it for later."""
    return render_template("account/first_steps.html", member=_me())


@bp.route(f"/account/tokens/{url_id('token_id')}/revoke", methods=["POST"])
def revoke_token(token_id: int):
    """Cut off an application (a phone, a script) that uses one of my API tokens."""
    me = _me()
    tokens.revoke_token(me, token_id)  # someone else's, or a dead one: 404
    database.commit()
    security_log.event("token_revoked", member=me.id)
    flash(
        _(
            "Ce jeton ne fonctionne plus : l'application qui l'utilisait n'a plus accès "
            "à votre compte."
        ),
        "success",
    )
    return redirect(url_for("account.overview") + "#tokens-title")


@bp.route(f"/profile/{url_id('member_id')}")
def profile(member_id: int):
    member = queries.get_member_or_404(_me(), member_id)
    return render_template("account/profile.html", member=member)


@bp.route("/account/profile", methods=["GET", "POST"])
@reauth_limit
def edit_profile():
    member = _me()
    if request.method == "GET":
        form = ProfileForm(
            data={
                "display_name": member.display_name,
                "bio": member.bio,
                "skills": member.skill_slugs,
                "tags": ", ".join(member.tag_names),
                "radius_m": str(member.radius_m),
                "email": member.email,
            }
        )
        return render_template("account/edit_profile.html", form=form, general=[])
    form = ProfileForm()
    general: list[str] = []
    status = 422
    old_pending = member.pending_email
    if form.validate_on_submit():
        outcome = submit(
            form,
            lambda: services.update_account(
                member,
                display_name=form.display_name.data,
                bio=form.bio.data or "",
                skills=form.skills.data or [],
                tags=form.tags.data or "",
                radius_m=form.radius_m.data,
                email=form.email.data,
                current_password=form.current_password.data,
            ),
            refusals_on_form=True,
        )
        if outcome.ok:
            if member.pending_email and member.pending_email != old_pending:
                _email_asked(member)
            else:
                flash(_("Votre profil est enregistré."), "success")
            return redirect(url_for("account.overview"))
        general, status = outcome.general, outcome.status
        _note_reauth(form)
    return render_template("account/edit_profile.html", form=form, general=general), status


def _email_asked(member) -> None:
    """A new address is pending: the same words whether another account has it or not
    (``confirm.send_address_change`` sends the link, or tells that account's owner)."""
    security_log.event("email_change_asked", member=member.id)
    confirm.send_address_change(member)
    flash(
        _(
            "Votre profil est enregistré. Nous avons envoyé un lien à %(email)s. Votre "
            "adresse changera quand vous l'aurez suivi.",
            email=member.pending_email,
        ),
        "success",
    )


@bp.route("/account/email/pending/again", methods=["POST"])
@limiter.limit(ratelimits.CONFIRMATION_LINKS, key_func=member_key)
def pending_email_again():
    """A new link for the pending address (the same answer if another account has it:
    nothing is sent then, its owner was told once)."""
    member = _me()
    if member.pending_email:
        confirm.send_address_change(member, again=True)
        security_log.event("email_change_link_sent", member=member.id)
        flash(
            _(
                "C'est envoyé : un nouveau lien part vers %(email)s. Il peut mettre quelques "
                "minutes à arriver.",
                email=member.pending_email,
            ),
            "success",
        )
    return redirect(url_for("account.overview"))


@bp.route("/account/email/pending/cancel", methods=["POST"])
def pending_email_cancel():
    """Forget the pending address: its links stop working."""
    member = _me()
    if member.pending_email:
        member.pending_email = None
        database.commit()
        security_log.event("email_change_cancelled", member=member.id)
        flash(_("C'est annulé : votre adresse e-mail ne changera pas."), "success")
    return redirect(url_for("account.overview"))


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(ratelimits.PASSWORD_CHANGES, methods=["POST"], key_func=member_key)
def change_password():
    member = _me()
    form = PasswordForm()
    if request.method == "GET":
        return render_template("account/password.html", form=form, general=[])
    general: list[str] = []
    status = 422
    if form.validate_on_submit():
        end_others = bool(form.end_other_sessions.data)
        this_session = member.session_id
        outcome = submit(
            form,
            lambda: services.change_password(
                member,
                form.current_password.data,
                form.new_password.data,
                end_other_sessions=end_others,
                keep_session_id=this_session,
            ),
            {"password": "new_password"},
            refusals_on_form=True,
        )
        general, status = outcome.general, outcome.status
        if outcome.ok:
            # New credentials, new session id for this browser too (ASVS 7.2.4).
            sessions.log_in(member, remember=sessions.is_remembered(this_session))
            security_log.event(
                "password_changed", member=member.id, other_sessions_ended=outcome.result
            )
            emails.send_notice(member, "password")
            if end_others:
                message = _("Votre mot de passe est changé. Vos autres appareils sont déconnectés.")
            else:
                message = _("Votre mot de passe est changé.")
            flash(message, "success")
            return redirect(url_for("account.overview"))
        if form.current_password.errors:
            security_log.warning("reauth_failed", member=member.id)
    return render_template("account/password.html", form=form, general=general), status


@bp.route("/account/home", methods=["GET", "POST"])
@reauth_limit
def change_home():
    member = _me()
    form = HomeForm()
    candidates = None
    general: list[str] = []
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            outcome = submit(
                form,
                lambda: services.update_account(
                    member,
                    location=location_input(form),
                    current_password=form.current_password.data,
                ),
                refusals_on_form=True,
            )
            if outcome.ok:
                flash(_("Votre domicile est enregistré."), "success")
                return redirect(url_for("account.overview"))
            general, candidates, status = outcome.general, outcome.candidates, outcome.status
            _note_reauth(form)
        forget_bad_point(form)
    return (
        render_template(
            "account/home.html",
            form=form,
            candidates=candidates,
            general=general,
            changes_left=services.home_changes_left(member),
            # The member's own point, for their own map only.
            current=geo.from_element(member.home),
        ),
        status,
    )


def where_shown(level: int) -> str:
    """Where the member's neighbours see them, in words."""
    if level >= blur.QUARTIER_LEVEL:
        return _("Vos voisins savent seulement dans quel quartier vous habitez.")
    size = ("200 m", "450 m", "900 m")[level]
    return _("Vos voisins vous situent à environ %(size)s près.", size=size)


@bp.route("/account/position", methods=["GET", "POST"])
def position():
    """How precisely my neighbours see where I live: my floor, and where I am shown."""
    member = _me()
    form = PositionForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            outcome = submit(
                form, lambda: blur.set_floor(member, form.floor.data), refusals_on_form=True
            )
            if outcome.ok:
                flash(_("C'est noté.") + " " + where_shown(blur.shown_level(member)), "success")
                return redirect(url_for("account.overview"))
            status = outcome.status
    else:
        form.floor.data = blur.FLOOR_CHOICES[member.privacy_floor][1]
    level = blur.shown_level(member)
    return (
        render_template(
            "account/position.html",
            form=form,
            where=where_shown(level),
            # Shown more coarsely than the member's own choice: too few neighbours yet.
            coarser_than_chosen=level > member.privacy_floor,
        ),
        status,
    )


@bp.route("/account/avatar", methods=["GET", "POST"])
@accepts_photos
def avatar():
    """My face beside my name: a photo (cleaned of everything it hides), or my initials."""
    member = _me()
    form = AvatarForm()
    if request.method == "GET":
        return render_template("account/avatar.html", form=form, member=member, general=[])
    general: list[str] = []
    if form.validate_on_submit():
        upload = form.photo.data
        if not upload or not getattr(upload, "filename", ""):
            add_error(form.photo, _("Choisissez une photo."))
        else:
            try:
                data = processing.read_upload(upload.stream)
            except processing.PhotoRefused as refused:
                add_error(form.photo, str(refused.message))
            else:
                outcome = submit(form, lambda: photos.set_avatar(member, data))
                if outcome.ok:
                    flash(_("Votre photo est enregistrée : vos voisins la voient."), "success")
                    return redirect(url_for("account.overview"))
                general = outcome.general
    return (
        render_template("account/avatar.html", form=form, member=member, general=general),
        422,
    )


@bp.route("/account/avatar/remove", methods=["POST"])
def remove_avatar():
    """Back to my initials on a coloured disc; the photo is deleted."""
    member = _me()
    if member.avatar_key:
        photos.remove_avatar(member)
        database.commit()
        flash(_("Votre photo est retirée : vos initiales la remplacent."), "success")
    return redirect(url_for("account.avatar"))
