"""Reads on conversations: my inbox with unread counts, one conversation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select

from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.models import Conversation, Member, Message


def _mine(member: Member):
    return or_(Conversation.member_a_id == member.id, Conversation.member_b_id == member.id)


def _unread(member: Member):
    """SQL: messages of the other participant written after I last read."""
    my_read_at = case(
        (Conversation.member_a_id == member.id, Conversation.a_read_at),
        else_=Conversation.b_read_at,
    )
    return (
        select(func.count(Message.id))
        .where(
            Message.conversation_id == Conversation.id,
            Message.author_id != member.id,
            Message.hidden_at.is_(None),
            or_(my_read_at.is_(None), Message.created_at > my_read_at),
        )
        .correlate(Conversation)
        .scalar_subquery()
    )


def inbox(member: Member) -> Select:
    """My conversations, latest message first; rows are ``(Conversation, unread)``."""
    return (
        select(Conversation, _unread(member).label("unread"))
        .where(_mine(member))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    )


def unread_total(member: Member) -> int:
    """How many messages wait for me, over all my conversations (the inbox badge)."""
    counts = select(_unread(member).label("unread")).where(_mine(member)).subquery()
    # SUM of counts is a Decimal on PostgreSQL.
    return int(db.session.scalar(select(func.coalesce(func.sum(counts.c.unread), 0))) or 0)


def get_conversation_or_404(member: Member, conversation_id: int) -> Conversation:
    """A conversation, to its two participants only."""
    conversation = db.session.scalar(
        select(Conversation).where(Conversation.id == conversation_id, _mine(member))
    )
    if conversation is None:
        raise NotFound(_l("Cette conversation n'existe pas."))
    return conversation


def messages(conversation: Conversation) -> Select:
    """Oldest first: newest messages last, as in a chat."""
    return (
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.hidden_at.is_(None))
        .order_by(Message.created_at, Message.id)
    )
