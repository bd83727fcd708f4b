"""Reads on notifications: my bell's count, my list, where each one leads."""

from __future__ import annotations

from sqlalchemy import Select, and_, func, or_, select

from peuplade.extensions import db
from peuplade.models import Member, Notification
from peuplade.notifications import kinds
from peuplade.pagination import TimeCursor

# Where a notification leads: an endpoint and how its id is passed.
_TARGETS = {
    "exchange": ("exchanges.show", "exchange_id"),
    "item": ("loans.show", "item_id"),
    "event": ("events.show", "event_id"),
    "conversation": ("messages.show", "conversation_id"),
}


def unread_count(member: Member) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.member_id == member.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mine(member: Member, after: TimeCursor | None = None) -> Select:
    """The member's notifications, newest first (keyset on (created_at, id))."""
    stmt = select(Notification).where(Notification.member_id == member.id)
    if after is not None:
        stmt = stmt.where(
            or_(
                Notification.created_at < after.created_at,
                and_(Notification.created_at == after.created_at, Notification.id < after.id),
            )
        )
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def cursor_after(notification: Notification) -> str:
    return TimeCursor(notification.created_at, notification.id).encode()


def target(notification: Notification) -> tuple[str, dict[str, int]]:
    """``(endpoint, values)`` of the page a notification leads to."""
    if notification.subject_type == "loan" or notification.kind.startswith("loan_"):
        return "loans.my_loans", {}
    found = _TARGETS.get(notification.subject_type or "")
    if found is None or notification.subject_id is None:
        return "notifications.index", {}
    endpoint, name = found
    return endpoint, {name: notification.subject_id}


def sentence(notification: Notification) -> str:
    """What the notification says, in the current language."""
    who = notification.actor.display_name if notification.actor is not None else None
    return kinds.text(notification.kind, who, notification.subject_title, notification.detail)
