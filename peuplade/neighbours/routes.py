"""The home page: a welcome for visitors, the timeline ("Fil du voisinage") for members;
the neighbours list lives at /neighbours."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from peuplade import categories
from peuplade.access import public
from peuplade.errors import BadCursor, ValidationFailed
from peuplade.neighbours import bp, queries
from peuplade.news.routes import timeline_page
from peuplade.pagination import Page

# What the filter box keeps of a long entry: the query itself says if it is too long.
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
    cursor = request.args.get("cursor")
    problem = None
    try:
        page = queries.neighbour_page(member, skill, cursor)
    except BadCursor:
        status = 400
        problem = _("Ce lien « Voir plus » n'est plus valable. Voici la liste depuis le début.")
        cursor = None
        page = queries.neighbour_page(member, skill, None)
    except ValidationFailed as exc:
        status = 400
        problem = str(exc.fields.get("skill", exc.message))
        page = Page([], None)
    people = [{"member": m, "band": band} for m, band in page.items]
    return (
        render_template(
            "neighbours/list.html",
            people=people,
            skill=skill,
            selected=selected,
            tag=tag,
            next_cursor=page.next_cursor,
            continued=cursor is not None,
            cursor_error=problem,
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
    return timeline_page()


@bp.route("/neighbours")
def search():
    return _neighbours_page()
