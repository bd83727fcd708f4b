"""Every write the database can refuse under concurrency answers 409, on BOTH backends,
through the pages and the API, and never a 500; a sign-up whose address was taken at
the same instant gets the answer every sign-up gets (it does not tell).

Real threads, each with its own HTTP client and its own database connection, are
released together at a barrier just before their first write, so every check in Python
is behind both and only the database can keep the second copy out: an exclusion
constraint (PostgreSQL) or a trigger (SQLite) for loans, a unique index for answers,
sign-ups, conversations and submission keys, a row lock for the last place at an
outing. On SQLite the second writer waits for the first to commit (busy_timeout) and
then meets the same index.

The members read the site in English, and nothing in these requests is translated
before the conflict: the answer has to find the member's language after the failed
write, when the ORM can no longer be read (``peuplade.viewer``). An English message
proves it did, a 500 (PendingRollbackError) that it read the ORM.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from peuplade import geo
from peuplade.errors import Conflict
from peuplade.events import services as events
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.localtime import today as posts_today
from peuplade.location import LocationInput
from peuplade.models import (
    Conversation,
    ExchangeResponse,
    Item,
    Loan,
    Member,
    Message,
    Notification,
    Photo,
    Place,
    Rsvp,
    utcnow,
)
from peuplade.submissions import new_submission_key
from tests.conftest import CLICHY, DAMES_LEMERCIER, PASSWORD
from tests.test_concurrency import (
    _bearer,
    at_once,
    count,
    held_before_locking,
    held_before_writing,
    logged_in,
    registration,
)

TAKEN = "These dates have just been promised to someone else for this object."
FULL = "It is full: no places left for this outing."
ANSWERED = "You have already replied to this post."
DONE = "That has just been done: reload the page."


@pytest.fixture
def english(make_member):
    """make_member, for members who chose English (their browsers say nothing)."""

    def factory(name: str, at=CLICHY) -> Member:
        member = make_member(name, at=at)
        member.locale = "en"
        db.session.commit()
        return member

    return factory


def _api(app, member: Member) -> tuple:
    return app.test_client(), _bearer(member)


def _refused_in_json(answer, status: int, message: str) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "application/json"
    error = answer.get_json()["error"]
    assert error["message"] == message
    assert error["code"] == {409: "conflict", 422: "validation_failed"}[status]


def _refused_in_page(answer, status: int, message: str) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    assert message.replace("'", "&#39;") in page or message in page
    assert '<html lang="en"' in page


# --- loans: two overlapping periods accepted at the same instant ------------------------


@pytest.fixture
def two_requests(english):
    lender = english("Prêteuse", at=DAMES_LEMERCIER)
    item = loans.offer_item(
        lender, loans.ItemInput(title="Perceuse", description="", category="bricolage")
    )
    first = loans.request_loan(
        item, english("Alix"), posts_today() + timedelta(days=1), posts_today() + timedelta(5)
    )
    second = loans.request_loan(
        item, english("Bruno"), posts_today() + timedelta(days=2), posts_today() + timedelta(6)
    )
    db.session.commit()
    return lender, first.id, second.id


def _accepted(loan_ids) -> int:
    return count(Loan, Loan.id.in_(loan_ids), Loan.status == "accepted")


def test_api_accepts_of_overlapping_loans_at_once_one_wins_the_other_409(app, two_requests):
    lender, *loan_ids = two_requests
    callers = [_api(app, lender) for _ in loan_ids]
    with held_before_writing(2, Loan, changed=True):
        answers = at_once(
            *(
                lambda c=c, h=h, i=i: c.post(f"/api/v1/loans/{i}/accept", headers=h)
                for (c, h), i in zip(callers, loan_ids, strict=True)
            )
        )

    assert sorted(a.status_code for a in answers) == [200, 409]
    _refused_in_json(next(a for a in answers if a.status_code == 409), 409, TAKEN)
    assert _accepted(loan_ids) == 1


def test_page_accepts_of_overlapping_loans_at_once_one_wins_the_other_409(app, two_requests):
    lender, *loan_ids = two_requests
    browsers = [logged_in(app, lender) for _ in loan_ids]
    with held_before_writing(2, Loan, changed=True):
        answers = at_once(
            *(
                lambda b=b, i=i: b.post(f"/loans/{i}/accept", data={})
                for b, i in zip(browsers, loan_ids, strict=True)
            )
        )

    assert sorted(a.status_code for a in answers) == [302, 409]
    _refused_in_page(next(a for a in answers if a.status_code == 409), 409, TAKEN)
    assert _accepted(loan_ids) == 1


@pytest.mark.postgis_only
def test_accepts_that_deadlock_in_the_overlap_guard_say_the_dates_are_taken(app, two_requests):
    """Two overlapping loans accepted at once can each wait for the other's row in the
    guard's index: PostgreSQL then aborts one as a deadlock (after deadlock_timeout, 1 s),
    not as a violation. Its lender is told the dates were taken, not "try again" (seen
    in CI: the other accept had committed them). Played here step by step: another
    transaction accepts the second loan and holds it; this one's accept waits for it in
    the guard; the other then waits for this one's row."""
    lender, first_id, second_id = two_requests
    other = db.engine.raw_connection()
    try:
        cursor = other.cursor()
        cursor.execute("SET deadlock_timeout = '30s'")  # this session is the one aborted
        cursor.execute("UPDATE loans SET status = 'accepted' WHERE id = %s", (second_id,))

        def wait_for_this_one() -> None:
            cursor.execute("UPDATE loans SET decided_at = now() WHERE id = %s", (first_id,))

        waiting = threading.Timer(0.3, wait_for_this_one)
        waiting.start()
        first = db.session.get(Loan, first_id)
        with pytest.raises(Conflict) as refused:
            loans.accept(first, db.session.get(Member, lender.id))
        waiting.join(timeout=30)
        other.rollback()
    finally:
        other.close()
    # Not "Quelqu'un modifiait la même chose au même instant : réessayez."
    assert str(refused.value.message) == (
        "Ces dates viennent d'être promises à quelqu'un d'autre pour cet objet."
    )


