"""The member's own account (profile, password, home) and other members' public profiles."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from peuplade import categories, geo, ratelimits
from peuplade.account import bp, queries, services
from peuplade.account.forms import HomeForm, PasswordForm, ProfileForm
from peuplade.auth.forms import forget_bad_point, location_input, submit
from peuplade.extensions import limiter

bp.add_app_template_filter(categories.label, "skill_label")


def _me():
    return current_user._get_current_object()


@bp.route("/account")
def overview():
    member = _me()
    return render_template(
        "account/overview.html",
        member=member,
        home_changes_left=services.home_changes_left(member),
    )


@bp.route("/profile/<int(max=2147483647):member_id>")
def profile(member_id: int):
    member = queries.get_member_or_404(_me(), member_id)
    return render_template("account/profile.html", member=member)


@bp.route("/account/profile", methods=["GET", "POST"])
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
            }
        )
        return render_template("account/edit_profile.html", form=form, general=[])
    form = ProfileForm()
    general: list[str] = []
    if form.validate_on_submit():
        outcome = submit(
            form,
            lambda: services.update_profile(
                member,
                display_name=form.display_name.data,
                bio=form.bio.data or "",
                skills=form.skills.data or [],
                tags=form.tags.data or "",
                radius_m=form.radius_m.data,
            ),
        )
        if outcome.ok:
            flash(_("Votre profil est enregistré."), "success")
            return redirect(url_for("account.overview"))
        general = outcome.general
    return render_template("account/edit_profile.html", form=form, general=general), 422


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(ratelimits.PASSWORD_CHANGES, methods=["POST"], key_func=ratelimits.member_key)
def change_password():
    member = _me()
    form = PasswordForm()
    if request.method == "GET":
        return render_template("account/password.html", form=form, general=[])
    general: list[str] = []
    if form.validate_on_submit():
        outcome = submit(
            form,
            lambda: services.change_password(
                member, form.current_password.data, form.new_password.data
            ),
            {"password": "new_password"},
        )
        general = outcome.general
        if outcome.ok:
            # The session version changed: this session logs in again, the others end.
            login_user(member)
            flash(
                _("Votre mot de passe est changé. Vos autres appareils sont déconnectés."),
                "success",
            )
            return redirect(url_for("account.overview"))
    return render_template("account/password.html", form=form, general=general), 422


@bp.route("/account/home", methods=["GET", "POST"])
def change_home():
    member = _me()
    form = HomeForm()
    candidates = None
    general: list[str] = []
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            outcome = submit(form, lambda: services.change_home(member, location_input(form)))
            if outcome.ok:
                flash(_("Votre domicile est enregistré."), "success")
                return redirect(url_for("account.overview"))
            general, candidates = outcome.general, outcome.candidates
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
