"""Notifications in the app: every kind reaches the right member (and only them),
reminders are made once, the bell counts, settings decide the email state, and
"still needed?" keeps a post listed. Both backends. Emails: test_notifications_email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from peuplade import geo
from peuplade.events import services as events
from peuplade.exchanges import queries as exchange_queries
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import queries as loan_queries
from peuplade.loans import services as loans
from peuplade.localtime import today
from peuplade.location import LocationInput
from peuplade.messages import services as messages
from peuplade.models import Item, Loan, Notification, Place, Post, utcnow
from peuplade.notifications import queries, scheduled, services
from peuplade.notifications.kinds import KINDS
from tests.conftest import BATIGNOLLES, CLICHY, DAMES_LEMERCIER, FAR_AWAY


def _of(member, kind=None) -> list[Notification]:
    stmt = select(Notification).where(Notification.member_id == member.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def _kinds(member) -> list[str]:
    return [n.kind for n in _of(member)]


def _request(author, title="Monter un canapé", category="demenagement", **extra):
    exchange = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(
            kind=extra.pop("kind", "request"),
            title=title,
            body="Au 3e sans ascenseur.",
            category=category,
            **extra,
        ),
    )
    db.session.commit()
    return exchange


def _item(lender, title="Perceuse"):
    item = loans.offer_item(lender, loans.ItemInput(title=title, category="bricolage"))
    db.session.commit()
    return item


@pytest.fixture
def anne_bruno(make_member):
    return make_member("Anne", at=DAMES_LEMERCIER), make_member("Bruno", at=CLICHY)


def test_response_picked_and_thanks_reach_the_right_people(app, anne_bruno, make_member):
    anne, bruno = anne_bruno
    carla = make_member("Carla", at=BATIGNOLLES)
    request = _request(anne)
    exchanges.respond(request, bruno, "Je peux samedi.")
    exchanges.respond(request, carla, "Moi aussi.")
    db.session.commit()
    responses = _of(anne, "response")
    assert [(n.actor_id, n.subject_type, n.subject_id) for n in responses] == [
        (bruno.id, "exchange", request.id),
        (carla.id, "exchange", request.id),
    ]
    assert queries.sentence(responses[0]) == (
        "Bruno a répondu à votre annonce « Monter un canapé »."
    )
    exchanges.close_exchange(request, anne, "done", bruno.id)
    db.session.commit()
    assert _kinds(bruno) == ["picked"] and _kinds(carla) == []
    exchanges.thank(request, anne, "Merci Bruno !")
    exchanges.thank(request, bruno, "Avec plaisir.")
    db.session.commit()
    assert _kinds(bruno) == ["picked", "thanks"]
    assert _of(anne, "thanks")[0].actor_id == bruno.id


def test_every_loan_step_tells_the_other_side(app, anne_bruno):
    lender, borrower = anne_bruno
    item = _item(lender)
    # From today: a hand-over is noted from the loan's first day.
    start, due = today(), today() + timedelta(days=4)
    loan = loans.request_loan(item, borrower, start, due, "Pour une étagère.")
    db.session.commit()
    assert _kinds(lender) == ["loan_requested"]
    for step in (loans.accept, loans.hand_over, loans.mark_returned):
        step(loan, lender)
        db.session.commit()
    assert _kinds(borrower) == ["loan_accepted", "loan_handed_over", "loan_returned"]
    handed = _of(borrower, "loan_handed_over")[0]
    assert handed.detail == due.isoformat() and (handed.subject_type, handed.subject_id) == (
        "loan",
        loan.id,
    )
    assert queries.target(handed) == ("loans.my_loans", {})

    declined = loans.request_loan(item, borrower, start, due, "")
    loans.decline(declined, lender)
    cancelled = loans.request_loan(item, borrower, start, due, "")
    loans.cancel(cancelled, borrower)
    db.session.commit()
    assert _kinds(borrower)[-1] == "loan_declined"
    assert _kinds(lender) == ["loan_requested"] * 3 + ["loan_cancelled"]


def _lent(lender, borrower, due_in_days: int) -> Loan:
    item = _item(lender, title=f"Escabeau {due_in_days}")
    loan = loans.request_loan(item, borrower, today(), today() + timedelta(days=2), "")
    loans.accept(loan, lender)
    loans.hand_over(loan, lender)
    db.session.commit()
    # Move the period so the loan is due when the test wants (the services refuse past
    # dates, as they should).
    due = today() + timedelta(days=due_in_days)
    db.session.execute(
        update(Loan).where(Loan.id == loan.id).values(start=due - timedelta(days=3), due=due)
    )
    db.session.commit()
    db.session.refresh(loan)
    return loan


def test_due_tomorrow_and_overdue_reminders_are_made_once(app, anne_bruno):
    lender, borrower = anne_bruno
    tomorrow = _lent(lender, borrower, 1)
    late = _lent(lender, borrower, -2)
    in_time = _lent(lender, borrower, 0)
    made = scheduled.make_reminders()
    assert made["loan_due_tomorrow"] == 1 and made["loan_overdue"] == 1
    assert scheduled.make_reminders() == {"loan_due_tomorrow": 0, "loan_overdue": 0, "nudge": 0}
    reminders = {n.subject_id: n.kind for n in _of(borrower) if n.kind.startswith("loan_d")} | {
        n.subject_id: n.kind for n in _of(borrower, "loan_overdue")
    }
    assert reminders == {tomorrow.id: "loan_due_tomorrow", late.id: "loan_overdue"}
    assert in_time.id not in reminders
    overdue = _of(borrower, "loan_overdue")[0]
    assert overdue.actor_id == lender.id
    assert "Escabeau -2" in queries.sentence(overdue)
    assert _of(lender, "loan_overdue") == []


def test_a_new_message_notifies_once_per_unread_conversation(app, anne_bruno):
    anne, bruno = anne_bruno
    talk = messages.start(anne, bruno, "Bonjour Bruno")
    db.session.commit()
    messages.write(talk, anne, "Vous êtes là samedi ?")
    db.session.commit()
    assert _kinds(bruno) == ["message"] and _kinds(anne) == []
    assert queries.target(_of(bruno)[0]) == ("messages.show", {"conversation_id": talk.id})
    messages.mark_read(talk, bruno)
    db.session.commit()
    assert queries.unread_count(bruno) == 0
    messages.write(talk, anne, "Encore moi")
    db.session.commit()
    assert _kinds(bruno) == ["message", "message"]
    assert queries.unread_count(bruno) == 1


def test_an_rsvp_tells_the_organiser_once(app, anne_bruno):
    anne, bruno = anne_bruno
    place = Place(
        name="Square des Batignolles",
        source_ref="test:square",
        position=geo.to_element(geo.lat_lon(*BATIGNOLLES)),
    )
    db.session.add(place)
    db.session.commit()
    event = events.create_event(
        anne,
        events.EventInput(
            title="Pique-nique",
            body="Chacun apporte un plat.",
            starts_at=utcnow() + timedelta(days=3),
            location=LocationInput(place_id=place.id),
        ),
    )
    db.session.commit()
    events.rsvp(event, bruno, True)
    events.rsvp(event, bruno, True)  # again: nothing new
    events.rsvp(event, anne, True)  # the organiser herself: not told
    db.session.commit()
    assert _kinds(anne) == ["rsvp"]
    assert queries.target(_of(anne)[0]) == ("events.show", {"event_id": event.id})


def test_a_new_request_reaches_neighbours_who_know_how(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER, skills=["bricolage"])
    handy = make_member("Bricoleur", at=CLICHY, skills=["bricolage"])
    small_radius = make_member("Pas si loin", at=BATIGNOLLES, radius_m=200, skills=["bricolage"])
    other_skill = make_member("Jardinière", at=CLICHY, skills=["jardinage"])
    far = make_member("Loin", at=FAR_AWAY, radius_m=5000, skills=["bricolage"])
    same_building = make_member("Voisine", at=DAMES_LEMERCIER, skills=["bricolage"])
    request = _request(author, "Fixer une étagère", "bricolage")
    told = {n.member_id for n in db.session.scalars(select(Notification))}
    assert told == {handy.id, same_building.id}
    assert author.id not in told and small_radius.id not in told
    assert far.id not in told and other_skill.id not in told
    note = _of(handy)[0]
    assert (note.kind, note.actor_id, note.subject_id) == (
        "matching_request",
        author.id,
        request.id,
    )
    # The same rule as the member's own "for you" list.
    assert [e.id for e in db.session.scalars(exchange_queries.for_you(handy))] == [request.id]
    # Offers are not requests: nobody is told.
    _request(author, "Je prête mes outils", "bricolage", kind="offer")
    assert len(_of(handy)) == 1


def test_matching_notifications_are_capped_nearest_first(make_app, make_member):
    app = make_app(NOTIFY_MATCHING_MAX=2)
    with app.app_context():
        author = make_member("Autrice", at=DAMES_LEMERCIER)
        near = make_member("Proche", at=DAMES_LEMERCIER, skills=["bricolage"])
        mid = make_member("Moyen", at=CLICHY, skills=["bricolage"])
        farther = make_member("Plus loin", at=(48.8790, 2.3120), skills=["bricolage"])
        _request(author, "Fixer une étagère", "bricolage")
        told = [n.member_id for n in db.session.scalars(select(Notification))]
        assert sorted(told) == sorted([near.id, mid.id]) and farther.id not in told


def test_the_email_mode_follows_the_members_settings(app, anne_bruno, make_member):
    anne, bruno = anne_bruno
    handy = make_member("Bricoleur", at=CLICHY, skills=["bricolage"])
    assert services.settings_of(anne) == {name: kind.default for name, kind in KINDS.items()}
    services.choose_emails(anne, {"response": "off", "thanks": "digest"})
    db.session.commit()
    request = _request(anne, "Fixer une étagère", "bricolage")
    exchanges.respond(request, bruno, "Je viens.")
    db.session.commit()
    assert _of(anne, "response")[0].email_state == "none"
    assert _of(handy, "matching_request")[0].email_state == "digest"  # its default
    talk = messages.start(bruno, anne, "Bonjour")
    db.session.commit()
    assert _of(anne, "message")[0].email_state == "pending"
    with pytest.raises(Exception) as err:
        services.choose_emails(anne, {"response": "parfois", "inconnu": "on"})
    assert set(err.value.fields) == {"response", "inconnu"}
    assert talk.id


def test_mark_read_touches_only_my_notifications(app, anne_bruno):
    anne, bruno = anne_bruno
    messages.start(anne, bruno, "Bonjour")
    messages.start(bruno, anne, "Bonjour aussi")
    db.session.commit()
    assert services.mark_read(anne) == 1
    db.session.commit()
    assert queries.unread_count(anne) == 0 and queries.unread_count(bruno) == 1


# --- "still needed?" -------------------------------------------------------------


def _expire_in(post, delta: timedelta) -> None:
    db.session.execute(update(Post).where(Post.id == post.id).values(expires_at=utcnow() + delta))
    db.session.commit()
    db.session.refresh(post)


def test_nudges_go_to_undated_posts_about_to_leave_the_lists(app, anne_bruno):
    anne, _ = anne_bruno
    soon = _request(anne, "Promener mon chien", "animaux")
    later = _request(anne, "Arroser les plantes", "jardinage")
    dated = _request(anne, "Aide au déménagement", "demenagement", ends_on=today())
    item = _item(anne, "Tondeuse")
    _expire_in(soon, timedelta(days=2))
    _expire_in(item, timedelta(days=1))
    assert scheduled.make_reminders()["nudge"] == 2
    assert scheduled.make_reminders()["nudge"] == 0
    nudged = {(n.subject_type, n.subject_id) for n in _of(anne, "nudge")}
    assert nudged == {("exchange", soon.id), ("item", item.id)}
    assert later.id and dated.id  # neither nudged: far from expiry, or ends on its day


def test_keep_open_gives_a_new_lifetime_once_per_link(app, anne_bruno):
    from peuplade.errors import Conflict

    anne, _ = anne_bruno
    item = _item(anne, "Tondeuse")
    _expire_in(item, timedelta(days=1))
    stamp = services.expiry_stamp(item)
    services.keep_open(item, stamp)
    db.session.commit()
    assert item.expires_at > utcnow() + timedelta(days=89)
    with pytest.raises(Conflict):
        services.keep_open(item, stamp)  # the same link again
    # Closed posts cannot be kept open.
    request = _request(anne)
    exchanges.close_exchange(request, anne, "cancelled")
    db.session.commit()
    with pytest.raises(Conflict):
        services.keep_open(request, services.expiry_stamp(request))


def test_an_expired_object_leaves_the_lists(app, anne_bruno):
    anne, bruno = anne_bruno
    item = _item(anne, "Tondeuse")
    assert [i.id for i in db.session.scalars(loan_queries.near_me(bruno))] == [item.id]
    _expire_in(item, timedelta(seconds=-1))
    assert list(db.session.scalars(loan_queries.near_me(bruno))) == []
    assert isinstance(item, Item)


def test_deleting_a_post_forgets_its_notifications(app, anne_bruno):
    anne, bruno = anne_bruno
    request = _request(anne)
    exchanges.respond(request, bruno, "Je viens.")
    item = _item(anne)
    loans.request_loan(item, bruno, today() + timedelta(days=1), today() + timedelta(days=2))
    db.session.commit()
    assert _kinds(anne) == ["response", "loan_requested"]
    exchanges.delete_exchange(request, anne)
    loans.delete_item(item, anne)
    db.session.commit()
    assert _kinds(anne) == []
