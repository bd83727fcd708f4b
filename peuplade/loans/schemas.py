"""Pydantic models of the object and loan endpoints (docs/api-contract.md, "Objects and loans").

Request models hold to all that the document says (lengths and patterns of texts,
formats); categories and conditions are checked by ``loans/services.py`` (one rule, one
message), and loan periods (from today, 60 days at most) are named in the operations'
descriptions: no schema can state them.
"""

from __future__ import annotations

from typing import Annotated

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, StrictBool

from peuplade import categories
from peuplade.api.schemas import (
    NO_CONTROL_CHARACTERS,
    Body,
    Category,
    Day,
    DayOut,
    ForYouQuery,
    MemberRefOut,
    PhotoOut,
    PhotosOut,
    PositionOut,
    QueryBool,
    Timestamp,
    one_of,
    text,
)
from peuplade.loans.services import DESCRIPTION_MAX, MESSAGE_MAX, NOTES_MAX, TITLE_MAX
from peuplade.models import CONDITIONS, LOAN_STATUSES
from peuplade.search import MAX_QUERY_LENGTH

ROLES = ("lender", "borrower")

Title = text(TITLE_MAX, 3)
Description = text(DESCRIPTION_MAX)
# An empty condition would silently become the default: say so instead.
Condition = one_of(CONDITIONS, _l("Choisissez un état de la liste : comme_neuf, bon ou use."))
Notes = text(NOTES_MAX, description="caution demandée, mode d'emploi, où le récupérer...")
Message = text(MESSAGE_MAX)


class ItemBody(Body):
    """POST /items. The object is shown at the lender's public (blurred) position."""

    title: Title
    description: Description
    category: Category
    condition: Condition | None = None
    notes: Notes | None = None
    available: StrictBool | None = None


class ItemPatch(Body):
    """PATCH /items/{id}: any of the creation fields; absent ones stay as they are."""

    title: Title | None = None
    description: Description | None = None
    category: Category | None = None
    condition: Condition | None = None
    notes: Notes | None = None
    available: StrictBool | None = None


class LoanRequestBody(Body):
    """POST /items/{id}/loans: ``start`` and ``due`` are the first and the last day
    (YYYY-MM-DD, both included): from today, for 60 days at most."""

    start: Day
    due: Day
    message: Message | None = None


class ItemsQuery(ForYouQuery):
    """GET /items query string."""

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
    available: Annotated[QueryBool, Field(description="true: only objects lendable now")] | None = (
        None
    )


class LoansQuery(ForYouQuery):
    """GET /loans query string. No ``role``: both sides."""

    role: one_of(ROLES) | None = None


# --- responses -----------------------------------------------------------------------


class LoanOut(BaseModel):
    """One loan, to its lender and its borrower only. ``start`` and ``due`` are the first
    and last days; ``overdue`` is true once ``due`` has passed while the object is lent."""

    id: int
    item_id: int
    item_title: str
    lender: MemberRefOut
    borrower: MemberRefOut
    start: DayOut
    due: DayOut
    status: str = Field(json_schema_extra={"enum": list(LOAN_STATUSES)})
    overdue: bool
    message: str
    created_at: Timestamp
    lent_at: Timestamp | None
    returned_at: Timestamp | None


class LoanPage(BaseModel):
    items: list[LoanOut]
    next_cursor: str | None


class ItemOut(BaseModel):
    """A lendable object. ``position`` is the lender's PUBLIC position (a grid cell
    centre), never a home. ``loans`` (the object's calendar and history) is for its
    lender only: null for everybody else."""

    id: int
    title: str
    description: str
    category: str = Field(json_schema_extra={"enum": list(categories.SLUGS)})
    condition: str = Field(json_schema_extra={"enum": list(CONDITIONS)})
    notes: str
    available: bool
    lender: MemberRefOut
    position: PositionOut
    distance_band: str | None = Field(examples=["~500 m"])
    created_at: Timestamp
    times_lent: int = Field(description="loans of the lender's that ended with the object back")
    loans: list[LoanOut] | None
    photos: list[PhotoOut] = PhotosOut


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None
