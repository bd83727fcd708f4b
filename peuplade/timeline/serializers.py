"""Timeline rows -> JSON, through ``timeline/schemas.py``: each post in the shape of its
own type (its feature's serializer), plus ``type``."""

from __future__ import annotations

from datetime import date
from typing import Any

from peuplade.exchanges import serializers as exchanges
from peuplade.loans import serializers as loans
from peuplade.models import Event, Exchange, Item, Member, NewsPost, Post
from peuplade.news import serializers as news
from peuplade.timeline import schemas as ts


def _feed_entry(post: Post, viewer: Member, counts: news.PageCounts, today: date):
    """A timeline row in the shape of its own type, plus ``type``."""
    if isinstance(post, Exchange):
        summary = exchanges.exchange_summary(post, viewer, counts.responses.get(post.id, 0))
        return ts.FeedExchangeOut(**dict(summary))
    if isinstance(post, Item):
        shown = loans.item_out(post, viewer, counts.times_lent.get(post.author_id, 0), None, today)
        return ts.FeedItemOut(**dict(shown))
    if isinstance(post, NewsPost):
        return news.news_out(post, viewer, counts)
    if isinstance(post, Event):
        return news.event_out(post, viewer, counts)
    raise TypeError(f"no feed shape for {type(post).__name__}")


def feed_page(
    posts: list[Post], viewer: Member, counts: news.PageCounts, today: date, next_cursor: str | None
) -> dict[str, Any]:
    return ts.FeedPage(
        items=[_feed_entry(p, viewer, counts, today) for p in posts], next_cursor=next_cursor
    ).model_dump(mode="json")
