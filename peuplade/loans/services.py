"""Writes on lendable objects and loans: offer, edit, delete an object; ask, accept,
decline, hand over, return, cancel a loan.

Each lifecycle step is allowed to one party from one state: anything else is a
Forbidden (403) or a Conflict (409). Two accepted loans of one object can never
overlap: the database refuses it (see models/loan.py), and a refusal is a Conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from peuplade import categories, database
from peuplade.errors import Conflict, Forbidden, NotFound, ValidationFailed
from peuplade.extensions import db
from peuplade.localtime import today
from peuplade.models import (
    CONDITIONS,
    HOLDING,
    MAX_LOAN_DAYS,
    RADIUS_MAX_M,
    Item,
    Loan,
    Member,
    utcnow,
)
from peuplade.moderation import limits
from peuplade.notifications import services as notifications
from peuplade.posts import services as posts
from peuplade.submissions import clean_submission_key, write_once
from peuplade.validation import checked_text, collect

TITLE_MAX = 120
DESCRIPTION_MAX = 4000
NOTES_MAX = 1000
MESSAGE_MAX = 1000


@dataclass
class ItemInput:
    """What a lender typed; None means "not given" (on edit: keep as is)."""

    title: str | None = None
    description: str | None = None
    category: str | None = None
    condition: str | None = None
    notes: str | None = None
    available: bool | None = None
    # The offering form's random token (submissions.new_submission_key): sent twice, one object.
    submission_key: str | None = None


def _category(value: str | None) -> str:
    if value not in categories.SLUGS:
        msg = _l("Choisissez une catégorie de la liste.")
        raise ValidationFailed(msg, {"category": msg})
    return value


def _condition(value: str | None) -> str:
    if value not in CONDITIONS:
        msg = _l("Choisissez un état de la liste.")
        raise ValidationFailed(msg, {"condition": msg})
    return value


def _checks(data: ItemInput, creating: bool) -> dict:
    checks = {}
    if creating or data.title is not None:
        checks["title"] = lambda: checked_text(data.title, "title", TITLE_MAX, 3)
    if creating or data.description is not None:
        checks["description"] = lambda: checked_text(
            data.description, "description", DESCRIPTION_MAX
        )
    if creating or data.category is not None:
        checks["category"] = lambda: _category(data.category)
    if data.condition is not None or creating:
        checks["condition"] = lambda: _condition(data.condition or "bon")
    if creating or data.notes is not None:
        checks["notes"] = lambda: checked_text(data.notes, "notes", NOTES_MAX)
    return checks


def offer_item(lender: Member, data: ItemInput) -> Item:
    """Put an object on the shelf, at the lender's public position, within their radius.
    The same form sent twice (``data.submission_key``) gives the first object back."""
    key = clean_submission_key(data.submission_key)
    earlier = posts.published_with(lender, key, Item)
    if earlier is not None:
        return earlier
    limits.check_new_account_posts(lender)
    values, errors = collect(_checks(data, creating=True))
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    now = utcnow()
    item = Item(
        author=lender,
        position=lender.public_position,
        # Only the borrower's radius decides who sees an object (the rule).
        reach_m=RADIUS_MAX_M,
        status="open",
        available=True if data.available is None else bool(data.available),
        created_at=now,
        updated_at=now,
        # Leaves the lists after a while unless the lender keeps it ("still lendable?").
        expires_at=now + notifications.ITEM_LIFETIME,
        submission_key=key,
        **values,
    )
    return posts.add_once(item)[0]


def _require_lender(item: Item, member: Member) -> None:
    if item.author_id != member.id:
        raise Forbidden(_l("Seule la personne qui prête cet objet peut faire cela."))


def update_item(item: Item, lender: Member, data: ItemInput) -> Item:
    """Change the given fields of one's own object (all checked first)."""
    _require_lender(item, lender)
    values, errors = collect(_checks(data, creating=False))
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    for name, value in values.items():
        setattr(item, name, value)
    if data.available is not None:
        item.available = bool(data.available)
    item.updated_at = utcnow()
    db.session.flush()
    return item


def _holding_loan(item: Item) -> bool:
    return db.session.scalar(
        select(exists().where(Loan.item_id == item.id, Loan.status.in_(HOLDING)))
    )


