"""Notifications -> JSON, through ``notifications/schemas.py``: in the request's
language; the actor by name only."""

from __future__ import annotations

from typing import Any

from peuplade.api.schemas import member_ref
from peuplade.models import Notification
from peuplade.notifications import queries
from peuplade.notifications import schemas as ns


def _notification(note: Notification) -> ns.NotificationOut:
    """In the request's language; the actor by name only (never a position)."""
    subject = None
    if note.subject_type is not None and note.subject_id is not None:
        subject = ns.NotificationSubjectOut(
            type=note.subject_type, id=note.subject_id, title=note.subject_title or None
        )
    return ns.NotificationOut(
        id=note.id,
        kind=note.kind,
        text=queries.sentence(note),
        subject=subject,
        actor=member_ref(note.actor) if note.actor is not None else None,
        created_at=note.created_at,
        read=note.read_at is not None,
    )


def notification_page(
    notes: list[Notification], next_cursor: str | None, unread: int
) -> dict[str, Any]:
    return ns.NotificationPage(
        items=[_notification(n) for n in notes], next_cursor=next_cursor, unread=int(unread)
    ).model_dump(mode="json")


def notification_settings(settings: dict[str, str]) -> dict[str, Any]:
    return ns.NotificationSettingsOut(settings=settings).model_dump(mode="json")
