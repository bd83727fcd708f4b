"""Service exchanges: requests ("demandes") and offers ("offres"), responses, thanks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peuplade.models.base import Base, UTCDateTime, utcnow
from peuplade.models.member import Member
from peuplade.models.post import Post

EXCHANGE_KINDS = ("request", "offer")
OUTCOMES = ("done", "cancelled")


class Exchange(Post):
    __tablename__ = "exchanges"
    __table_args__ = (
        CheckConstraint("kind IN ('request', 'offer')", name="kind_known"),
        CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="period_order"
        ),
        Index("ix_exchanges_category", "category"),
        # Posted for a neighbour who is not online: only with their consent, recorded.
        CheckConstraint(
            "(on_behalf_of IS NULL) = (behalf_consent_at IS NULL)", name="behalf_consent"
        ),
    )

    id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    starts_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    helper_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # "Publié par Marc pour Mme Dupont": the name of a neighbour without internet the
    # author posts for (answers reach the author, who passes them on), and when the
    # author confirmed that this neighbour agreed. NULL for the author's own posts.
    on_behalf_of: Mapped[str | None] = mapped_column(String(80), nullable=True)
    behalf_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the neighbours who know how were told of this request (NULL: still to do, or
    # an offer). Told once the author has their answer, or by the next
    # ``flask send-notifications`` (notifications.services.match_pending).
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    helper: Mapped[Member | None] = relationship(foreign_keys=[helper_id])
    responses: Mapped[list[ExchangeResponse]] = relationship(
        back_populates="exchange",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ExchangeResponse.created_at",
    )

    __mapper_args__ = {"polymorphic_identity": "exchange"}


class ExchangeResponse(Base):
    """A neighbour's "je peux vous aider" (or "ça m'intéresse", for an offer)."""

    __tablename__ = "exchange_responses"
    __table_args__ = (UniqueConstraint("exchange_id", "author_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(
        ForeignKey("exchanges.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True
    )
    message: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    exchange: Mapped[Exchange] = relationship(back_populates="responses")
    author: Mapped[Member] = relationship(lazy="joined", innerjoin=True)


class Thanks(Base):
    """A thank-you after an exchange is done: no stars, just words."""

    __tablename__ = "thanks"
    __table_args__ = (
        UniqueConstraint("exchange_id", "from_member_id"),
        CheckConstraint("from_member_id <> to_member_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(
        ForeignKey("exchanges.id", ondelete="CASCADE"), nullable=False
    )
    from_member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    to_member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True
    )
    message: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    exchange: Mapped[Exchange] = relationship()
    from_member: Mapped[Member] = relationship(foreign_keys=[from_member_id])
    to_member: Mapped[Member] = relationship(foreign_keys=[to_member_id])