# --- the last place at an outing ------------------------------------------------------


@pytest.fixture
def last_place(english):
    organiser = english("Organisatrice", at=DAMES_LEMERCIER)
    place = Place(
        name="Square des Batignolles",
        source_ref="test:square",
        position=geo.to_element(geo.lat_lon(48.88335, 2.31841)),
    )
    db.session.add(place)
    db.session.commit()
    outing = events.create_event(
        organiser,
        events.EventInput(
            title="Visite du jardin partagé",
            body="Une seule place.",
            starts_at=utcnow() + timedelta(days=3),
            location=LocationInput(place_id=place.id),
            capacity=1,
        ),
    )
    db.session.commit()
    return outing.id, [english("Invitée A"), english("Invité B")]


def _going(event_id: int) -> int:
    return count(Rsvp, Rsvp.event_id == event_id, Rsvp.going.is_(True))


def test_api_two_guests_for_the_last_place_at_once_one_gets_it(app, last_place):
    event_id, guests = last_place
    callers = [_api(app, guest) for guest in guests]
    url = f"/api/v1/events/{event_id}/rsvp"
    with held_before_locking(2, "events", Rsvp):
        answers = at_once(
            *(lambda c=c, h=h: c.post(url, json={"going": True}, headers=h) for c, h in callers)
        )

    assert sorted(a.status_code for a in answers) == [200, 409]
    _refused_in_json(next(a for a in answers if a.status_code == 409), 409, FULL)
    assert _going(event_id) == 1


def test_page_two_guests_for_the_last_place_at_once_one_gets_it(app, last_place):
    event_id, guests = last_place
    browsers = [logged_in(app, guest) for guest in guests]
    url = f"/events/{event_id}/rsvp"
    with held_before_locking(2, "events", Rsvp):
        answers = at_once(*(lambda b=b: b.post(url, data={"going": "yes"}) for b in browsers))

    assert sorted(a.status_code for a in answers) == [302, 409]
    _refused_in_page(next(a for a in answers if a.status_code == 409), 409, FULL)
    assert _going(event_id) == 1


# --- one neighbour answering twice at the same instant ----------------------------------


@pytest.fixture
def request_and_helper(english):
    author = english("Autrice", at=DAMES_LEMERCIER)
    exchange = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(
            kind="request", title="Porter un canapé", body="Samedi.", category="demenagement"
        ),
    )
    db.session.commit()
    return exchange.id, english("Aide")


def test_api_an_answer_sent_twice_at_once_is_one_answer(app, request_and_helper):
    exchange_id, helper = request_and_helper
    caller, headers = _api(app, helper)
    url = f"/api/v1/exchanges/{exchange_id}/responses"
    body = {"message": "Je peux venir samedi à 10 h."}
    with held_before_writing(2, ExchangeResponse):
        answers = at_once(*(lambda: caller.post(url, json=body, headers=headers) for _ in "ab"))

    assert sorted(a.status_code for a in answers) == [201, 409]
    _refused_in_json(next(a for a in answers if a.status_code == 409), 409, ANSWERED)
    assert count(ExchangeResponse, ExchangeResponse.exchange_id == exchange_id) == 1


