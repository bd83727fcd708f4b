"""The lobby board page: options on screen, one printable sheet below them.

GET shows the sheet with the member's first name as the contact; the form is POSTed
(see forms.py: a phone number must never travel in an address) and answered with the
same page, the sheet carrying what the neighbour chose to give. Nothing is stored."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from peuplade.board import queries
from peuplade.board.forms import BoardForm
from peuplade.localtime import today
from peuplade.models import Member
from peuplade.notifications.links import external_url

bp = Blueprint("board", __name__)

# Tear-off strips along the bottom of the sheet (A4 portrait: about 23 mm each).
STRIPS = 8


def _me() -> Member:
    return current_user._get_current_object()


def short_address(public_url: str) -> str:
    """The site's address as people write it: "https://peuplade.example.org/" ->
    "peuplade.example.org" (a path the site lives under is kept: "example.org/peuplade")."""
    parts = urlsplit(public_url)
    return (parts.netloc + parts.path).rstrip("/")


def qr_code(url: str, label: str) -> Markup:
    """``url`` as a QR code, an SVG drawn here (no request leaves the server), labelled
    for screen readers; it scales with its box (no width or height of its own)."""
    # Nested: segno is loaded by the workers that print a lobby board, not by all.
    import segno

    svg = segno.make(url, error="m").svg_inline(
        scale=1, border=2, omitsize=True, svgclass="board__qr-code", title=label
    )
    # A labelled image for assistive technologies. Safe markup: segno's own SVG (it
    # escapes the <title>), the label escaped here.
    labelled = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return Markup(labelled)  # noqa: S704


@bp.route("/board", methods=["GET", "POST"])
def index():
    me = _me()
    form = BoardForm(radius_m=me.radius_m, name=me.display_name)
    status = 200
    if form.is_submitted() and not form.validate():
        status = 422  # the sheet below still shows, without what was refused
    # The choices are all below my radius (forms.AROUND_M); none chosen: my radius.
    around = me.radius_m
    if form.around.data and not form.around.errors:
        around = int(form.around.data)
    site = short_address(current_app.config["PUBLIC_URL"])
    signup_url = external_url("auth.register")
    return (
        render_template(
            "board/index.html",
            form=form,
            around=around,
            contact=form.contact(),
            strips=STRIPS,
            requests=queries.open_requests(me, around),
            events=queries.upcoming_events(me, around),
            site=site,
            qr=qr_code(signup_url, _("Code QR : inscription sur %(site)s", site=site)),
            printed_on=today(),
        ),
        status,
    )
