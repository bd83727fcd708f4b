"""Reads on objects and loans."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Select, and_, bindparam, exists, func, or_, select

from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.localtime import today
from peuplade.models import HOLDING, Item, Loan, Member, Photo, Post
from peuplade.moderation import targets as report_targets
from peuplade.pagination import Prepared, TimeCursor
from peuplade.posts import audience
from peuplade.posts import cards as cards_of
from peuplade.posts import queries as posts
from peuplade.posts.cards import CardAuthor


# The walk's conditions (posts.newest_nearby: SQL made once, values as parameters).
def _not_mine():
    return Item.author_id != posts.viewer_id()


def _in_category():
    return Item.category == bindparam("category")


def _available():
    return Item.available.is_(True)


def _free_today():
    return ~exists().where(Loan.item_id == Item.id, _holds_today(bindparam("today", type_=Date)))


@dataclass(slots=True)
class ItemCard:
    """An object as the shelf's card shows it (``templates/loans/_macros.html``), read
    from one row (``card_columns``) rather than an object with its lender's whole row:
    the attributes the card and ``item_statuses`` read on an item, under the same
    names. ``position`` is the object's PUBLIC position (the distance band)."""

    type: ClassVar[str] = "item"

    id: int
    category: str
    condition: str
    available: bool
    title: str
    created_at: datetime
    author_id: int
    position: Any
    author: CardAuthor
    has_photo: bool
    photos: list[Photo] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.available = bool(self.available)  # SQLite's 0 / 1


def card_columns(found, limit) -> Any:
    """The final SELECT of a walk of objects read as cards (``near_me(rows=...)``)."""
    posts_t, items = Post.__table__, Item.__table__
    return cards_of.card_rows(
        found,
        limit,
        (items,),
        (
            posts_t.c.id,
            items.c.category,
            items.c.condition,
            items.c.available,
            items.c.title,
            posts_t.c.created_at,
            posts_t.c.position,
        ),
    )


def as_cards(rows) -> list[ItemCard]:
    """The cards of ``card_columns``' rows, with their photos."""
    return cards_of.from_rows(ItemCard, rows)


def near_me(
    viewer: Member,
    *,
    category: str | None = None,
    q: str | None = None,
    available_only: bool = False,
    free_today: bool = False,
    after: TimeCursor | None = None,
    limit: int = posts.LIST_MAX,
    rows=None,
) -> Prepared:
    """At most ``limit`` objects in the viewer's neighbourhood (not the viewer's own),
    newest first. ``available_only``: the lender's switch is on; ``free_today``: and no
    loan holds it today (out, overdue, or promised for a period that has begun).
    ``rows``: plain rows instead of objects, e.g. ``card_columns``."""
    conditions: list = [_not_mine]
    params: dict = {}
    if category:
        conditions.append(_in_category)
        params["category"] = category
    if q and q.strip():
        found, values = posts.searched(Item, "title", "description", q)
        conditions.append(found)
        params.update(values)
    if available_only:
        conditions.append(_available)
    if free_today:
        conditions.append(_free_today)
        params["today"] = today()
    return posts.newest_nearby(
        viewer, Item, *conditions, limit=limit, after=after, params=params, rows=rows
    )


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
        stmt = stmt.where(_upcoming())
    return stmt.order_by(Loan.start, Loan.id)


def _upcoming():
    """SQL: a request or a promise not yet past, or a loan still out. A loan still lent
    is current even past its due date (overdue): kept."""
    return or_(
        and_(Loan.status.in_(("requested", *HOLDING)), Loan.due >= today()),
        Loan.status == "lent",
    )


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


# A loan that really happened: the object was handed over (still out, overdue, or back).
HANDED_OVER = ("lent", "returned")


def item_history_count(item: Item) -> int:
    """How many times the object was really lent: handed over, whether it is still out
    (on time or overdue) or back."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Loan)
            .where(Loan.item_id == item.id, Loan.status.in_(HANDED_OVER))
        )
        or 0
    )


# --- what an object's page and cards say about it ---------------------------------------


@dataclass(frozen=True)
class ItemStatus:
    """An object's state, from its loans and its lender's switch. ``kind`` is one of
    ``available``, ``unavailable`` (the lender set it aside), ``reserved`` (an accepted
    period has begun, the object is not handed over yet), ``lent``, ``overdue``.
    ``start``/``due``: the loan that makes it so; ``next_start``/``next_due``: the next
    accepted period, when the object is not out or reserved now."""

    kind: str
    start: date | None = None
    due: date | None = None
    next_start: date | None = None
    next_due: date | None = None

    @property
    def free_until(self) -> date | None:
        """The last free day before the next promised period."""
        return self.next_start - timedelta(days=1) if self.next_start else None


def _holds_today(day: date):
    """SQL: a loan that holds its object on ``day``: out (even overdue), or accepted
    for a period that has begun and not ended."""
    return or_(
        Loan.status == "lent",
        and_(Loan.status == "accepted", Loan.start <= day, Loan.due >= day),
    )


def holding_loans(item_ids: Iterable[int]) -> Select:
    """The loans that decide the objects' status and "Déjà promis": out (an overdue one
    included), or accepted and not yet past, in date order."""
    return (
        select(Loan)
        .where(
            Loan.item_id.in_(list(item_ids)),
            Loan.status.in_(HOLDING),
            or_(Loan.status == "lent", Loan.due >= today()),
        )
        .order_by(Loan.item_id, Loan.start, Loan.id)
    )


def status_from(item: Item | ItemCard, loans: Iterable[Loan], day: date) -> ItemStatus:
    """The one rule for an object's status, from the loans of it (any may be given:
    only those holding it count) on the local ``day``."""
    holding = [x for x in loans if x.item_id == item.id and x.status in HOLDING]
    out = [x for x in holding if x.status == "lent"]
    if out:
        # Two loans out at once only when a return was never noted: the latest counts.
        loan = max(out, key=lambda x: (x.start, x.id))
        kind = "overdue" if loan.overdue_on(day) else "lent"
        return ItemStatus(kind, loan.start, loan.due)
    promised = sorted(
        (x for x in holding if x.status == "accepted" and x.due >= day),
        key=lambda x: (x.start, x.id),
    )
    if promised and promised[0].start <= day:
        return ItemStatus("reserved", promised[0].start, promised[0].due)
    kind = "available" if item.available else "unavailable"
    if promised:
        return ItemStatus(kind, next_start=promised[0].start, next_due=promised[0].due)
    return ItemStatus(kind)


def item_statuses(items: list[Item] | list[ItemCard]) -> dict[int, ItemStatus]:
    """``status_from`` for a page of objects, in one query."""
    if not items:
        return {}
    loans = db.session.scalars(holding_loans(i.id for i in items)).all()
    day = today()
    return {item.id: status_from(item, loans, day) for item in items}


def upcoming_loans(item_ids: list[int]) -> dict[int, list[Loan]]:
    """``item_loans(upcoming_only=True)`` for a page of objects, in one query."""
    found: dict[int, list[Loan]] = {i: [] for i in item_ids}
    if not item_ids:
        return found
    stmt = (
        select(Loan)
        .where(Loan.item_id.in_(item_ids), _upcoming())
        .order_by(Loan.item_id, Loan.start, Loan.id)
    )
    for loan in db.session.scalars(stmt):
        found[loan.item_id].append(loan)
    return found


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