def delete_item(item: Item, lender: Member) -> None:
    """Remove one's object, unless a loan is accepted or under way."""
    _require_lender(item, lender)
    if _holding_loan(item):
        raise Conflict(
            _l("Cet objet est prêté ou promis : attendez son retour, ou annulez le prêt.")
        )
    notifications.forget("item", item.id)
    for loan_id in db.session.scalars(select(Loan.id).where(Loan.item_id == item.id)):
        notifications.forget("loan", loan_id)
    db.session.delete(item)
    db.session.flush()


def clean_loan_period(start: date | None, due: date | None) -> tuple[date, date]:
    errors: dict[str, object] = {}
    first = today()
    if start is None:
        errors["start"] = _l("Indiquez le premier jour.")
    elif start < first:
        errors["start"] = _l("Cette date est passée.")
    elif start > first + timedelta(days=posts.MAX_DAYS_AHEAD):
        errors["start"] = _l("Choisissez une date dans l'année qui vient.")
    if due is None:
        errors["due"] = _l("Indiquez le jour du retour.")
    elif start is not None and due < start:
        errors["due"] = _l("Le retour doit venir après le premier jour.")
    elif start is not None and (due - start).days + 1 > MAX_LOAN_DAYS:
        errors["due"] = _l("Un prêt dure %(n)s jours au plus.", n=MAX_LOAN_DAYS)
    if errors:
        raise ValidationFailed(_l("Vérifiez les dates."), errors)
    return start, due  # type: ignore[return-value]


def _overlapping_holding_loan(item: Item, start: date, due: date) -> bool:
    return db.session.scalar(
        select(
            exists().where(
                Loan.item_id == item.id,
                Loan.status.in_(HOLDING),
                Loan.start <= due,
                Loan.due >= start,
            )
        )
    )


def request_loan(
    item: Item, borrower: Member, start: date | None, due: date | None, message: str | None = ""
) -> Loan:
    """Ask to borrow an object for a period. Requests may overlap each other; a period
    already promised to someone else is refused at once. Asking again for the same
    period while the request waits (a double click) gives that request back."""
    if item.author_id == borrower.id:
        raise Forbidden(_l("C'est votre propre objet."))
    if limits.is_blocked(item.author_id, borrower.id):  # not told: as if out of reach
        raise NotFound(_l("Cet objet n'existe pas, ou n'est pas dans votre voisinage."))
    if not item.available:
        raise Conflict(_l("Cet objet n'est pas disponible en ce moment."))
    values, errors = collect(
        {
            "period": lambda: clean_loan_period(start, due),
            "message": lambda: checked_text(message, "message", MESSAGE_MAX),
        }
    )
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    start, due = values["period"]
    if _overlapping_holding_loan(item, start, due):
        raise Conflict(_l("L'objet est déjà prêté pendant ces dates : choisissez-en d'autres."))

    def add() -> Loan:
        loan = Loan(
            item=item,
            lender_id=item.author_id,
            borrower=borrower,
            start=start,
            due=due,
            status="requested",
            message=values["message"],
        )
        db.session.add(loan)
        db.session.flush()
        return loan

    loan, created = write_once(lambda: waiting_request(item, borrower, start, due), add)
    if created:
        _tell(loan, loan.lender_id, "loan_requested", borrower)
    return loan


def waiting_request(item: Item, borrower: Member, start: date, due: date) -> Loan | None:
    """The borrower's request for this object and period still waiting for an answer
    (one at most: the index ix_loans_requested_once)."""
    return db.session.scalar(
        select(Loan).where(
            Loan.item_id == item.id,
            Loan.borrower_id == borrower.id,
            Loan.start == start,
            Loan.due == due,
            Loan.status == "requested",
        )
    )


def _tell(loan: Loan, recipient_id: int, kind: str, actor: Member) -> None:
    notifications.notify(
        recipient_id,
        kind,
        actor=actor,
        subject=("loan", loan.id),
        title=loan.item.title,
        detail=loan.due.isoformat(),
    )


