"""Neighbourhood news ("infos du quartier") with comments, and outings ("sorties") with
RSVPs. Both are posts: one timeline, one visibility rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from peuplade.models.base import Base, TimestampMixin, UTCDateTime, utcnow
from peuplade.models.member import Member
from peuplade.models.post import Post

NEWS_KINDS = ("info", "alerte", "perdu_trouve", "vie_de_quartier")
NEWS_SCOPES = ("radius", "quartier")


class NewsPost(Post):
    """News for my radius, or for my whole quartier (then ``Post.quartier_id`` is set)."""

    __tablename__ = "news_posts"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('info', 'alerte', 'perdu_trouve', 'vie_de_quartier')", name="kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="info")
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)

    comments: Mapped[list[NewsComment]] = relationship(
        back_populates="news",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="NewsComment.created_at",
    )

    __mapper_args__ = {"polymorphic_identity": "news"}

    @validates("kind")
    def _alert(self, _key, value):
        self.is_alert = value == "alerte"
        return value

    @property
    def scope(self) -> str:
        return "quartier" if self.quartier_id is not None else "radius"


class NewsComment(Base):
    __tablename__ = "news_comments"
    __table_args__ = (
        Index("ix_news_comments_news_id_created_at", "news_id", "created_at"),
        # One comment per form sent: a double click on "Commenter" finds the first one.
        Index(
            "ix_news_comments_author_id_submission_key", "author_id", "submission_key", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    news_id: Mapped[int] = mapped_column(
        ForeignKey("news_posts.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The random token of the form that sent it (or the API's Idempotency-Key).
    submission_key: Mapped[str | None] = mapped_column(String(32), nullable=True)

    news: Mapped[NewsPost] = relationship(back_populates="comments")
    author: Mapped[Member] = relationship(lazy="joined", innerjoin=True)


class Event(Post):
    """An outing at a public place; leaves the lists once past (``Post.expires_at``)."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at IS NULL OR ends_at >= starts_at", name="period_order"),
        CheckConstraint("capacity IS NULL OR capacity >= 1", name="capacity_positive"),
        Index("ix_events_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)

    rsvps: Mapped[list[Rsvp]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"polymorphic_identity": "event"}


class Rsvp(TimestampMixin, Base):
    """A member's answer to an event: going or not."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("event_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True
    )
    going: Mapped[bool] = mapped_column(Boolean, nullable=False)

    event: Mapped[Event] = relationship(back_populates="rsvps")
    member: Mapped[Member] = relationship(lazy="joined", innerjoin=True)