def test_page_an_answer_sent_twice_at_once_is_one_answer(app, request_and_helper):
    exchange_id, helper = request_and_helper
    browser = logged_in(app, helper)
    url = f"/exchanges/{exchange_id}/responses"
    form = {"message": "Je peux venir samedi à 10 h."}
    with held_before_writing(2, ExchangeResponse):
        answers = at_once(*(lambda: browser.post(url, data=form) for _ in "ab"))

    assert sorted(a.status_code for a in answers) == [302, 409]
    _refused_in_page(next(a for a in answers if a.status_code == 409), 409, ANSWERED)
    assert count(ExchangeResponse, ExchangeResponse.exchange_id == exchange_id) == 1


# --- the same creation sent twice, with and without a key -------------------------------


@pytest.fixture
def lender_and_author(english):
    return english("Autrice", at=DAMES_LEMERCIER)


ITEM = {"title": "Échelle 3 m", "description": "Alu.", "category": "bricolage"}


def test_api_a_creation_sent_twice_at_once_with_one_key_makes_one_row(
    app, lender_and_author, dialect
):
    author = lender_and_author
    caller, headers = _api(app, author)
    headers["Idempotency-Key"] = new_submission_key()
    with held_before_writing(2, Item):
        answers = at_once(
            *(lambda: caller.post("/api/v1/items", json=ITEM, headers=headers) for _ in "ab")
        )

    if dialect == "postgresql":
        # The loser waited at the index, then found its twin: the same answer twice.
        assert [a.status_code for a in answers] == [201, 201]
        assert answers[0].get_json()["id"] == answers[1].get_json()["id"]
    else:
        # SQLite has no savepoint to fall back on: the twin is told it is already done.
        assert sorted(a.status_code for a in answers) == [201, 409]
        _refused_in_json(next(a for a in answers if a.status_code == 409), 409, DONE)
    assert count(Item, Item.author_id == author.id) == 1


def test_api_a_creation_sent_twice_at_once_without_a_key_makes_two(app, lender_and_author):
    author = lender_and_author
    caller, headers = _api(app, author)
    with held_before_writing(2, Item):
        answers = at_once(
            *(lambda: caller.post("/api/v1/items", json=ITEM, headers=headers) for _ in "ab")
        )

    # No key, no way to tell a double tap from two ladders: both are kept.
    assert [a.status_code for a in answers] == [201, 201]
    assert count(Item, Item.author_id == author.id) == 2


def test_page_a_form_clicked_twice_at_once_makes_one_row(app, lender_and_author, dialect):
    author = lender_and_author
    browser = logged_in(app, author)
    page = browser.get("/objects/new").get_data(as_text=True)
    key = page.split('name="submission_key"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    form = {**ITEM, "condition": "bon", "notes": "", "available": "y", "submission_key": key}
    with held_before_writing(2, Item):
        answers = at_once(*(lambda: browser.post("/objects/new", data=form) for _ in "ab"))

    if dialect == "postgresql":
        assert [a.status_code for a in answers] == [302, 302]
    else:
        assert sorted(a.status_code for a in answers) == [302, 409]
        _refused_in_page(next(a for a in answers if a.status_code == 409), 409, DONE)
    assert count(Item, Item.author_id == author.id) == 1


# --- one email, two sign-ups at the same instant ----------------------------------------


def _strip_per_request(page: str) -> str:
    """A page without what changes on every request (CSRF tokens, CSP nonces)."""
    page = re.sub(r'name="csrf_token" value="[^"]*"', "", page)
    return re.sub(r'nonce="[^"]*"', "", page)


def test_page_two_sign_ups_with_one_email_at_once_make_one_account(app, caplog):
    # Sign-up does not tell whether an address has an account: the twin that loses at
    # the unique index gets the very page the winner gets, and its owner is told.
    browsers = [app.test_client(), app.test_client()]
    english_browser = {"Accept-Language": "en"}
    with held_before_writing(2, Member), caplog.at_level("INFO", "peuplade.security"):
        answers = at_once(
            *(
                lambda b=b: b.post("/register", data=registration(), headers=english_browser)
                for b in browsers
            )
        )

    assert [a.status_code for a in answers] == [200, 200]
    first, second = (_strip_per_request(a.get_data(as_text=True)) for a in answers)
    assert first == second
    assert '<html lang="en"' in first
    assert count(Member, Member.email == "anne.martin@example.org") == 1
    assert sum("sign_up_refused" in r.getMessage() for r in caplog.records) == 1


def test_api_two_sign_ups_with_one_email_at_once_make_one_account(app, caplog):
    body = {
        "email": "anne.martin@example.org",
        "password": PASSWORD,
        "display_name": "Anne",
        "location": {"lat": 48.88462, "lon": 2.32091},
    }
    clients = [app.test_client(), app.test_client()]
    headers = {"Accept-Language": "en"}
    with held_before_writing(2, Member), caplog.at_level("INFO", "peuplade.security"):
        answers = at_once(
            *(lambda c=c: c.post("/api/v1/members", json=body, headers=headers) for c in clients)
        )

    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].get_json() == answers[1].get_json()
    assert answers[0].get_json()["status"] == "pending"
    assert count(Member, Member.email == "anne.martin@example.org") == 1
    assert sum("sign_up_refused" in r.getMessage() for r in caplog.records) == 1


