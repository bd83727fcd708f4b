"""Loans: the lifecycle, every forbidden step, the overlap rule held by the database
itself (also under concurrent accepts on PostgreSQL), and scoping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from peuplade import localtime
from peuplade.errors import Conflict, Forbidden, NotFound, ValidationFailed
from peuplade.extensions import db
from peuplade.loans import queries, services
from peuplade.localtime import today
from peuplade.models import Item, Loan
from tests.conftest import CLICHY, DAMES_LEMERCIER, FAR_AWAY


def _item(lender, **overrides) -> Item:
    data = {
        "title": "Perceuse à percussion",
        "description": "Avec mèches béton.",
        "category": "bricolage",
    }
    data.update(overrides)
    item = services.offer_item(lender, services.ItemInput(**data))
    db.session.commit()
    return item


def _days(a: int, b: int):
    return today() + timedelta(days=a), today() + timedelta(days=b)


@pytest.fixture
def people(make_member):
    lender = make_member("Prêteuse", at=DAMES_LEMERCIER)
    borrower = make_member("Emprunteur", at=CLICHY)
    other = make_member("Autre", at=CLICHY)
    return lender, borrower, other


def test_full_lifecycle_and_history(app, people):
    lender, borrower, _ = people
    item = _item(lender)
    # From today: the hand-over is noted from the loan's first day.
    loan = services.request_loan(item, borrower, *_days(0, 2), "Pour des étagères.")
    db.session.commit()
    assert loan.status == "requested"
    for step in (services.accept, services.hand_over, services.mark_returned):
        step(loan, lender)
        db.session.commit()
    assert loan.status == "returned" and loan.returned_at is not None
    assert queries.times_lent(lender.id) == 1
    assert queries.times_borrowed(borrower.id) == 1
    assert queries.item_history_count(item) == 1


@pytest.mark.parametrize(
    ("status", "step", "actor", "expected"),
    [
        ("requested", "accept", "borrower", Forbidden),
        ("requested", "handover", "lender", Conflict),
        ("requested", "return", "lender", Conflict),
        ("accepted", "accept", "lender", Conflict),
        ("accepted", "decline", "lender", Conflict),
        ("accepted", "return", "lender", Conflict),
        ("accepted", "handover", "borrower", Forbidden),
        ("lent", "cancel", "borrower", Conflict),
        ("lent", "cancel", "lender", Conflict),
        ("lent", "return", "borrower", Forbidden),
        ("declined", "accept", "lender", Conflict),
        ("returned", "handover", "lender", Conflict),
        ("cancelled", "accept", "lender", Conflict),
        ("requested", "cancel", "other", Forbidden),
    ],
)
def test_every_wrong_step_is_refused_and_changes_nothing(
    app, people, status, step, actor, expected
):
    lender, borrower, other = people
    item = _item(lender)
    loan = services.request_loan(item, borrower, *_days(0, 2))
    path = {
        "accepted": ["accept"],
        "lent": ["accept", "handover"],
        "returned": ["accept", "handover", "return"],
        "declined": ["decline"],
        "cancelled": ["cancel"],
    }.get(status, [])
    for done in path:
        services.STEPS[done](loan, lender)
    db.session.commit()
    who = {"lender": lender, "borrower": borrower, "other": other}[actor]
    with pytest.raises(expected):
        services.STEPS[step](loan, who)
    db.session.rollback()
    assert db.session.get(Loan, loan.id).status == status


def test_either_side_cancels_before_hand_over(app, people):
    lender, borrower, _ = people
    item = _item(lender)
    first = services.request_loan(item, borrower, *_days(1, 2))
    second = services.request_loan(item, borrower, *_days(5, 6))
    services.cancel(first, borrower)
    services.accept(second, lender)
    services.cancel(second, lender)
    db.session.commit()
    assert (first.status, second.status) == ("cancelled", "cancelled")


@pytest.mark.parametrize(
    ("dates", "field"),
    [
        ((-1, 2), "start"),  # starts in the past
        ((3, 2), "due"),  # due before start
        ((1, 61), "due"),  # 61 days
        ((None, 2), "start"),
        ((1, None), "due"),
    ],
)
def test_bad_periods_are_refused_with_nothing_written(app, people, dates, field):
    lender, borrower, _ = people
    item = _item(lender)
    start = None if dates[0] is None else today() + timedelta(days=dates[0])
    due = None if dates[1] is None else today() + timedelta(days=dates[1])
    with pytest.raises(ValidationFailed) as err:
        services.request_loan(item, borrower, start, due)
    assert field in err.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Loan)) == 0


def test_sixty_days_is_the_longest_loan(app, people):
    lender, borrower, _ = people
    loan = services.request_loan(_item(lender), borrower, *_days(0, 59))
    assert (loan.due - loan.start).days + 1 == 60


def test_own_object_and_unavailable_object_cannot_be_borrowed(app, people):
    lender, borrower, _ = people
    item = _item(lender)
    with pytest.raises(Forbidden):
        services.request_loan(item, lender, *_days(1, 2))
    services.update_item(item, lender, services.ItemInput(available=False))
    with pytest.raises(Conflict):
        services.request_loan(item, borrower, *_days(1, 2))


def test_overlapping_requests_may_exist_but_only_one_is_accepted(app, people):
    lender, borrower, other = people
    item = _item(lender)
    a = services.request_loan(item, borrower, *_days(1, 5))
    b = services.request_loan(item, other, *_days(3, 8))
    c = services.request_loan(item, other, *_days(6, 9))
    db.session.commit()
    services.accept(a, lender)
    db.session.commit()
    with pytest.raises(Conflict):
        services.accept(b, lender)
    db.session.rollback()
    services.accept(c, lender)  # 6-9 does not overlap 1-5
    db.session.commit()
    # A new request over promised dates is refused at once.
    with pytest.raises(Conflict):
        services.request_loan(item, other, *_days(4, 4))


def test_the_database_itself_refuses_overlapping_holding_loans(app, people):
    """Even a write that skips the services' checks cannot break the rule."""
    lender, borrower, other = people
    item = _item(lender)
    start, due = _days(1, 5)
    db.session.add(
        Loan(
            item=item,
            lender_id=lender.id,
            borrower=borrower,
            start=start,
            due=due,
            status="accepted",
        )
    )
    db.session.commit()
    db.session.add(
        Loan(
            item=item,
            lender_id=lender.id,
            borrower=other,
            start=start + timedelta(days=4),
            due=due + timedelta(days=3),
            status="lent",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Touching dates (the day after due) are fine; so are non-holding states.
    db.session.add(
        Loan(
            item=item,
            lender_id=lender.id,
            borrower=other,
            start=due + timedelta(days=1),
            due=due + timedelta(days=2),
            status="accepted",
        )
    )
    db.session.add(
        Loan(
            item=item, lender_id=lender.id, borrower=other, start=start, due=due, status="requested"
        )
    )
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Loan)) == 3


