"""Cards read from plain rows: what a list's card shows of a post, its author and its
photos, without loading polymorphic objects with their authors' whole rows.

A list's walk (``posts.queries.newest_nearby(rows=...)``) gives its page's ``(id,
created_at)`` sub-query; ``card_rows`` makes the final SELECT of exactly the card's
columns from it, and each list turns its rows into its own card dataclass
(``timeline.queries.Card``, ``exchanges.queries.ExchangeCard``,
``loans.queries.ItemCard``), whose attributes have the names the templates read on a
post.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, select

from peuplade.extensions import db
from peuplade.models import Member, Photo, Post


@dataclass(frozen=True, slots=True)
class CardAuthor:
    """What a card shows of its author: the name and the face (``avatar`` macro)."""

    id: int
    display_name: str
    avatar_key: str | None


class WithPhotos(Protocol):
    id: int
    has_photo: bool
    photos: list[Photo]


C = TypeVar("C", bound=WithPhotos)


def has_photo(post_id: Any) -> Any:
    """SQL: whether the post has a photo (EXISTS stops at the first row; no LIMIT: a
    bound LIMIT makes SQLite prepare the statement again at each run,
    ``posts.queries.page_limit``)."""
    return select(Photo.id).where(Photo.post_id == post_id).exists().label("has_photo")


def card_rows(found: Any, limit: Any, subtypes: Iterable[Any], columns: Iterable[Any]) -> Select:
    """The final SELECT of a walk read as cards: each post of ``found`` (the page's
    ``(id, created_at)``, newest first) joined to its row, its author, and the
    ``subtypes`` tables (outer joins: a mixed list has one per type), with ``columns``
    then the author's ``author_id``, ``display_name``, ``avatar_key`` and ``has_photo``,
    newest first, at most ``limit``."""
    posts_t, members = Post.__table__, Member.__table__
    joined = found.join(posts_t, posts_t.c.id == found.c.id).join(
        members, members.c.id == posts_t.c.author_id
    )
    for table in subtypes:
        joined = joined.outerjoin(table, table.c.id == posts_t.c.id)
    return (
        select(
            *columns,
            posts_t.c.author_id,
            members.c.display_name,
            members.c.avatar_key,
            has_photo(posts_t.c.id),
        )
        .select_from(joined)
        .order_by(found.c.created_at.desc(), found.c.id.desc())
        .limit(limit)
    )


def author_of(row: Any) -> CardAuthor:
    """The card's author, from a ``card_rows`` row."""
    return CardAuthor(row.author_id, row.display_name, row.avatar_key)


@cache
def _read_by_name(card_class: type) -> tuple[str, ...]:
    # A card's fields up to ``author`` are its row's columns of the same names; then
    # come the author, has_photo and photos.
    names = [f.name for f in fields(card_class)]
    if names[-3:] != ["author", "has_photo", "photos"]:
        raise TypeError(f"{card_class.__name__} must end with author, has_photo, photos")
    return tuple(names[:-3])


def from_rows(card_class: type[C], rows: Iterable[Any]) -> list[C]:
    """The cards of ``card_rows``' rows, each field read from the row's column of the
    same name, with their photos (``with_photos``)."""
    names = _read_by_name(card_class)
    return list(
        with_photos(
            [
                card_class(
                    *[getattr(row, name) for name in names], author_of(row), bool(row.has_photo)
                )
                for row in rows
            ]
        )
    )


def with_photos(cards: Sequence[C]) -> Sequence[C]:
    """The cards with their photos, in order (the first is the card's thumbnail): one
    statement, only when a card of the page has one."""
    wanted = [card.id for card in cards if card.has_photo]
    if wanted:
        photos: dict[int, list[Photo]] = defaultdict(list)
        for photo in db.session.scalars(
            select(Photo)
            .where(Photo.post_id.in_(wanted))
            .order_by(Photo.post_id, Photo.position, Photo.id)
        ):
            photos[photo.post_id].append(photo)
        for card in cards:
            card.photos = photos.get(card.id, [])
    return cards