def _step(loan: Loan, actor: Member, allowed: tuple[str, ...], from_states: tuple[str, ...]):
    """Check who acts and from which state (403, then 409)."""
    parties = {"lender": loan.lender_id, "borrower": loan.borrower_id}
    if actor.id not in {parties[p] for p in allowed}:
        raise Forbidden(_l("Ce n'est pas à vous de faire cette étape du prêt."))
    if loan.status not in from_states:
        raise Conflict(
            _l(
                "Ce prêt n'en est plus là. Où il en est : %(status)s.",
                status=status_label(loan, actor),
            )
        )


def _flush_guarded() -> None:
    """Flush; the database's overlap guard firing means someone else got these dates.
    So does a deadlock here: two overlapping loans accepted at once each wait for the
    other's row in the guard's index, and PostgreSQL aborts one of them (seen in CI)."""
    database.flush(
        _l("Ces dates viennent d'être promises à quelqu'un d'autre pour cet objet."),
        deadlock_is_twin=True,
    )


def accept(loan: Loan, lender: Member) -> Loan:
    _step(loan, lender, ("lender",), ("requested",))
    if _overlapping_holding_loan(loan.item, loan.start, loan.due):
        raise Conflict(_l("L'objet est déjà promis pendant ces dates."))
    loan.status = "accepted"
    loan.decided_at = utcnow()
    _flush_guarded()
    _tell(loan, loan.borrower_id, "loan_accepted", lender)
    return loan


def decline(loan: Loan, lender: Member) -> Loan:
    _step(loan, lender, ("lender",), ("requested",))
    loan.status = "declined"
    loan.decided_at = utcnow()
    db.session.flush()
    _tell(loan, loan.borrower_id, "loan_declined", lender)
    return loan


def may_hand_over(loan: Loan, day: date) -> bool:
    """The hand-over is noted from the loan's first (local) day on, not before."""
    return loan.status == "accepted" and day >= loan.start


def hand_over(loan: Loan, lender: Member) -> Loan:
    """The lender gives the object: the loan is now under way (from its first day)."""
    _step(loan, lender, ("lender",), ("accepted",))
    if today() < loan.start:
        raise Conflict(
            _l(
                "Le prêt commence le %(day)s : vous pourrez noter la remise de l'objet "
                "à partir de ce jour-là.",
                day=format_date(loan.start, "long"),
            )
        )
    loan.status = "lent"
    loan.lent_at = utcnow()
    db.session.flush()
    _tell(loan, loan.borrower_id, "loan_handed_over", lender)
    return loan


def mark_returned(loan: Loan, lender: Member) -> Loan:
    """The lender confirms the object is back."""
    _step(loan, lender, ("lender",), ("lent",))
    loan.status = "returned"
    loan.returned_at = utcnow()
    db.session.flush()
    _tell(loan, loan.borrower_id, "loan_returned", lender)
    return loan


def cancel(loan: Loan, member: Member) -> Loan:
    """Either side calls it off, before the hand-over."""
    _step(loan, member, ("lender", "borrower"), ("requested", "accepted"))
    loan.status = "cancelled"
    loan.decided_at = utcnow()
    db.session.flush()
    other = loan.borrower_id if member.id == loan.lender_id else loan.lender_id
    _tell(loan, other, "loan_cancelled", member)
    return loan


STEPS = {
    "accept": accept,
    "decline": decline,
    "handover": hand_over,
    "return": mark_returned,
    "cancel": cancel,
}


def status_label(loan: Loan, viewer: Member | None = None) -> str:
    """Where a loan is, as a plain sentence; a request reads differently for the lender
    (who must answer it) and for the borrower (who waits)."""
    if loan.overdue_on(today()):
        return str(_l("En retard"))
    if loan.status == "requested":
        if viewer is not None and viewer.id == loan.lender_id:
            return str(_l("Demande reçue, à vous de répondre"))
        return str(_l("Demande envoyée, en attente de réponse"))
    labels = {
        "accepted": _l("Accepté, l'objet n'est pas encore remis"),
        "declined": _l("Demande refusée"),
        "lent": _l("Prêté"),
        "returned": _l("Rendu"),
        "cancelled": _l("Annulé"),
    }
    return str(labels.get(loan.status, loan.status))