# --- a conversation about one object started twice at the same instant ------------------


def test_api_a_conversation_started_twice_at_once_without_a_key_is_one(app, english):
    lender = english("Prêteuse", at=DAMES_LEMERCIER)
    asker = english("Voisin")
    item = loans.offer_item(
        lender, loans.ItemInput(title="Perceuse", description="", category="bricolage")
    )
    db.session.commit()
    caller, headers = _api(app, asker)
    asker_id = asker.id
    body = {
        "member_id": lender.id,
        "about": {"type": "item", "id": item.id},
        "message": "La perceuse est libre samedi ?",
    }
    with held_before_writing(2, Conversation):
        answers = at_once(
            *(
                lambda: caller.post("/api/v1/conversations", json=body, headers=headers)
                for _ in "ab"
            )
        )

    # The unique (pair, subject) index keeps one conversation; the copy is told so.
    assert sorted(a.status_code for a in answers) == [201, 409]
    _refused_in_json(next(a for a in answers if a.status_code == 409), 409, DONE)
    assert count(Conversation) == 1
    assert count(Message, Message.author_id == asker_id) == 1


def test_the_loser_takes_nothing_of_the_winner_with_it(app, request_and_helper):
    """The refused copy's rollback undoes its own work only: the winner's answer and the
    one notification it sent the author are there, and nothing of the loser's."""
    exchange_id, helper = request_and_helper
    caller, headers = _api(app, helper)
    helper_id = helper.id
    url = f"/api/v1/exchanges/{exchange_id}/responses"
    with held_before_writing(2, ExchangeResponse):
        at_once(*(lambda: caller.post(url, json={"message": "Oui"}, headers=headers) for _ in "ab"))

    db.session.remove()
    responses = db.session.scalars(
        select(ExchangeResponse).where(ExchangeResponse.exchange_id == exchange_id)
    ).all()
    assert [r.author_id for r in responses] == [helper_id]
    told = count(Notification, Notification.kind == "response", Notification.actor_id == helper_id)
    assert told == 1


# --- two photos for the last place on an object ------------------------------------------


def test_api_two_photos_for_the_last_place_at_once_one_is_kept(app, english):
    """An object takes 4 photos and has 3: two uploads at the same instant both count 3
    unless the second waits for the first (database.lock_row: a row lock on PostgreSQL,
    the write lock on SQLite, where the FOR UPDATE of a plain select is ignored)."""
    import io

    from peuplade.photos import services as photos
    from tests.photofiles import jpeg_bytes

    lender = english("Prêteuse")
    item = loans.offer_item(lender, loans.ItemInput(title="Perceuse", category="bricolage"))
    cleaned = photos.clean(jpeg_bytes((32, 24)))
    for _ in range(3):
        photos.add_photo(item, cleaned, None, lender)
    db.session.commit()
    url = f"/api/v1/items/{item.id}/photos"

    def upload(caller):
        client, headers = caller
        data = {"photo": (io.BytesIO(jpeg_bytes((32, 24))), "photo.jpg")}
        return client.post(url, data=data, headers=headers, content_type="multipart/form-data")

    callers = [_api(app, lender), _api(app, lender)]
    with held_before_locking(2, "posts", Photo):
        answers = at_once(*(lambda c=c: upload(c) for c in callers))

    assert sorted(a.status_code for a in answers) == [201, 422]
    refused = next(a for a in answers if a.status_code == 422).get_json()["error"]
    assert "photo" in refused["fields"]
    assert count(Photo, Photo.post_id == item.id) == 4
