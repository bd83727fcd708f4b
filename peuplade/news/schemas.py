"""Pydantic models of the news and events endpoints (docs/api-contract.md, "News,
events, feed"; the feed's own are in ``timeline/schemas.py``).

Request models hold to all that the document says (lengths and patterns of texts, links,
times, ranges); kinds and scopes are checked by ``news/services.py`` (one rule, one
message), and what no schema can state (a time to come, a quartier for ``scope``, a
place near home) is named in the operations' descriptions. Times are RFC 3339 texts
(``date-time``), read by the view.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StrictStr,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from peuplade.api import parsing
from peuplade.api.schemas import (
    Body,
    ForYouQuery,
    MemberRefOut,
    PhotoOut,
    PhotosOut,
    PositionOut,
    QuartierOut,
    Timestamp,
    integer,
    one_of,
    text,
)
from peuplade.events import services as events
from peuplade.models import NEWS_KINDS, NEWS_SCOPES
from peuplade.news import services as news
from peuplade.posts.schemas import PostLocation, Reach

# RFC 3339 (JSON Schema's date-time) as Python reads it: "T" and "Z" in capitals, no leap
# second; whether the day exists, the format says.
TIME_PATTERN = parsing.pattern_message(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$",
    _l(
        "Date et heure invalides : écrivez-les au format ISO 8601, secondes et fuseau "
        "compris, par exemple 2030-06-01T18:30:00+01:00."
    ),
)
TIME_FORMAT = {
    "type": "string",
    "format": "date-time",
    "maxLength": 64,
    "pattern": TIME_PATTERN,
    "description": "RFC 3339 with a UTC offset, e.g. 2030-06-01T18:30:00+02:00",
}

NewsKind = one_of(NEWS_KINDS, _l("Choisissez un type d'info de la liste."))
Scope = one_of(
    NEWS_SCOPES,
    _l("Choisissez : dans mon rayon, ou tout mon quartier."),
    description="radius: within my radius; quartier: my whole quartier",
)
NewsTitle = text(news.TITLE_MAX, 3)
NewsText = text(news.BODY_MAX, 1)
# An http(s) URI of RFC 3986 in ASCII (what JSON Schema's "uri" format accepts, with a
# host), or "" for no link.
_URI_CHAR = "A-Za-z0-9._~!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"
LINK_PATTERN = parsing.pattern_message(
    f"^[hH][tT][tT][pP][sS]?://(?:(?:[{_URI_CHAR}:-]|{_PCT})*@)?(?:[{_URI_CHAR}-]|{_PCT})+"
    f"(?::[0-9]*)?(?:/(?:[{_URI_CHAR}:@-]|{_PCT})*)*(?:\\?(?:[{_URI_CHAR}:@/?-]|{_PCT})*)?"
    f"(?:#(?:[{_URI_CHAR}:@/?-]|{_PCT})*)?$",
    _l(
        "Un lien commence par https:// (ou http://), sans espaces ni accents "
        "(encodés en %%XX), et fait %(n)s caractères au plus.",
        n=news.LINK_MAX,
    ),
)
_LINK_RE = re.compile(LINK_PATTERN)


def _link(value: str) -> str:
    if value and not (len(value) <= news.LINK_MAX and _LINK_RE.fullmatch(value)):
        raise PydanticCustomError("out_of_range", str(parsing.PATTERN_MESSAGES[LINK_PATTERN]))
    return value


Link = Annotated[
    StrictStr,
    AfterValidator(_link),
    WithJsonSchema(
        {
            "description": "http(s) only; empty: no link (on edit: remove it)",
            "anyOf": [
                {"type": "string", "const": ""},
                {
                    "type": "string",
                    "format": "uri",
                    "maxLength": news.LINK_MAX,
                    "pattern": LINK_PATTERN,
                },
            ],
        }
    ),
]
CommentText = text(news.COMMENT_MAX, 1)
EventTitle = text(events.TITLE_MAX, 3)
EventText = text(events.BODY_MAX, 1)


def _readable_time(value: str) -> str:
    """A time Python can place on the UTC line (not year 1 at +05:00, say)."""
    try:
        datetime.fromisoformat(value).astimezone(UTC)
    except (ValueError, OverflowError):
        raise PydanticCustomError(
            "out_of_range", str(_l("Choisissez une date dans l'année qui vient."))
        ) from None
    return value


Time = Annotated[
    StrictStr,
    Field(max_length=64, pattern=TIME_PATTERN),
    AfterValidator(_readable_time),
    WithJsonSchema(TIME_FORMAT),
]
Capacity = integer(ge=1, le=events.CAPACITY_MAX, description="places; omitted: no limit")
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
    """GET /news query string."""

    kind: one_of(NEWS_KINDS) | None = None


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
    photos: list[PhotoOut] = PhotosOut


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
    photos: list[PhotoOut] = PhotosOut


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
