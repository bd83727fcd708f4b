"""The lobby board page: options on screen, one printable sheet below them."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from peuplade.board import queries
from peuplade.board.forms import BoardForm
from peuplade.localtime import today
from peuplade.models import Member
from peuplade.validation import clean_text

bp = Blueprint("board", __name__)


def _me() -> Member:
    return current_user._get_current_object()


@bp.route("/board")
def index():
    me = _me()
    form = BoardForm(formdata=request.args or None, radius_m=me.radius_m)
    status = 200
    if request.args and not form.validate():
        status = 422  # the sheet below still shows, with the defaults
    # The choices are all below my radius (forms.AROUND_M); none chosen: my radius.
    around = me.radius_m
    if form.around.data and not form.around.errors:
        around = int(form.around.data)
    contact = "" if form.contact.errors else " ".join(clean_text(form.contact.data).split())
    return (
        render_template(
            "board/index.html",
            form=form,
            around=around,
            contact=contact,
            requests=queries.open_requests(me, around),
            events=queries.upcoming_events(me, around),
            site=current_app.config["PUBLIC_URL"].rstrip("/"),
            printed_on=today(),
        ),
        status,
    )
