"""Reads on conversations: my inbox with unread counts, one conversation.

A conversation with a member blocked either way is gone for both of them - from the
inbox, from the unread count, and opened directly (404, reading or writing) - but it is
kept: unblocking brings it back as it was."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, ScalarSelect, Select, and_, bindparam, case, func, or_, select

from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.models import Conversation, Member, Message
from peuplade.moderation import targets as report_targets
from peuplade.notifications import queries as notification_queries
from peuplade.posts import audience


def _mine(me):
    """SQL: a conversation of mine, with nobody blocked either way by or with me. ``me``
    is my id, or a bound parameter that stands for it."""
    return or_(
        and_(
            Conversation.member_a_id == me,
            audience.no_block(me, Conversation.member_b_id),
        ),
        and_(
            Conversation.member_b_id == me,
            audience.no_block(me, Conversation.member_a_id),
        ),
    )


def _unread(me):
    """SQL: messages of the other participant written after I last read (``me``: as
    in :func:`_mine`)."""
    my_read_at = case(
        (Conversation.member_a_id == me, Conversation.a_read_at),
        else_=Conversation.b_read_at,
    )
    return (
        select(func.count(Message.id))
        .where(
            Message.conversation_id == Conversation.id,
            Message.author_id != me,
            Message.hidden_at.is_(None),
            or_(my_read_at.is_(None), Message.created_at > my_read_at),
        )
        .correlate(Conversation)
        .scalar_subquery()
    )


def inbox(member: Member) -> Select:
    """My conversations, latest message first; rows are ``(Conversation, unread)``."""
    return (
        select(Conversation, _unread(member.id).label("unread"))
        .where(_mine(member.id))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    )


def _unread_total_sql(me) -> ScalarSelect:
    """SQL, a scalar subquery: :func:`unread_total` (``me``: as in :func:`_mine`)."""
    counts = select(_unread(me).label("unread")).where(_mine(me)).subquery()
    return select(func.coalesce(func.sum(counts.c.unread), 0)).scalar_subquery()


# The counts asked on every page, built once: each request only binds its member's id
# (building these expressions cost more than running them).
_ME = bindparam("me", type_=Integer)
_UNREAD_TOTAL = select(_unread_total_sql(_ME))
_BELL_COUNTS = select(_unread_total_sql(_ME), notification_queries.unread_groups_sql(_ME))


def unread_total(member: Member) -> int:
    """How many messages wait for me, over all my conversations (the inbox badge)."""
    # SUM of counts is a Decimal on PostgreSQL.
    return int(db.session.scalar(_UNREAD_TOTAL, {"me": member.id}) or 0)


def bell_counts(member: Member) -> tuple[int, int]:
    """The navigation's two counts in one statement, asked on every page: the messages
    waiting for me (:func:`unread_total`) and the notification groups with something
    unread (notifications.queries.unread_groups)."""
    messages, groups = db.session.execute(_BELL_COUNTS, {"me": member.id}).one()
    return int(messages or 0), int(groups or 0)


def get_conversation_or_404(member: Member, conversation_id: int) -> Conversation:
    """A conversation, to its two participants only, and not across a block."""
    conversation = db.session.scalar(
        select(Conversation).where(Conversation.id == conversation_id, _mine(member.id))
    )
    if conversation is None:
        raise NotFound(_l("Cette conversation n'existe pas."))
    return conversation


def get_message_or_404(member: Member, message_id: int) -> Message:
    """A message, to the participants of its conversation only (what they may report)."""
    message = db.session.get(Message, message_id)
    if message is None:
        raise NotFound(_l("Ce message n'existe pas."))
    get_conversation_or_404(member, message.conversation_id)
    return message


report_targets.register("message", get_message_or_404)


def messages(conversation: Conversation) -> Select:
    """Oldest first: newest messages last, as in a chat."""
    return (
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.hidden_at.is_(None))
        .order_by(Message.created_at, Message.id)
    )
