"""The timeline's HTML page ("Fil du voisinage"): the home page of members
(``neighbours.index`` answers with :func:`timeline_page`) and ``/timeline``, whose
endpoint stays ``news.timeline`` (links, e-mails): it is added to the news blueprint."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from peuplade.extensions import db
from peuplade.models import Member, Post
from peuplade.news import queries as news_queries
from peuplade.news.routes import bp as news_bp
from peuplade.pagination import DEFAULT_LIMIT, cursor_or_restart, fetch_page
from peuplade.posts import queries as posts
from peuplade.posts.labels import where_shown
from peuplade.timeline import queries

PAGE_SIZE = DEFAULT_LIMIT


def _card(viewer: Member, post: Post) -> dict:
    return {"post": post, "type": post.type, "where": where_shown(viewer, post)}


def timeline_page():
    """The "Fil du voisinage": pinned alerts, then everything near me, newest first.
    A constant number of statements whatever the page size (see the tests)."""
    me = current_user._get_current_object()
    chosen = [t for t in request.args.getlist("type") if t in queries.TYPES]
    types = chosen or list(queries.TYPES)
    after, cursor_error = cursor_or_restart(request.args.get("cursor"))
    page = fetch_page(
        db.session.scalars,
        lambda limit: queries.timeline(me, types, after, limit=limit),
        PAGE_SIZE,
        posts.cursor_after,
    )
    alerts = news_queries.pinned_alerts(me) if after is None and "news" in types else []
    pinned = {a.id for a in alerts}
    return (
        render_template(
            "timeline/index.html",
            alerts=[_card(me, n) for n in alerts],
            cards=[_card(me, p) for p in page.items if p.id not in pinned],
            next_cursor=page.next_cursor,
            continued=after is not None,
            cursor_error=cursor_error,
            chosen=chosen,
            types=types,
            radius_m=me.radius_m,
        ),
        400 if cursor_error else 200,
    )


@news_bp.route("/timeline")
def timeline():
    return timeline_page()
