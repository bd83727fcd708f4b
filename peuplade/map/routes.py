"""The map page. Markers go into the page as JSON (read by static/js/map.js, never
executed); the same posts are listed in HTML, which is the page's primary content.
Only public positions leave the server, except the viewer's own home, shown to them
alone as the centre of their radius circle."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from peuplade import geo
from peuplade.map import queries
from peuplade.models import Member, Post
from peuplade.posts.labels import NEWS_KIND_LABELS, where_shown
from peuplade.timeline.queries import TYPES

bp = Blueprint("map", __name__)

# Six decimals (~10 cm) is more than the grid needs, and what Leaflet shows anyway.
DECIMALS = 6


def _me() -> Member:
    return current_user._get_current_object()


def _type_label(post: Post) -> str:
    if post.type == "exchange":
        return _("Échange : demande") if post.kind == "request" else _("Échange : offre")
    if post.type == "item":
        return _("Objet à prêter")
    if post.type == "news":
        kind = str(NEWS_KIND_LABELS.get(post.kind, post.kind))
        return kind if post.kind == "info" else _("Info : %(kind)s", kind=kind)
    return _("Sortie")


def _url(post: Post) -> str:
    if post.type == "exchange":
        return url_for("exchanges.show", exchange_id=post.id)
    if post.type == "item":
        return url_for("loans.show", item_id=post.id)
    if post.type == "news":
        return url_for("news.show", news_id=post.id)
    return url_for("events.show", event_id=post.id)


def _entry(viewer: Member, post: Post) -> dict | None:
    """One marker and list row; None for a post without a position (none should be)."""
    where = geo.from_element(post.position)  # PUBLIC: a cell centre or a public place
    if where is None:
        return None
    type_label = _type_label(post)
    return {
        "id": post.id,
        "type": post.type,
        "type_label": type_label,
        "title": post.title,
        # TRANSLATORS: a map marker's name for screen readers: the type, then the title.
        "label": _("%(type)s : %(title)s", type=type_label, title=post.title),
        "url": _url(post),
        # "tout le quartier" or the band (the map, like the timeline, omits my own posts).
        "band": str(where_shown(viewer, post) or ""),
        "lat": round(where.lat, DECIMALS),
        "lon": round(where.lon, DECIMALS),
    }


@bp.route("/map")
def index():
    me = _me()
    chosen = [t for t in request.args.getlist("type") if t in TYPES]
    types = chosen or list(TYPES)
    found = queries.near_me(me, types)
    entries = [e for e in (_entry(me, p) for p in found) if e is not None]
    home = geo.from_element(me.home)  # the viewer's own home, for the viewer only
    data = {
        "home": {"lat": round(home.lat, DECIMALS), "lon": round(home.lon, DECIMALS)},
        "radius_m": me.radius_m,
        "types": types,
        "markers": entries,
    }
    return render_template(
        "map/index.html",
        entries=entries,
        # For the list's thumbnails (its photos loaded with the posts, in one query).
        posts_by_id={p.id: p for p in found},
        data=data,
        chosen=chosen,
        truncated=len(found) >= queries.LIMIT,
        limit=queries.LIMIT,
        radius_m=me.radius_m,
        tile_url=current_app.config["MAP_TILE_URL"],
        tile_attribution=current_app.config["MAP_TILE_ATTRIBUTION"],
    )
