"""The home timeline ("Fil du voisinage"): everything in my neighbourhood, mixed, newest
first, in ONE query over ``posts`` (its subtypes joined in the same statement)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import with_polymorphic

from peuplade.models import Event, Exchange, Item, Member, NewsPost, Post
from peuplade.pagination import TimeCursor
from peuplade.posts import queries as posts

TYPES = {"exchange": Exchange, "item": Item, "news": NewsPost, "event": Event}


def timeline(
    viewer: Member, types: Iterable[str] | None = None, after: TimeCursor | None = None
) -> Select:
    """Open posts that reach me (by distance, or addressed to my quartier), of the given
    types (all by default), newest first; rows are instances of their own subtype."""
    every = with_polymorphic(Post, list(TYPES.values()))
    stmt = select(every).where(
        posts.in_neighbourhood_or_quartier(viewer, every),
        posts.listed(every),
        # My own posts are in "mine" lists; the timeline shows what others share.
        every.author_id != viewer.id,
    )
    chosen = [t for t in (types or ()) if t in TYPES]
    if chosen:
        stmt = stmt.where(every.type.in_(chosen))
    return posts.newest_first(stmt, after)
