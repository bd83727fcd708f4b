"""The timeline's JSON API (``GET /api/v1/feed``): everything in my neighbourhood, mixed,
newest first, each entry in the shape of its own type.

The view parses (``@operation``), runs the one timeline query (``timeline.queries.timeline``) and
serialises; what the rows show beyond themselves (responses, loans, comments, members
going...) is counted once per page, so a longer page costs no more statements.
"""

from __future__ import annotations

from dataclasses import replace

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from peuplade.api import bp, parsing
from peuplade.api.openapi import operation
from peuplade.auth.bearer import current_member
from peuplade.exchanges import queries as exchange_queries
from peuplade.extensions import db
from peuplade.loans import queries as loan_queries
from peuplade.localtime import today
from peuplade.models import Exchange, Item, Member, Post
from peuplade.news.serializers import PageCounts, page_counts
from peuplade.pagination import TimeCursor, fetch_page
from peuplade.posts import queries as posts
from peuplade.timeline import schemas as ts
from peuplade.timeline import serializers
from peuplade.timeline.queries import timeline


def _counts(rows: list[Post], viewer: Member) -> PageCounts:
    """Everything a page shows beyond its rows, one query per kind of count."""
    exchanges = [p.id for p in rows if isinstance(p, Exchange)]
    lenders = sorted({p.author_id for p in rows if isinstance(p, Item)})
    responses = exchange_queries.responses_count(exchanges, viewer)
    times_lent = loan_queries.times_lent_by(lenders)
    # The news' and outings' own counts, as their pages count them.
    return replace(page_counts(rows, viewer), responses=responses, times_lent=times_lent)


@bp.get("/feed")
@operation(
    _l("Fil du voisinage : tout ce qui se passe autour de moi"),
    query=ts.FeedQuery,
    responses={200: ts.FeedPage},
    description=_l(
        "Demandes et offres, objets à emprunter, infos et sorties de mon voisinage (pas "
        "les miens), mêlés, les plus récents d'abord ; chaque élément a un `type` "
        "(`exchange`, `item`, `news`, `event`) et la forme de ce type. Filtre : `types`, "
        "liste séparée par des virgules."
    ),
)
def feed(query: ts.FeedQuery):
    me = current_member()
    errors: dict[str, object] = {}
    chosen = [t.strip() for t in (query.types or "").split(",") if t.strip()]
    unknown = [t for t in chosen if t not in ts.FEED_TYPES]
    if unknown:
        errors["types"] = _(
            "Type inconnu : %(names)s. Choisissez parmi exchange, item, news, event.",
            names=", ".join(unknown),
        )
    after = TimeCursor.decode(query.cursor)  # not ours: 400
    parsing.refuse(errors)
    page = fetch_page(
        db.session.scalars,
        lambda limit: timeline(me, chosen or None, after, limit=limit),
        query.limit,
        posts.cursor_after,
    )
    return serializers.feed_page(page.items, me, _counts(page.items, me), today(), page.next_cursor)
