"""Pydantic models of the report and block endpoints (docs/api-contract.md, "Conversations,
reports, blocks"), and of the moderators' queue.

Request models hold to all that the document says; what may be reported and the
reasons are judged by ``moderation/services.py``, shared with the HTML pages (one rule,
one message), and what no schema can state (a thing I can see, not my own) is named in
the operations' descriptions.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field

from peuplade.api.schemas import Body, ForYouQuery, Id, MemberRefOut, Timestamp, one_of, text
from peuplade.models import REPORT_REASONS, REPORT_STATUSES, REPORT_TARGETS
from peuplade.moderation.services import DETAILS_MAX, MEMBER_REASONS

# --- requests --------------------------------------------------------------------------


class ReportBody(Body):
    """POST /reports: flag something I can see for the moderators of its quartier.

    ``type`` and ``id`` name it: a post (``exchange``, ``item``, ``news``, ``event``), a
    news ``comment``, a ``message`` of one of my conversations, or a ``member``."""

    type: one_of(REPORT_TARGETS, _l("Choisissez ce que vous signalez."))
    id: Id
    reason: one_of(
        MEMBER_REASONS,  # not "signups": only Peuplade itself reports that
        _l("Choisissez une raison."),
        description="spam: advertising or scam; abuse: insults, harassment, hate; "
        "danger: threat, violence, someone in danger; privacy: someone's address, "
        "photo or personal information; other: say what in `details`",
    )
    details: text(DETAILS_MAX, description="what is wrong, for the moderators only") | None = None


class BlocksQuery(ForYouQuery):
    """GET /blocks query string."""


class QueueQuery(ForYouQuery):
    """GET /moderation/reports query string."""


# --- responses -------------------------------------------------------------------------


class ReportOut(BaseModel):
    """My report, as filed. ``status`` is ``open`` until a moderator handles it."""

    id: int
    type: str = Field(json_schema_extra={"enum": list(REPORT_TARGETS)})
    target_id: int
    reason: str = Field(json_schema_extra={"enum": list(MEMBER_REASONS)})
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


class QueuedReportOut(BaseModel):
    """An open report, as a moderator reads it in the queue.

    ``by_peuplade``: raised by Peuplade itself, not by a member (``reason`` ``signups``:
    many accounts signed up within a day with their homes in one ~450 m square; the
    report is about the newest, ``details`` names the others by number, never a
    position). ``reporter`` is then null, as it is once a reporter deleted their
    account. ``reason_label`` and ``reported_by`` are the labels to show, in the
    language of the request. ``target_title``: null once the thing is deleted."""

    id: int
    type: str = Field(json_schema_extra={"enum": list(REPORT_TARGETS)})
    target_id: int
    target_title: str | None
    target_member: MemberRefOut | None
    reason: str = Field(json_schema_extra={"enum": list(REPORT_REASONS)})
    reason_label: str
    by_peuplade: bool
    reporter: MemberRefOut | None
    reported_by: str
    details: str
    status: str = Field(json_schema_extra={"enum": list(REPORT_STATUSES)})
    created_at: Timestamp


class QueuePage(BaseModel):
    """Newest first."""

    items: list[QueuedReportOut]
    next_cursor: str | None
