"""Trust and safety: reports, the moderation log, moderators and blocks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peuplade.models.base import Base, UTCDateTime, utcnow
from peuplade.models.member import Member

# What can be reported (and hidden): posts by type, comments, messages, members.
REPORT_TARGETS = ("exchange", "item", "news", "event", "comment", "message", "member")
# "signups": raised by the app itself (no reporter) when many accounts sign up in the
# same ~444 m privacy cell within a day (account/person.py); members cannot pick it.
REPORT_REASONS = ("spam", "abuse", "danger", "privacy", "other", "signups")
REPORT_STATUSES = ("open", "resolved", "dismissed")
# "remove_photo": one photo of a post taken down (the post is the target).
MODERATION_ACTIONS = (
    "hide",
    "restore",
    "warn",
    "suspend",
    "ban",
    "unban",
    "dismiss",
    "remove_photo",
)


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(f"target_type IN ({_in(REPORT_TARGETS)})", name="target_known"),
        CheckConstraint(f"reason IN ({_in(REPORT_REASONS)})", name="reason_known"),
        CheckConstraint(f"status IN ({_in(REPORT_STATUSES)})", name="status_known"),
        # One report per person and thing: reporting twice adds nothing.
        UniqueConstraint("reporter_id", "target_type", "target_id"),
        Index("ix_reports_status_created_at", "status", "created_at"),
        Index("ix_reports_quartier_id_status", "quartier_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )
    target_type: Mapped[str] = mapped_column(String(16), nullable=False)
    target_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # Who wrote the reported thing (the member themselves for "member").
    target_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    details: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The quartier whose moderators handle it (the content's, else its author's).
    quartier_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    handled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    reporter: Mapped[Member | None] = relationship(foreign_keys=[reporter_id])
    target_member: Mapped[Member | None] = relationship(foreign_keys=[target_member_id])


class ModerationAction(Base):
    """The audit log: who did what to what, when and why. Rows are only ever added."""

    __tablename__ = "moderation_actions"
    __table_args__ = (
        CheckConstraint(f"action IN ({_in(MODERATION_ACTIONS)})", name="action_known"),
        Index("ix_moderation_actions_created_at", "created_at"),
        Index("ix_moderation_actions_member_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(12), nullable=False)
    target_type: Mapped[str] = mapped_column(String(16), nullable=False)
    target_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # The member the action is about (the author of hidden content, the suspended one).
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    moderator: Mapped[Member | None] = relationship(foreign_keys=[moderator_id])
    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])


class Moderator(Base):
    """A member who moderates one quartier (admins moderate every quartier)."""

    __tablename__ = "moderators"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    quartier_id: Mapped[int] = mapped_column(
        ForeignKey("quartiers.id", ondelete="CASCADE"), primary_key=True
    )


class Block(Base):
    """``blocker`` blocked ``blocked``: no messages, answers, loans, or items seen by
    them; the blocked member is not told."""

    __tablename__ = "blocks"
    __table_args__ = (
        CheckConstraint("blocker_id <> blocked_id", name="not_self"),
        Index("ix_blocks_blocked_id", "blocked_id"),
    )

    blocker_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