@pytest.mark.postgis_only
def test_two_accepts_at_the_same_instant_exactly_one_wins(make_app, make_member):
    """Two lender sessions accept two overlapping requests at once (PostgreSQL)."""
    app = make_app()
    with app.app_context():
        lender = make_member("Prêteuse", at=DAMES_LEMERCIER)
        a = make_member("Alix", at=CLICHY)
        b = make_member("Bruno", at=CLICHY)
        item = _item(lender)
        first = services.request_loan(item, a, *_days(1, 5))
        second = services.request_loan(item, b, *_days(2, 6))
        db.session.commit()
        ids = (lender.id, first.id, second.id)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(loan_id: int) -> None:
        with app.app_context():
            from peuplade.models import Member

            me = db.session.get(Member, ids[0])
            loan = db.session.get(Loan, loan_id)
            # Both pass the Python check before either commits: only the database decides.
            db.session.execute(text("SELECT 1"))
            barrier.wait()
            try:
                loan.status = "accepted"
                services._flush_guarded()
                db.session.commit()
                outcomes.append("accepted")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()
            assert me

    threads = [threading.Thread(target=accept, args=(i,)) for i in ids[1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["accepted", "conflict"]
    with app.app_context():
        held = db.session.scalar(
            select(func.count()).select_from(Loan).where(Loan.status == "accepted")
        )
        assert held == 1


def test_objects_are_scoped_to_my_radius(app, make_member):
    lender = make_member("Prêteuse", at=DAMES_LEMERCIER)
    near = make_member("Proche", at=CLICHY, radius_m=1000)
    far = make_member("Loin", at=FAR_AWAY, radius_m=1000)
    item = _item(lender)
    assert [i.id for i in db.session.scalars(queries.near_me(near))] == [item.id]
    assert list(db.session.scalars(queries.near_me(far))) == []
    with pytest.raises(NotFound):
        queries.get_item_or_404(far, item.id)
    assert queries.get_item_or_404(lender, item.id) == item


def test_a_loan_is_visible_to_its_two_parties_only(app, people):
    lender, borrower, other = people
    loan = services.request_loan(_item(lender), borrower, *_days(1, 2))
    db.session.commit()
    assert queries.get_loan_or_404(lender, loan.id) == loan
    assert queries.get_loan_or_404(borrower, loan.id) == loan
    with pytest.raises(NotFound):
        queries.get_loan_or_404(other, loan.id)


def test_deleting_an_object_with_a_current_loan_is_refused(app, people):
    lender, borrower, _ = people
    item = _item(lender)
    loan = services.request_loan(item, borrower, *_days(0, 2))
    services.accept(loan, lender)
    db.session.commit()
    with pytest.raises(Conflict):
        services.delete_item(item, lender)
    services.hand_over(loan, lender)
    services.mark_returned(loan, lender)
    services.delete_item(item, lender)
    db.session.commit()
    assert db.session.get(Item, item.id) is None


def test_overdue_shows_to_both_sides(app, people):
    lender, borrower, _ = people
    loan = services.request_loan(_item(lender), borrower, *_days(0, 1))
    services.accept(loan, lender)
    services.hand_over(loan, lender)
    loan.due = today() - timedelta(days=1)  # the due date has passed
    loan.start = today() - timedelta(days=3)
    db.session.commit()
    assert loan.overdue_on(today())
    assert services.status_label(loan) == "En retard"
    assert [x.id for x in db.session.scalars(queries.overdue(lender))] == [loan.id]
    assert [x.id for x in db.session.scalars(queries.overdue(borrower))] == [loan.id]


def test_bad_objects_are_refused(app, make_member):
    lender = make_member("Prêteuse")
    for overrides, field in (
        ({"title": ""}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"category": "fusées"}, "category"),
        ({"condition": "cassé"}, "condition"),
        ({"description": "x" * 4001}, "description"),
    ):
        with pytest.raises(ValidationFailed) as err:
            _item(lender, **overrides)
        assert field in err.value.fields
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Item)) == 0


