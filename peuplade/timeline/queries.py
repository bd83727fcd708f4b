"""The timeline's query ("Fil du voisinage"): everything in my neighbourhood, mixed,
newest first, in ONE query over ``posts`` (its subtypes joined in the same statement)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam
from sqlalchemy.orm import with_polymorphic

from peuplade.models import Event, Exchange, Item, Member, NewsPost, Post
from peuplade.pagination import Prepared, TimeCursor
from peuplade.posts import queries as posts

TYPES = {"exchange": Exchange, "item": Item, "news": NewsPost, "event": Event}
# Built once: making a polymorphic selectable is a good part of building the statement.
EVERY_TYPE = with_polymorphic(Post, list(TYPES.values()))


# The walk's conditions (posts.newest_nearby: SQL made once, values as parameters).
def _not_mine():
    # My own posts are in "mine" lists; the timeline shows what others share.
    return Post.author_id != posts.viewer_id()


def _of_types():
    return Post.type.in_(bindparam("types", expanding=True))


def timeline(
    viewer: Member,
    types: Iterable[str] | None = None,
    after: TimeCursor | None = None,
    *,
    limit: int = posts.LIST_MAX,
) -> Prepared:
    """At most ``limit`` open posts that reach me (by distance, or addressed to my
    quartier), of the given types (all by default), newest first; rows are instances of
    their own subtype."""
    chosen = [t for t in (types or ()) if t in TYPES]
    return posts.newest_nearby(
        viewer,
        Post,
        *((_not_mine, _of_types) if chosen else (_not_mine,)),
        limit=limit,
        after=after,
        with_quartier=True,
        load=EVERY_TYPE,
        params={"types": chosen} if chosen else None,
    )
