"""Private conversations between two members, optionally about a post or a loan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peuplade.models.base import Base, UTCDateTime, utcnow
from peuplade.models.member import Member

SUBJECT_TYPES = ("exchange", "item", "loan", "event")


class Conversation(Base):
    """Between ``member_a`` and ``member_b`` (a < b, so a pair is stored one way only)."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint("member_a_id < member_b_id", name="pair_ordered"),
        CheckConstraint(
            "subject_type IS NULL OR subject_type IN ('exchange', 'item', 'loan', 'event')",
            name="subject_known",
        ),
        UniqueConstraint("member_a_id", "member_b_id", "subject_type", "subject_id"),
        Index("ix_conversations_member_b_id", "member_b_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_a_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    member_b_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    subject_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    subject_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # What the subject was called when the conversation started ("à propos de : Perceuse").
    subject_title: Mapped[str | None] = mapped_column(String(160), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    a_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    b_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    member_a: Mapped[Member] = relationship(foreign_keys=[member_a_id], lazy="joined")
    member_b: Mapped[Member] = relationship(foreign_keys=[member_b_id], lazy="joined")
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Message.created_at",
    )

    def other(self, member: Member) -> Member:
        return self.member_b if member.id == self.member_a_id else self.member_a

    def read_at(self, member: Member) -> datetime | None:
        return self.a_read_at if member.id == self.member_a_id else self.b_read_at


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id_created_at", "conversation_id", "created_at"),
        # One message per form sent: a double click on "Envoyer" finds the first one.
        Index("ix_messages_author_id_submission_key", "author_id", "submission_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The random token of the form that sent it (or the API's Idempotency-Key; NULL
    # without one): the same form sent twice sends one message.
    submission_key: Mapped[str | None] = mapped_column(String(32), nullable=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    author: Mapped[Member] = relationship(lazy="joined", innerjoin=True)
