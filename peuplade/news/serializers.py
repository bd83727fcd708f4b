"""News, comments and outings -> JSON, through ``news/schemas.py``: at their PUBLIC
position (a cell centre, a public place), with a distance band; members by name only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peuplade.api.schemas import member_ref, position, quartier
from peuplade.events import queries as event_queries
from peuplade.models import Event, Member, NewsComment, NewsPost, Post, Quartier
from peuplade.news import queries as news_queries
from peuplade.news import schemas as ns
from peuplade.photos.urls import photos_json
from peuplade.posts.queries import distance_band


@dataclass
class PageCounts:
    """What a page of posts needs beyond its rows, each counted once for the whole page:
    responses per exchange, loans per lender, comments per news, quartiers by id, members
    going per event, and the viewer's own answers."""

    responses: dict[int, int] = field(default_factory=dict)
    times_lent: dict[int, int] = field(default_factory=dict)
    comments: dict[int, int] = field(default_factory=dict)
    quartiers: dict[int, Quartier] = field(default_factory=dict)
    going: dict[int, int] = field(default_factory=dict)
    answers: dict[int, bool] = field(default_factory=dict)


def page_counts(rows: list[Post], viewer: Member) -> PageCounts:
    """What the news and outings of a page show beyond their rows, one query per kind of
    count (none for a kind the page does not hold)."""
    news_rows = [p for p in rows if isinstance(p, NewsPost)]
    event_ids = [p.id for p in rows if isinstance(p, Event)]
    quartier_ids = sorted({n.quartier_id for n in news_rows if n.quartier_id is not None})
    return PageCounts(
        comments=news_queries.comments_count([n.id for n in news_rows], viewer),
        quartiers=news_queries.quartiers_by_id(quartier_ids),
        going=event_queries.going_shown_counts(event_ids, viewer),
        answers=event_queries.answers_of(viewer, event_ids),
    )


def news_out(item: NewsPost, viewer: Member, counts: PageCounts) -> ns.NewsOut:
    """A news at its PUBLIC position (the author's cell centre), with a band."""
    return ns.NewsOut(
        id=item.id,
        kind=item.kind,
        title=item.title,
        body=item.body,
        link=item.link,
        scope=item.scope,
        quartier=quartier(counts.quartiers.get(item.quartier_id))
        if item.quartier_id is not None
        else None,
        author=member_ref(item.author),
        position=position(item.position),
        distance_band=distance_band(viewer, item),
        created_at=item.created_at,
        comments_count=counts.comments.get(item.id, 0),
        photos=photos_json(item.photos),
    )


def news_detail(item: NewsPost, viewer: Member, counts: PageCounts) -> dict[str, Any]:
    return news_out(item, viewer, counts).model_dump(mode="json")


def news_page(
    items: list[NewsPost], viewer: Member, counts: PageCounts, next_cursor: str | None
) -> dict[str, Any]:
    return ns.NewsPage(
        items=[news_out(n, viewer, counts) for n in items], next_cursor=next_cursor
    ).model_dump(mode="json")


def _comment(note: NewsComment) -> ns.CommentOut:
    return ns.CommentOut(
        id=note.id,
        news_id=note.news_id,
        author=member_ref(note.author),
        body=note.body,
        created_at=note.created_at,
    )


def comment(note: NewsComment) -> dict[str, Any]:
    return _comment(note).model_dump(mode="json")


def comment_page(notes: list[NewsComment], next_cursor: str | None) -> dict[str, Any]:
    return ns.CommentPage(items=[_comment(c) for c in notes], next_cursor=next_cursor).model_dump(
        mode="json"
    )


def event_out(event: Event, viewer: Member, counts: PageCounts) -> ns.EventOut:
    """An outing at its public place, with a band; never anyone's home."""
    return ns.EventOut(
        id=event.id,
        title=event.title,
        body=event.body,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        place_name=event.place_name,
        position=position(event.position),
        distance_band=distance_band(viewer, event),
        reach_m=event.reach_m,
        capacity=event.capacity,
        going_count=counts.going.get(event.id, 0),
        my_answer=counts.answers.get(event.id),
        organiser=member_ref(event.author),
        created_at=event.created_at,
        photos=photos_json(event.photos),
    )


def event_detail(
    event: Event, viewer: Member, counts: PageCounts, going: list[Member]
) -> dict[str, Any]:
    """One event and who is going (display names only)."""
    return ns.EventDetailOut(
        **dict(event_out(event, viewer, counts)), going=[member_ref(m) for m in going]
    ).model_dump(mode="json")


def event_page(
    events: list[Event], viewer: Member, counts: PageCounts, next_cursor: str | None
) -> dict[str, Any]:
    return ns.EventPage(
        items=[event_out(e, viewer, counts) for e in events], next_cursor=next_cursor
    ).model_dump(mode="json")


def rsvp(going: bool, going_count: int, capacity: int | None) -> dict[str, Any]:
    return ns.RsvpOut(going=going, going_count=going_count, capacity=capacity).model_dump(
        mode="json"
    )