# --- issue 21: the history, the status, the hand-over day ------------------------------


def test_the_history_counts_every_loan_handed_over_not_requests_or_promises(app, people):
    lender, borrower, other = people
    item = _item(lender)
    assert queries.item_history_count(item) == 0
    returned = services.request_loan(item, borrower, *_days(0, 1))
    services.accept(returned, lender)
    services.hand_over(returned, lender)
    services.mark_returned(returned, lender)
    out = services.request_loan(item, other, *_days(2, 3))
    services.accept(out, lender)
    out.start = today()  # its first day has come
    services.hand_over(out, lender)
    out.due = today() - timedelta(days=1)
    out.start = today() - timedelta(days=2)  # and now it is overdue
    services.accept(services.request_loan(item, borrower, *_days(10, 11)), lender)
    services.decline(services.request_loan(item, borrower, *_days(12, 13)), lender)
    services.cancel(services.request_loan(item, borrower, *_days(14, 15)), borrower)
    services.request_loan(item, other, *_days(16, 17))
    db.session.commit()
    assert out.overdue_on(today())
    assert queries.item_history_count(item) == 2


def _loan_at(item, borrower, status, start, due):
    return Loan(
        item_id=item.id,
        lender_id=item.author_id,
        borrower_id=borrower.id,
        status=status,
        start=today() + timedelta(days=start),
        due=today() + timedelta(days=due),
    )


