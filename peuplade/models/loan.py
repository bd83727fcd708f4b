"""Lendable objects ("la grande étagère du quartier") and loans between neighbours."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peuplade.models.base import Base, TimestampMixin, UTCDateTime
from peuplade.models.member import Member
from peuplade.models.post import Post

CONDITIONS = ("comme_neuf", "bon", "use")
LOAN_STATUSES = ("requested", "accepted", "declined", "lent", "returned", "cancelled")
# A loan in one of these states holds the object for its period: no two may overlap.
HOLDING = ("accepted", "lent")
MAX_LOAN_DAYS = 60


class Item(Post):
    """An object a member lends. Shown at the lender's public position."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("condition IN ('comme_neuf', 'bon', 'use')", name="condition_known"),
        Index("ix_items_category", "category"),
    )

    id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    condition: Mapped[str] = mapped_column(String(16), nullable=False, default="bon")
    # Deposit asked, how to use it, where to fetch it...: free text, optional.
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    available: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    loans: Mapped[list[Loan]] = relationship(
        back_populates="item", passive_deletes=True, order_by="Loan.start"
    )

    __mapper_args__ = {"polymorphic_identity": "item"}


class Loan(TimestampMixin, Base):
    """One borrowing of an object for a period, from request to return."""

    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint(
            "status IN ('requested', 'accepted', 'declined', 'lent', 'returned', 'cancelled')",
            name="status_known",
        ),
        CheckConstraint("due >= start", name="period_order"),
        CheckConstraint("borrower_id <> lender_id", name="not_own"),
        Index("ix_loans_item_id_start", "item_id", "start"),
        Index("ix_loans_borrower_id", "borrower_id"),
        Index("ix_loans_lender_id", "lender_id"),
        # One waiting request per borrower, object and period: "Demander" clicked twice
        # (or the API call sent again) finds the first request.
        Index(
            "ix_loans_requested_once",
            "item_id",
            "borrower_id",
            "start",
            "due",
            unique=True,
            postgresql_where=text("status = 'requested'"),
            sqlite_where=text("status = 'requested'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), nullable=False)
    lender_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    start: Mapped[date] = mapped_column(Date, nullable=False)
    due: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="requested")
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    item: Mapped[Item] = relationship(back_populates="loans")
    lender: Mapped[Member] = relationship(foreign_keys=[lender_id], lazy="joined")
    borrower: Mapped[Member] = relationship(foreign_keys=[borrower_id], lazy="joined")

    def overdue_on(self, day: date) -> bool:
        """Still lent after its due date."""
        return self.status == "lent" and day > self.due

    def __repr__(self) -> str:
        return f"<Loan {self.id} {self.status}>"


# The database itself refuses two holding loans of one object whose periods overlap, so
# that two accepts racing each other cannot both win. Created with the schema (by the
# migration that adds loans, and by database.create_schema in tests).
OVERLAP_DDL = {
    "postgresql": [
        "CREATE EXTENSION IF NOT EXISTS btree_gist",
        "ALTER TABLE loans ADD CONSTRAINT loans_no_overlap EXCLUDE USING gist "
        "(item_id WITH =, daterange(start, due, '[]') WITH &&) "
        "WHERE (status IN ('accepted', 'lent'))",
    ],
    # SQLite runs one writer at a time, so a trigger's check cannot race another write.
    "sqlite": [
        f"""CREATE TRIGGER loans_no_overlap_{event.lower()} BEFORE {event} ON loans
        WHEN NEW.status IN ('accepted', 'lent')
        BEGIN
            SELECT RAISE(ABORT, 'loans_no_overlap') WHERE EXISTS (
                SELECT 1 FROM loans AS other
                WHERE other.item_id = NEW.item_id AND other.id IS NOT NEW.id
                AND other.status IN ('accepted', 'lent')
                AND other.start <= NEW.due AND NEW.start <= other.due
            );
        END"""
        for event in ("INSERT", "UPDATE")
    ],
}
