"""The timeline's query ("Fil du voisinage"): everything in my neighbourhood, mixed,
newest first, in ONE query over ``posts`` (its subtypes joined in the same statement)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, false, func, select, true, union_all
from sqlalchemy.orm import with_polymorphic

from peuplade.extensions import db
from peuplade.models import Event, Exchange, Item, Member, NewsPost, Photo, Post
from peuplade.news import queries as news
from peuplade.pagination import Page, Prepared, TimeCursor, page_of
from peuplade.posts import cards as cards_of
from peuplade.posts import queries as posts
from peuplade.posts.cards import CardAuthor

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
    return _walk(viewer, types, after, limit, load=EVERY_TYPE)


def _walk(viewer: Member, types, after, limit: int, **reading) -> Prepared:
    """The timeline's walk (``posts.newest_nearby``), its rows read as ``reading`` says:
    objects (``load=``) or plain rows (``rows=``)."""
    chosen = [t for t in (types or ()) if t in TYPES]
    if set(chosen) == TYPES.keys():
        # Every type is no filter: the walk without it (no IN on each cell's rows).
        chosen = []
    return posts.newest_nearby(
        viewer,
        Post,
        *((_not_mine, _of_types) if chosen else (_not_mine,)),
        limit=limit,
        after=after,
        with_quartier=True,
        params={"types": chosen} if chosen else None,
        **reading,
    )


# --- the HTML page's cards: plain rows, exactly what a card shows -------------------------


@dataclass(slots=True)
class Card:
    """A timeline card's post, read from one row (``cards``) rather than a polymorphic
    object with its author's whole row: the attributes the templates and ``Bands`` read
    of a post, under the same names. ``position`` is the post's PUBLIC position."""

    id: int
    type: str
    kind: str | None
    title: str
    created_at: datetime
    author_id: int
    quartier_id: int | None
    position: Any
    place_name: str | None
    on_behalf_of: str | None
    starts_at: datetime | None
    author: CardAuthor
    has_photo: bool
    photos: list[Photo] = field(default_factory=list)


_SUBTYPES = [model.__table__ for model in TYPES.values()]
_TITLE = func.coalesce(*(table.c.title for table in _SUBTYPES))
_KIND = func.coalesce(Exchange.__table__.c.kind, NewsPost.__table__.c.kind)


def _card_columns(found, limit) -> Any:
    """The final SELECT of the timeline's walk (``posts.newest_nearby(rows=...)``): each
    post of the page with its subtype's and its author's card columns, newest first, at
    most ``limit``."""
    posts_t, exchanges, events = Post.__table__, Exchange.__table__, Event.__table__
    return cards_of.card_rows(
        found,
        limit,
        _SUBTYPES,
        (
            posts_t.c.id,
            posts_t.c.type,
            _KIND.label("kind"),
            _TITLE.label("title"),
            posts_t.c.created_at,
            posts_t.c.quartier_id,
            posts_t.c.position,
            posts_t.c.place_name,
            exchanges.c.on_behalf_of,
            events.c.starts_at,
        ),
    )


def cards(
    viewer: Member,
    types: Iterable[str] | None = None,
    after: TimeCursor | None = None,
    *,
    limit: int = posts.LIST_MAX,
) -> Prepared:
    """The same posts as :func:`timeline`, as plain rows of a card's columns
    (:func:`as_cards` makes the cards)."""
    return _walk(viewer, types, after, limit, rows=_card_columns)


def alert_cards(viewer: Member) -> list[Card]:
    """The alerts pinned above the timeline (``news.pinned_alerts``), as cards, read
    alone (the page reads them with its first page: :func:`first_page`)."""
    prepared = news.recent_alerts(viewer, news.ALERTS_PINNED, rows=_card_columns)
    return as_cards(prepared.run(db.session.execute).all())


def first_page(
    viewer: Member, types: Iterable[str] | None = None, *, limit: int = posts.LIST_MAX
) -> Prepared:
    """The first page of :func:`cards` and the pinned alerts (:func:`alert_cards`) in
    one statement: the alerts' rows first, each row's ``pinned`` saying which it is
    (:func:`split_pinned`). One round trip and one execution instead of two on the
    page every member opens first."""
    page = cards(viewer, types, limit=limit)
    alerts = news.recent_alerts(viewer, news.ALERTS_PINNED, rows=_card_columns)
    shared = (page.params.keys() & alerts.params.keys()) - {"now"}
    differ = sorted(name for name in shared if page.params[name] != alerts.params[name])
    if differ:  # names only: the home's coordinates are among the values
        raise ValueError(f"the walk and the alerts disagree on {differ}")
    return Prepared(
        _with_pinned(page.statement, alerts.statement), {**alerts.params, **page.params}
    )


@lru_cache(maxsize=64)
def _with_pinned(page: Select, alerts: Select) -> Select:
    """Both statements (each kept for its shape, so this one is too) as one: each its
    own sub-query, with its own order and limit, the alerts first."""
    pinned = union_all(
        select(alerts.subquery("pinned_alerts"), true().label("pinned")),
        select(page.subquery("first_page"), false().label("pinned")),
    ).subquery("with_pinned")
    return select(pinned).order_by(
        pinned.c.pinned.desc(), pinned.c.created_at.desc(), pinned.c.id.desc()
    )


def split_pinned(rows: Sequence[Any], limit: int) -> tuple[list[Card], Page[Card]]:
    """``first_page``'s rows (asked with ``limit + 1`` for the page) as cards: the
    pinned alerts, and the page of at most ``limit`` with its next cursor
    (``pagination.page_of``); the row past the page only says there is more."""
    alerts = [row for row in rows if row.pinned]
    page = page_of([row for row in rows if not row.pinned], limit, posts.cursor_after)
    made = as_cards([*alerts, *page.items])  # their photos in one statement
    page.items = made[len(alerts) :]
    return made[: len(alerts)], page


def as_cards(rows: Sequence[Any]) -> list[Card]:
    """The cards of ``cards``' rows, with their photos (``posts.cards.from_rows``)."""
    return cards_of.from_rows(Card, rows)
