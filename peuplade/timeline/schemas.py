"""Pydantic models of the timeline's JSON endpoint (``GET /feed``, docs/api-contract.md,
"News, events, feed"): each entry has the shape of its own type, plus ``type``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Discriminator, Field, Tag

from peuplade.api import parsing
from peuplade.api.schemas import ForYouQuery
from peuplade.exchanges.schemas import ExchangeOut
from peuplade.loans.schemas import ItemOut
from peuplade.news.schemas import EventOut, NewsOut
from peuplade.validation import ANY_SPACE

FEED_TYPES = ("exchange", "item", "news", "event")
# Comma-separated types, each with spaces around it or none (empty items are skipped).
_TYPE = f"[{ANY_SPACE}]*(?:(?:{'|'.join(FEED_TYPES)})[{ANY_SPACE}]*)?"
TYPES_PATTERN = parsing.pattern_message(
    f"^{_TYPE}(?:,{_TYPE})*$",
    _l("Choisissez parmi exchange, item, news, event, séparés par des virgules."),
)


class FeedQuery(ForYouQuery):
    """GET /feed query string: ``types`` is a comma-separated subset of the four types."""

    types: (
        Annotated[
            str,
            Field(
                max_length=100,
                pattern=TYPES_PATTERN,
                description="comma-separated: exchange,item,news,event (all by default)",
                examples=["news,event"],
            ),
        ]
        | None
    ) = None


# --- responses -------------------------------------------------------------------------


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