def test_one_rule_for_an_objects_status(app, people):
    lender, borrower, _ = people
    item = _item(lender)
    day = today()

    def status(*loans):
        return queries.status_from(item, loans, day)

    assert status() == queries.ItemStatus("available")
    assert status(_loan_at(item, borrower, "requested", 0, 2)).kind == "available"
    assert status(_loan_at(item, borrower, "returned", -5, -1)).kind == "available"
    coming = _loan_at(item, borrower, "accepted", 3, 5)
    later = _loan_at(item, borrower, "accepted", 8, 9)
    assert status(later, coming) == queries.ItemStatus(
        "available", next_start=coming.start, next_due=coming.due
    )
    begun = _loan_at(item, borrower, "accepted", -1, 1)
    assert status(begun, coming) == queries.ItemStatus("reserved", begun.start, begun.due)
    stale = _loan_at(item, borrower, "accepted", -5, -2)  # never handed over, period over
    assert status(stale).kind == "available"
    out = _loan_at(item, borrower, "lent", -1, 1)
    assert status(out, coming) == queries.ItemStatus("lent", out.start, out.due)
    late = _loan_at(item, borrower, "lent", -9, -1)
    assert status(late, coming) == queries.ItemStatus("overdue", late.start, late.due)
    item.available = False
    assert status(late).kind == "overdue"  # out beats the switch
    assert status() == queries.ItemStatus("unavailable")
    assert status(coming).next_start == coming.start
    # The one query for a page of objects gives the same answer.
    item.available = True
    db.session.add(_loan_at(item, borrower, "lent", -9, -1))
    db.session.commit()
    assert queries.item_statuses([item])[item.id].kind == "overdue"


def test_the_hand_over_waits_for_the_first_local_day(app, people, monkeypatch):
    lender, borrower, _ = people
    loan = services.request_loan(_item(lender), borrower, *_days(1, 3))
    services.accept(loan, lender)
    db.session.commit()
    with pytest.raises(Conflict, match="à partir de ce jour-là"):
        services.hand_over(loan, lender)
    db.session.rollback()
    assert db.session.get(Loan, loan.id).status == "accepted"
    assert not services.may_hand_over(loan, today())
    # 23:30 UTC the evening before is already the first day in Paris: the local day counts.
    monkeypatch.setitem(app.config, "TIMEZONE", "Europe/Paris")
    first = loan.start
    evening_before = datetime.combine(first - timedelta(days=1), time(23, 30), tzinfo=UTC)
    monkeypatch.setattr(localtime, "utcnow", lambda: evening_before)
    assert localtime.today() == first
    assert services.may_hand_over(loan, localtime.today())
    services.hand_over(loan, lender)
    db.session.commit()
    assert loan.status == "lent"


def test_statuses_are_plain_sentences_and_the_request_reads_for_each_side(app, people):
    lender, borrower, _ = people
    loan = services.request_loan(_item(lender), borrower, *_days(0, 2))
    assert services.status_label(loan, lender) == "Demande reçue, à vous de répondre"
    assert services.status_label(loan, borrower) == "Demande envoyée, en attente de réponse"
    words = {}
    for step, status in (("accept", "accepted"), ("handover", "lent"), ("return", "returned")):
        services.STEPS[step](loan, lender)
        words[status] = services.status_label(loan, borrower)
    assert words == {
        "accepted": "Accepté, l'objet n'est pas encore remis",
        "lent": "Prêté",
        "returned": "Rendu",
    }
