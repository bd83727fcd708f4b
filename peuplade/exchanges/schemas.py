"""Pydantic models of the exchange endpoints (docs/api-contract.md, "Exchanges").

As in ``api/schemas.py``, request models hold to all that the document says (lengths and
patterns of texts, ranges, formats); kinds and categories are checked by
``exchanges/services.py`` (one rule, one message), and what no schema can state (dates
to come, a place near home, consent) is named in the operations' descriptions.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import (
    BaseModel,
    Field,
    StrictBool,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from peuplade import categories
from peuplade.api.schemas import (
    DAY_FORMAT,
    NO_CONTROL_CHARACTERS,
    Body,
    Category,
    Day,
    DayOut,
    ForYouQuery,
    Id,
    MemberRefOut,
    PhotoOut,
    PhotosOut,
    PositionOut,
    Timestamp,
    one_of,
    text,
    text_pattern,
)
from peuplade.exchanges.services import BEHALF_MAX, BODY_MAX, MESSAGE_MAX, THANKS_MAX, TITLE_MAX
from peuplade.models import EXCHANGE_KINDS, OUTCOMES, POST_STATUSES
from peuplade.posts.schemas import PostLocation, Reach
from peuplade.search import MAX_QUERY_LENGTH

Kind = one_of(EXCHANGE_KINDS, _l("Choisissez « request » (demande) ou « offer » (offre)."))
Title = text(TITLE_MAX, 3)
Description = text(BODY_MAX, 1)


BehalfName = text(
    BEHALF_MAX,
    2,
    blank=True,
    description=(
        "the name of a neighbour without internet this exchange is posted for "
        "(answers reach the author, who passes them on); needs behalf_consent; "
        "empty: the author's own"
    ),
)
BehalfConsent = Annotated[
    StrictBool,
    Field(description="true: the author confirms that this neighbour agreed to be named"),
]


class ExchangeBody(Body):
    """POST /exchanges. ``location`` omitted: the author's public (blurred) position;
    ``reach_m`` omitted: the author's radius."""

    kind: Kind
    title: Title
    body: Description
    category: Category
    starts_on: Day | None = None
    ends_on: Day | None = None
    location: PostLocation | None = None
    reach_m: Reach | None = None
    on_behalf_of: BehalfName | None = None
    behalf_consent: BehalfConsent = False


# Explicit null on these clears them; on any other field it is refused.
ClearableDay = Annotated[Day | None, WithJsonSchema({**DAY_FORMAT, "type": ["string", "null"]})]
ClearableBehalf = Annotated[
    BehalfName | None,
    WithJsonSchema(
        {
            "type": ["string", "null"],
            "maxLength": BEHALF_MAX,
            "pattern": text_pattern(2, blank=True),
        }
    ),
]
CLEARABLE = frozenset({"starts_on", "ends_on", "on_behalf_of"})


class ExchangePatch(Body):
    """PATCH /exchanges/{id}: any of the creation fields; absent ones stay as they are,
    ``null`` clears a date."""

    kind: Kind | None = None
    title: Title | None = None
    body: Description | None = None
    category: Category | None = None
    starts_on: ClearableDay = None
    ends_on: ClearableDay = None
    location: PostLocation | None = None
    reach_m: Reach | None = None
    on_behalf_of: ClearableBehalf = None
    behalf_consent: BehalfConsent | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in CLEARABLE:
            raise ValueError("null")
        return value


class ResponseBody(Body):
    """POST /exchanges/{id}/responses."""

    message: text(MESSAGE_MAX, 1)


class CloseBody(Body):
    """POST /exchanges/{id}/close. ``helper_id``: one of the members who answered."""

    outcome: one_of(OUTCOMES, _l("Choisissez « done » (fait) ou « cancelled » (annulé)."))
    helper_id: Id | None = None


class ThanksBody(Body):
    """POST /exchanges/{id}/thanks."""

    message: text(THANKS_MAX, 1)


class ExchangesQuery(ForYouQuery):
    """GET /exchanges query string."""

    kind: one_of(EXCHANGE_KINDS) | None = None
    category: one_of(categories.SLUGS) | None = None
    q: (
        Annotated[
            str,
            Field(
                max_length=MAX_QUERY_LENGTH,
                pattern=NO_CONTROL_CHARACTERS,
                description="words searched in titles and descriptions",
            ),
        ]
        | None
    ) = None


# --- responses -----------------------------------------------------------------------


class ExchangeOut(BaseModel):
    """An exchange as it appears in lists. ``position`` is the post's PUBLIC position
    (a grid cell centre or a public place), never a home."""

    id: int
    kind: str = Field(json_schema_extra={"enum": list(EXCHANGE_KINDS)})
    title: str
    body: str
    category: str = Field(json_schema_extra={"enum": list(categories.SLUGS)})
    status: str = Field(json_schema_extra={"enum": list(POST_STATUSES)})
    author: MemberRefOut
    position: PositionOut
    place_name: str | None
    distance_band: str | None = Field(examples=["~500 m"])
    reach_m: int
    starts_on: DayOut | None
    ends_on: DayOut | None
    created_at: Timestamp
    expires_at: Timestamp | None
    closed_at: Timestamp | None
    responses_count: int
    helper: MemberRefOut | None
    on_behalf_of: str | None = Field(
        description="posted by the author for this neighbour, who is not online"
    )
    photos: list[PhotoOut] = PhotosOut


class ExchangePage(BaseModel):
    items: list[ExchangeOut]
    next_cursor: str | None


class ResponseOut(BaseModel):
    id: int
    exchange_id: int
    author: MemberRefOut
    message: str
    created_at: Timestamp


class ThanksOut(BaseModel):
    id: int
    exchange_id: int
    from_member: MemberRefOut
    to_member: MemberRefOut
    message: str
    created_at: Timestamp


class ExchangeDetailOut(ExchangeOut):
    """One exchange. ``responses``, ``neighbours_who_know_how`` (requests) and ``matches``
    are for its author (null for others); ``my_response`` is the viewer's own answer."""

    responses: list[ResponseOut] | None
    my_response: ResponseOut | None
    thanks: list[ThanksOut]
    neighbours_who_know_how: int | None = Field(
        description="neighbours within reach who know this category (requests, author only)"
    )
    matches: list[ExchangeOut] | None = Field(
        description="open exchanges nearby of the opposite kind, same category (author only)"
    )
