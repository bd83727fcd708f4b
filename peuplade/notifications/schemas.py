"""Pydantic models of the notification endpoints (my bell and my email choices).

Request models check types and shapes only; which kinds and modes exist is judged by
``notifications/services.py`` (``choose_emails``), shared with the HTML settings page
(one rule, one message).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from peuplade.api.schemas import LIMIT_MAX, Body, ForYouQuery, Id, MemberRefOut, Timestamp
from peuplade.models.notification import EMAIL_MODES, NOTIFICATION_SUBJECTS
from peuplade.notifications.kinds import NAMES

# kind -> mode, as documented; the service refuses unknown kinds and modes by name.
SETTINGS_SCHEMA = {
    "propertyNames": {"enum": list(NAMES)},
    "additionalProperties": {"type": "string", "enum": list(EMAIL_MODES)},
}


# --- requests --------------------------------------------------------------------------


class NotificationsQuery(ForYouQuery):
    """GET /notifications query string."""


class ReadBody(Body):
    """POST /notifications/read. ``ids`` omitted: all of mine."""

    ids: Annotated[list[Id], Field(max_length=LIMIT_MAX)] | None = None


class NotificationSettingsPatch(Body):
    """PATCH /me/notification-settings: the kinds to change; the others stay as they are."""

    settings: Annotated[
        dict[str, Any], Field(max_length=len(NAMES), json_schema_extra=SETTINGS_SCHEMA)
    ]


# --- responses -------------------------------------------------------------------------


class NotificationSubjectOut(BaseModel):
    """What the notification is about, with its title as it was when it happened."""

    type: str = Field(json_schema_extra={"enum": list(NOTIFICATION_SUBJECTS)})
    id: int
    title: str | None


class NotificationOut(BaseModel):
    """One notification. ``text`` is its sentence in the request's language; ``actor``
    is who did it (a name, never a position), null for reminders."""

    id: int
    kind: str = Field(json_schema_extra={"enum": list(NAMES)})
    text: str
    subject: NotificationSubjectOut | None
    actor: MemberRefOut | None
    created_at: Timestamp
    read: bool


class NotificationPage(BaseModel):
    """Newest first. ``unread``: how many of mine are unread, on every page."""

    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class NotificationSettingsOut(BaseModel):
    """Every kind's email mode: ``on`` (one by one), ``digest`` (daily) or ``off``."""

    settings: dict[str, str] = Field(json_schema_extra=SETTINGS_SCHEMA)
