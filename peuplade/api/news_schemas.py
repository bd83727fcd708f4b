"""Pydantic models of the news, events and feed endpoints (docs/api-contract.md, "News,
events, feed").

Request models check types and shapes only. Kinds, scopes, lengths, links, times,
places and capacities are judged by ``news/services.py`` and ``events/services.py``,
shared with the HTML pages: the limits below are documented here and enforced there
(one rule, one message). Times are ISO 8601 texts parsed by the view, which names the
field and asks for the offset when it is missing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, StrictBool, StrictInt, StrictStr, Tag

from peuplade.api.exchange_schemas import (
    ExchangeOut,
    ForYouQuery,
    MemberRefOut,
    PostLocation,
    Reach,
)
from peuplade.api.loan_schemas import ItemOut
from peuplade.api.schemas import NO_CONTROL_CHARACTERS, Body, PositionOut, QuartierOut, Timestamp
from peuplade.events import services as events
from peuplade.models import NEWS_KINDS, NEWS_SCOPES
from peuplade.news import services as news

FEED_TYPES = ("exchange", "item", "news", "event")
TIME_FORMAT = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 with a UTC offset, e.g. 2030-06-01T18:30:00+02:00",
}

NewsKind = Annotated[StrictStr, Field(json_schema_extra={"enum": list(NEWS_KINDS)})]
Scope = Annotated[
    StrictStr,
    Field(
        description="radius: within my radius; quartier: my whole quartier",
        json_schema_extra={"enum": list(NEWS_SCOPES)},
    ),
]
NewsTitle = Annotated[
    StrictStr, Field(json_schema_extra={"minLength": 3, "maxLength": news.TITLE_MAX})
]
NewsText = Annotated[
    StrictStr, Field(json_schema_extra={"minLength": 1, "maxLength": news.BODY_MAX})
]
Link = Annotated[
    StrictStr,
    Field(
        description="http(s) only; empty: no link",
        json_schema_extra={"format": "uri", "maxLength": news.LINK_MAX},
    ),
]
CommentText = Annotated[
    StrictStr, Field(json_schema_extra={"minLength": 1, "maxLength": news.COMMENT_MAX})
]
EventTitle = Annotated[
    StrictStr, Field(json_schema_extra={"minLength": 3, "maxLength": events.TITLE_MAX})
]
EventText = Annotated[
    StrictStr, Field(json_schema_extra={"minLength": 1, "maxLength": events.BODY_MAX})
]
Time = Annotated[StrictStr, Field(max_length=64, json_schema_extra=TIME_FORMAT)]
Capacity = Annotated[
    StrictInt,
    Field(
        description="places; omitted: no limit",
        json_schema_extra={"minimum": 1, "maximum": events.CAPACITY_MAX},
    ),
]
PlaceLabel = Annotated[
    StrictStr,
    Field(
        max_length=160,
        description="ignored: the place's name comes from `location` (a public place)",
    ),
]


# --- requests --------------------------------------------------------------------------


class NewsBody(Body):
    """POST /news. ``kind`` defaults to ``info``, ``scope`` to ``radius``."""

    title: NewsTitle
    body: NewsText
    kind: NewsKind | None = None
    link: Link | None = None
    scope: Scope | None = None


class NewsPatch(Body):
    """PATCH /news/{id}: any of the creation fields; absent ones stay as they are."""

    title: NewsTitle | None = None
    body: NewsText | None = None
    kind: NewsKind | None = None
    link: Link | None = None
    scope: Scope | None = None


class CommentBody(Body):
    """POST /news/{id}/comments."""

    body: CommentText


class EventBody(Body):
    """POST /events. ``location``: a public place ``{place_id}``, a point ``{lat, lon}``
    or ``{address}``; ``reach_m`` defaults to the organiser's radius."""

    title: EventTitle
    body: EventText
    starts_at: Time
    ends_at: Time | None = None
    location: PostLocation
    place: PlaceLabel | None = None
    capacity: Capacity | None = None
    reach_m: Reach | None = None


class EventPatch(Body):
    """PATCH /events/{id}: any of the creation fields; absent ones stay as they are."""

    title: EventTitle | None = None
    body: EventText | None = None
    starts_at: Time | None = None
    ends_at: Time | None = None
    location: PostLocation | None = None
    place: PlaceLabel | None = None
    capacity: Capacity | None = None
    reach_m: Reach | None = None


class RsvpBody(Body):
    """POST /events/{id}/rsvp."""

    going: StrictBool


class NewsQuery(ForYouQuery):
    """GET /news query string (unknown kinds are refused by the view)."""

    kind: Annotated[str, Field(json_schema_extra={"enum": list(NEWS_KINDS)})] | None = None


class FeedQuery(ForYouQuery):
    """GET /feed query string: ``types`` is a comma-separated subset of the four types."""

    types: (
        Annotated[
            str,
            Field(
                max_length=100,
                pattern=NO_CONTROL_CHARACTERS,
                description="comma-separated: exchange,item,news,event (all by default)",
                examples=["news,event"],
            ),
        ]
        | None
    ) = None


# --- responses -------------------------------------------------------------------------


class NewsOut(BaseModel):
    """A news. ``position`` is its PUBLIC position (the author's grid cell centre), never a
    home; ``quartier`` is set when it is addressed to a whole quartier."""

    id: int
    type: Literal["news"] = "news"
    kind: str = Field(json_schema_extra={"enum": list(NEWS_KINDS)})
    title: str
    body: str
    link: str | None
    scope: str = Field(json_schema_extra={"enum": list(NEWS_SCOPES)})
    quartier: QuartierOut | None
    author: MemberRefOut
    position: PositionOut
    distance_band: str | None = Field(examples=["~500 m"])
    created_at: Timestamp
    comments_count: int


class NewsPage(BaseModel):
    items: list[NewsOut]
    next_cursor: str | None


class CommentOut(BaseModel):
    id: int
    news_id: int
    author: MemberRefOut
    body: str
    created_at: Timestamp


class CommentPage(BaseModel):
    """Oldest first, like a conversation."""

    items: list[CommentOut]
    next_cursor: str | None


class EventOut(BaseModel):
    """An outing at a public place. ``my_answer``: true (going), false (not going) or null
    (no answer yet). ``capacity`` null: no limit."""

    id: int
    type: Literal["event"] = "event"
    title: str
    body: str
    starts_at: Timestamp
    ends_at: Timestamp | None
    place_name: str | None
    position: PositionOut
    distance_band: str | None = Field(examples=["~500 m"])
    reach_m: int
    capacity: int | None
    going_count: int
    my_answer: bool | None
    organiser: MemberRefOut
    created_at: Timestamp


class EventDetailOut(EventOut):
    """One event, with who is going (display names only)."""

    going: list[MemberRefOut]


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


class RsvpOut(BaseModel):
    going: bool
    going_count: int
    capacity: int | None


class FeedExchangeOut(ExchangeOut):
    type: Literal["exchange"] = "exchange"


class FeedItemOut(ItemOut):
    type: Literal["item"] = "item"


def _feed_type(value: Any) -> str | None:
    return value.get("type") if isinstance(value, dict) else getattr(value, "type", None)


FeedEntry = Annotated[
    Annotated[FeedExchangeOut, Tag("exchange")]
    | Annotated[FeedItemOut, Tag("item")]
    | Annotated[NewsOut, Tag("news")]
    | Annotated[EventOut, Tag("event")],
    Discriminator(_feed_type),
]


class FeedPage(BaseModel):
    """Everything in my neighbourhood, newest first; each entry has the shape of its
    ``type``."""

    items: list[FeedEntry]
    next_cursor: str | None
