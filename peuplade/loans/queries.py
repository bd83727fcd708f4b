"""Reads on objects and loans."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select

from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.localtime import today
from peuplade.models import HOLDING, Item, Loan, Member
from peuplade.moderation import targets as report_targets
from peuplade.pagination import TimeCursor
from peuplade.posts import audience
from peuplade.posts import queries as posts
from peuplade.search import text_matches


def near_me(
    viewer: Member,
    *,
    category: str | None = None,
    q: str | None = None,
    available_only: bool = False,
    after: TimeCursor | None = None,
    limit: int = posts.LIST_MAX,
) -> Select:
    """At most ``limit`` objects in the viewer's neighbourhood (not the viewer's own),
    newest first."""
    conditions = [Item.author_id != viewer.id]
    if category:
        conditions.append(Item.category == category)
    if q and q.strip():
        conditions.append(text_matches(Item.title, Item.description, q))
    if available_only:
        conditions.append(Item.available.is_(True))
    return posts.newest_nearby(viewer, Item, *conditions, limit=limit, after=after)


def mine(lender: Member, after: TimeCursor | None = None) -> Select:
    return posts.newest_first(select(Item).where(Item.author_id == lender.id), after)


def get_item_or_404(viewer: Member, item_id: int) -> Item:
    """The object if the viewer may see it (theirs, or within their radius)."""
    item = db.session.scalar(
        select(Item).where(Item.id == item_id, audience.visible_to(viewer, Item))
    )
    if item is None:
        raise NotFound(_l("Cet objet n'existe pas, ou n'est pas dans votre voisinage."))
    return item


report_targets.register("item", get_item_or_404)


def get_loan_or_404(viewer: Member, loan_id: int) -> Loan:
    """A loan, to its lender and its borrower only."""
    loan = db.session.scalar(
        select(Loan).where(
            Loan.id == loan_id, or_(Loan.lender_id == viewer.id, Loan.borrower_id == viewer.id)
        )
    )
    if loan is None:
        raise NotFound(_l("Ce prêt n'existe pas, ou ne vous concerne pas."))
    return loan


def my_loans(member: Member, role: str | None = None) -> Select:
    """My loans, as lender and as borrower (or one role), soonest first, then newest."""
    if role == "lender":
        who = Loan.lender_id == member.id
    elif role == "borrower":
        who = Loan.borrower_id == member.id
    else:
        who = or_(Loan.lender_id == member.id, Loan.borrower_id == member.id)
    return select(Loan).where(who).order_by(Loan.start.desc(), Loan.id.desc())


def item_loans(item: Item, *, upcoming_only: bool = False) -> Select:
    """The loans of one object (for its lender): its calendar."""
    stmt = select(Loan).where(Loan.item_id == item.id)
    if upcoming_only:
        # A loan still lent is current even past its due date (overdue): keep it.
        stmt = stmt.where(
            or_(
                and_(Loan.status.in_(("requested", *HOLDING)), Loan.due >= today()),
                Loan.status == "lent",
            )
        )
    return stmt.order_by(Loan.start, Loan.id)


def overdue(member: Member) -> Select:
    """Loans still lent after their due date, where the member is lender or borrower."""
    return select(Loan).where(
        or_(Loan.lender_id == member.id, Loan.borrower_id == member.id),
        Loan.status == "lent",
        Loan.due < today(),
    )


def times_lent(member_id: int) -> int:
    """How many loans of theirs ended with the object back ("a prêté 12 fois")."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Loan)
            .where(Loan.lender_id == member_id, Loan.status == "returned")
        )
        or 0
    )


def times_borrowed(member_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Loan)
            .where(Loan.borrower_id == member_id, Loan.status == "returned")
        )
        or 0
    )


def item_history_count(item: Item) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Loan)
            .where(Loan.item_id == item.id, Loan.status == "returned")
        )
        or 0
    )


def borrower_loans_of(item: Item, borrower: Member) -> Select:
    """One borrower's own loans of an object (what they see on its page), soonest first."""
    return (
        select(Loan)
        .where(Loan.item_id == item.id, Loan.borrower_id == borrower.id)
        .order_by(Loan.start, Loan.id)
    )


def times_lent_by(lender_ids: list[int]) -> dict[int, int]:
    """``times_lent`` for several lenders in one query (the timeline)."""
    if not lender_ids:
        return {}
    rows = db.session.execute(
        select(Loan.lender_id, func.count())
        .where(Loan.lender_id.in_(lender_ids), Loan.status == "returned")
        .group_by(Loan.lender_id)
    )
    return dict(rows.all())
