"""Reads on notifications: my bell's count, my list, where each one leads.

A notification whose actor is blocked either way with its recipient is neither listed,
counted nor emailed (``shown``) while the block lasts; the row is kept, so unblocking
brings it back."""

from __future__ import annotations

from sqlalchemy import Select, and_, func, or_, select

from peuplade.extensions import db
from peuplade.models import Member, Notification
from peuplade.notifications import kinds
from peuplade.pagination import TimeCursor
from peuplade.posts import audience

# Where a notification leads: an endpoint and how its id is passed.
_TARGETS = {
    "exchange": ("exchanges.show", "exchange_id"),
    "item": ("loans.show", "item_id"),
    "event": ("events.show", "event_id"),
    "conversation": ("messages.show", "conversation_id"),
}


def shown():
    """SQL: the notification may be shown to its recipient: no actor, or one with no
    block either way with them."""
    return or_(
        Notification.actor_id.is_(None),
        audience.no_block(Notification.member_id, Notification.actor_id),
    )


def is_shown(notification: Notification) -> bool:
    """``shown`` for one notification already loaded (the emails)."""
    if notification.actor_id is None:
        return True
    return not audience.blocked_between(notification.member_id, notification.actor_id)


def unread_count(member: Member) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.member_id == member.id, Notification.read_at.is_(None), shown()
            )
        )
        or 0
    )


def mine(member: Member, after: TimeCursor | None = None) -> Select:
    """The member's notifications, newest first (keyset on (created_at, id))."""
    stmt = select(Notification).where(Notification.member_id == member.id, shown())
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
