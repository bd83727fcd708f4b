"""The home page: a welcome for visitors, the timeline ("Fil du voisinage", from
peuplade.timeline) for members; the neighbours list lives at /neighbours. The ``radius``
template filter every page uses is registered here."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from peuplade import categories
from peuplade.access import public
from peuplade.errors import BadCursor, ValidationFailed
from peuplade.formats import radius_text
from peuplade.neighbours import queries
from peuplade.pagination import STALE_LINK, Page
from peuplade.timeline.routes import timeline_page

bp = Blueprint("neighbours", __name__)
bp.add_app_template_filter(radius_text, "radius")

# What the filter box keeps of a long entry: the query itself says if it is too long.
SKILL_MAX_LENGTH = 100


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
        problem = str(STALE_LINK)
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
    return timeline_page(kept_offline=True)


@bp.route("/neighbours")
def search():
    return _neighbours_page()
