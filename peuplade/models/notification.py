"""Notifications: what a member is told, in the app and by email, and how they want it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peuplade.models.base import Base, UTCDateTime, utcnow
from peuplade.models.member import Member

# How a member wants the emails of one kind: one by one, in the daily digest, or not.
EMAIL_MODES = ("on", "digest", "off")
# Where a notification's email stands. "none": no email wanted; "pending": to send
# (after the commit, else by the next `flask send-notifications`); "sending": claimed
# by a sender; "digest": waits for `flask send-digests`; "sent"; "failed": gave up
# after MAIL_MAX_ATTEMPTS; "skipped": outdated before it could go.
EMAIL_STATES = ("none", "pending", "sending", "digest", "sent", "failed", "skipped")
NOTIFICATION_SUBJECTS = ("exchange", "item", "loan", "event", "conversation")


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(
            "email_state IN ('none', 'pending', 'sending', 'digest', 'sent', 'failed', 'skipped')",
            name="email_state_known",
        ),
        # Reminders made by a scheduled run are made once (e.g. "due:12:2026-12-01").
        UniqueConstraint("member_id", "dedupe_key"),
        Index("ix_notifications_member_id_created_at", "member_id", "created_at"),
        Index("ix_notifications_email_state_created_at", "email_state", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    # Who did it (None for reminders); their name is shown, never their address.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )
    subject_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    subject_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The subject's title when it happened ("Perceuse"): the list needs no join.
    subject_title: Mapped[str] = mapped_column(String(160), nullable=False, default="")
    # A day the text mentions (due date, expiry), ISO format.
    detail: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    email_state: Mapped[str] = mapped_column(String(10), nullable=False, default="none")
    email_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    email_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The last sending error's class name (never the server's text, which may hold
    # addresses).
    email_error: Mapped[str | None] = mapped_column(String(80), nullable=True)

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id], lazy="joined")


class NotificationSetting(Base):
    """A member's choice for one kind; no row means the kind's default."""

    __tablename__ = "notification_settings"
    __table_args__ = (CheckConstraint("email IN ('on', 'digest', 'off')", name="email_mode_known"),)

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(8), nullable=False)
