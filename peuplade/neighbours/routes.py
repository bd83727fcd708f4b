"""The home page: a welcome for visitors, the neighbours list for members."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from peuplade import categories, public
from peuplade.errors import ValidationFailed
from peuplade.extensions import db
from peuplade.neighbours import bp, queries
from peuplade.privacy import band_label_for_rank

SKILL_MAX_LENGTH = 100


@bp.app_template_filter("radius")
def radius_text(metres: int) -> str:
    """1000 -> "1 km", 1500 -> "1,5 km", 800 -> "800 m" (in the page's language)."""
    if metres < 1000:
        return f"{metres} m"
    return f"{format_decimal(round(metres / 1000, 1))} km"


def _chosen_skill() -> tuple[str, str, str]:
    """(effective filter, selected category, free tag): a typed tag wins over the list."""
    tag = (request.args.get("tag") or "").strip()[:SKILL_MAX_LENGTH]
    skill = (request.args.get("skill") or "").strip()[:SKILL_MAX_LENGTH]
    effective = tag or skill
    if effective in categories.SLUGS:
        return effective, effective, ""
    return effective, "", effective


def _neighbours_page(status: int = 200):
    member = current_user._get_current_object()
    skill, selected, tag = _chosen_skill()
    after = None
    cursor_error = None
    raw_cursor = request.args.get("cursor")
    if raw_cursor:
        try:
            after = queries.NeighbourCursor.decode(raw_cursor)
        except ValidationFailed:
            cursor_error = _(
                "Ce lien « Voir plus » n'est plus valable. Voici la liste depuis le début."
            )
            status = 400
    stmt = queries.neighbours(member, skill or None, after).limit(queries.PAGE_SIZE + 1)
    rows = db.session.execute(stmt).all()
    next_cursor = None
    if len(rows) > queries.PAGE_SIZE:
        rows = rows[: queries.PAGE_SIZE]
        next_cursor = queries.cursor_for(rows[-1]).encode()
    people = [{"member": row[0], "band": band_label_for_rank(int(row.band_rank))} for row in rows]
    return (
        render_template(
            "neighbours/list.html",
            people=people,
            skill=skill,
            selected=selected,
            tag=tag,
            next_cursor=next_cursor,
            continued=after is not None,
            cursor_error=cursor_error,
            skill_choices=categories.choices(),
            radius_m=member.radius_m,
        ),
        status,
    )


@bp.route("/")
@public
def index():
    if not current_user.is_authenticated:
        return render_template("neighbours/welcome.html")
    return _neighbours_page()


@bp.route("/neighbours")
def search():
    return _neighbours_page()
