"""Pydantic models of the report and block endpoints (docs/api-contract.md, "Conversations,
reports, blocks").

Request models check types and shapes only; what may be reported, the reasons and the
length of the details are judged by ``moderation/services.py``, shared with the HTML
pages (one rule, one message).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, StrictStr

from peuplade.api.exchange_schemas import MAX_ID, ForYouQuery, MemberRefOut
from peuplade.api.schemas import Body, Timestamp
from peuplade.models import REPORT_REASONS, REPORT_TARGETS
from peuplade.moderation.services import DETAILS_MAX

# --- requests --------------------------------------------------------------------------


class ReportBody(Body):
    """POST /reports: flag something I can see for the moderators of its quartier.

    ``type`` and ``id`` name it: a post (``exchange``, ``item``, ``news``, ``event``), a
    news ``comment``, a ``message`` of one of my conversations, or a ``member``."""

    type: Annotated[StrictStr, Field(json_schema_extra={"enum": list(REPORT_TARGETS)})]
    id: Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
    reason: Annotated[
        StrictStr,
        Field(
            description="spam: advertising or scam; abuse: insults, harassment, hate; "
            "danger: threat, violence, someone in danger; privacy: someone's address, "
            "photo or personal information; other: say what in `details`",
            json_schema_extra={"enum": list(REPORT_REASONS)},
        ),
    ]
    details: (
        Annotated[
            StrictStr,
            Field(
                description="what is wrong, for the moderators only",
                json_schema_extra={"maxLength": DETAILS_MAX},
            ),
        ]
        | None
    ) = None


class BlocksQuery(ForYouQuery):
    """GET /blocks query string."""


# --- responses -------------------------------------------------------------------------


class ReportOut(BaseModel):
    """My report, as filed. ``status`` is ``open`` until a moderator handles it."""

    id: int
    type: str = Field(json_schema_extra={"enum": list(REPORT_TARGETS)})
    target_id: int
    reason: str = Field(json_schema_extra={"enum": list(REPORT_REASONS)})
    status: str = Field(json_schema_extra={"enum": ["open", "resolved", "dismissed"]})
    created_at: Timestamp


class BlockOut(BaseModel):
    """A member I blocked (a name, never a position), and since when."""

    member: MemberRefOut
    created_at: Timestamp


class BlockPage(BaseModel):
    """Most recent block first."""

    items: list[BlockOut]
    next_cursor: str | None
