"""GDPR pages: "Télécharger mes données", "Supprimer mon compte" and ``/privacy``."""

from __future__ import annotations

import tempfile

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from peuplade import ratelimits
from peuplade.access import public
from peuplade.auth import sessions
from peuplade.extensions import limiter
from peuplade.forms import submit
from peuplade.gdpr import policy, services
from peuplade.gdpr.forms import DeleteAccountForm

bp = Blueprint("gdpr", __name__)


def _me():
    return current_user._get_current_object()


# An archive bigger than this goes to a temporary file rather than memory.
ARCHIVE_IN_MEMORY = 8 * 1024 * 1024


@bp.get("/account/export")
def export():
    """The member's data as a ZIP file: the JSON export and their photos (a GET: it
    changes nothing)."""
    # Closed by send_file once the response is sent.
    archive = tempfile.SpooledTemporaryFile(max_size=ARCHIVE_IN_MEMORY)  # noqa: SIM115
    services.write_archive(_me(), archive)
    archive.seek(0)
    response = send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=services.ARCHIVE_FILENAME,
        etag=False,
        conditional=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/delete", methods=["GET", "POST"])
@limiter.limit(ratelimits.PASSWORD_CHANGES, methods=["POST"], key_func=ratelimits.member_key)
def delete_account():
    member = _me()
    form = DeleteAccountForm()
    general: list[str] = []
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            outcome = submit(
                form,
                lambda: services.delete_account(member, form.password.data),
                refusals_on_form=True,
            )
            if outcome.ok:
                sessions.log_out()  # keeps only the language chosen on this browser
                flash(
                    _("Votre compte est supprimé. Merci d'avoir fait partie du voisinage."),
                    "success",
                )
                return redirect(url_for("neighbours.index"))
            general, status = outcome.general, outcome.status
            if not form.password.errors:  # the refusal is about loans, not the form
                status = 409
    return (
        render_template(
            "gdpr/delete.html",
            form=form,
            general=general,
            in_progress=services.loans_in_progress(member),
        ),
        status,
    )


@bp.get("/privacy")
@public
def privacy():
    return render_template(
        "gdpr/privacy.html",
        groups=policy.grouped(),
        bases=policy.BASES,
        seen_by=policy.SEEN_BY,
    )
