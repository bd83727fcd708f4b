"""A new request's matching neighbours are told once its author has their answer
(after the response), or by the next ``flask send-notifications`` when no worker could;
never twice (issue 23: a member's request never waits on the neighbours' search)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select, update

from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.models import Exchange, Notification, Post, utcnow
from peuplade.notifications import services
from tests.conftest import CLICHY, DAMES_LEMERCIER
from tests.helpers.browsers import as_member
from tests.test_exchanges_html import FORM, created_id


def _told(exchange_id: int) -> list[int]:
    db.session.expire_all()
    return sorted(
        db.session.scalars(
            select(Notification.member_id).where(
                Notification.kind == "matching_request", Notification.subject_id == exchange_id
            )
        )
    )


def _posted_in_a_request(app, author) -> Exchange:
    """A request posted by a page whose worker stopped after the commit: the after-
    response work never ran."""
    with app.test_request_context("/exchanges/new", method="POST"):
        exchange = exchanges.create_exchange(
            author,
            exchanges.ExchangeInput(
                kind="request", title="Porter un canapé", body="Au 3e.", category="demenagement"
            ),
        )
        db.session.commit()
        return exchange


def test_the_author_has_their_answer_before_the_neighbours_are_searched(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    handy = make_member("Déménageur", at=CLICHY, skills=["demenagement"])
    browser = as_member(app, author)
    order: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "member_skills" in statement and "notifications" not in statement:
            order.append("search")

    event.listen(db.engine, "before_cursor_execute", seen)
    original = browser.application.process_response

    def responded(response):
        order.append("response")
        return original(response)

    browser.application.process_response = responded
    try:
        response = browser.post("/exchanges/new", data=FORM)
    finally:
        browser.application.process_response = original
        event.remove(db.engine, "before_cursor_execute", seen)
    exchange_id = created_id(response)
    # The flash's know-how count reads skills too, in the request; the fan-out after.
    assert order[-1] == "search" and "response" in order
    assert order.index("response") < len(order) - 1
    assert _told(exchange_id) == [handy.id]
    assert db.session.get(Exchange, exchange_id).matched_at is not None


def test_send_notifications_tells_the_neighbours_no_worker_told_and_only_once(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    handy = make_member("Déménageur", at=CLICHY, skills=["demenagement"])
    exchange = _posted_in_a_request(app, author)
    assert _told(exchange.id) == []
    assert db.session.get(Exchange, exchange.id).matched_at is None
    for _ in range(2):
        result = app.test_cli_runner().invoke(args=["send-notifications"])
        assert result.exit_code == 0, result.output
        assert _told(exchange.id) == [handy.id]
    assert db.session.get(Exchange, exchange.id).matched_at is not None


def test_a_request_is_claimed_once_whoever_matches_it(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    handy = make_member("Déménageur", at=CLICHY, skills=["demenagement"])
    exchange = _posted_in_a_request(app, author)
    # A worker after the response, and cron in the same minute: one of them tells.
    first = services.match_pending([exchange.id])
    second = services.match_pending([exchange.id])
    assert second == [] and _told(exchange.id) == [handy.id]
    assert len(first) <= 1  # the email, if the neighbour wants one at once


def test_old_unmatched_requests_and_closed_ones_are_left_alone(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    make_member("Déménageur", at=CLICHY, skills=["demenagement"])
    old = _posted_in_a_request(app, author)
    closed = _posted_in_a_request(app, author)
    db.session.execute(
        update(Post)
        .where(Post.id == old.id)
        .values(created_at=utcnow() - services.MATCH_WITHIN - timedelta(hours=1))
    )
    db.session.execute(update(Post).where(Post.id == closed.id).values(status="cancelled"))
    db.session.commit()
    services.match_pending()
    assert _told(old.id) == [] and _told(closed.id) == []
    # The old one is not even claimed: it stays out of every later run's way.
    assert db.session.get(Exchange, old.id).matched_at is None
    assert db.session.get(Exchange, closed.id).matched_at is not None


def test_outside_a_request_the_neighbours_are_told_at_once(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    handy = make_member("Déménageur", at=CLICHY, skills=["demenagement"])
    exchange = exchanges.create_exchange(
        author,
        exchanges.ExchangeInput(
            kind="request", title="Porter un canapé", body="Au 3e.", category="demenagement"
        ),
    )
    db.session.commit()
    assert _told(exchange.id) == [handy.id]
    assert db.session.get(Exchange, exchange.id).matched_at is not None
