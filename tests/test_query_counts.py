"""The pages everyone opens run a small, constant number of SQL statements, whatever
the size of what they show: no statement per card, per author or per answer (N+1).

The home timeline has its own such test (tests/test_timeline_html.py); the API lists
too (tests/test_api_exchanges.py, tests/test_api_news_events.py).
"""

from __future__ import annotations

import re

from sqlalchemy import update

from peuplade.access import public
from peuplade.auth.sessions import TOUCH_EVERY
from peuplade.exchanges import services
from peuplade.extensions import db
from peuplade.messages import queries as message_queries
from peuplade.messages import services as messages
from peuplade.models import MemberSession, utcnow
from peuplade.moderation import services as moderation
from peuplade.notifications import queries as notification_queries
from tests.conftest import PASSWORD
from tests.helpers.browsers import as_member
from tests.test_exchanges_html import quick
from tests.test_exchanges_html import street as street  # the fixture
from tests.test_timeline_html import _statements

# Login session, member, page query, counts, skills... well under this.
SMALL = 12


def _get(browser, path: str) -> list[str]:
    browser.get(path)  # the session's first use may write last_seen_at: not the page's cost
    with _statements() as seen:
        assert browser.get(path).status_code == 200
    return seen


def test_the_exchange_list_costs_the_same_for_one_card_or_a_full_page(app, street):
    author, alice, bruno = street["author"], street["alice"], street["bruno"]
    quick(author, title="La première")
    browser = as_member(app, alice)
    few = _get(browser, "/exchanges")
    for n in range(25):  # more than a page; each with answers and another author
        exchange = quick(bruno if n % 2 else author, title=f"Annonce {n}")
        services.respond(exchange, author if n % 2 else bruno, "Je peux aider")
        services.respond(exchange, alice, "Moi aussi")
    db.session.commit()
    many = _get(browser, "/exchanges")
    assert browser.get("/exchanges").get_data(as_text=True).count('class="card') >= 20
    assert len(many) == len(few), (few, many)
    assert len(few) <= SMALL, few


def test_an_exchange_page_costs_the_same_for_one_answer_or_many(app, make_member, street):
    author, alice = street["author"], street["alice"]
    exchange = quick(author, title="Porter un canapé")
    services.respond(exchange, alice, "Je peux samedi")
    db.session.commit()
    browser = as_member(app, author)  # the author sees every answer and its author
    path = f"/exchanges/{exchange.id}"
    few = _get(browser, path)
    for n in range(12):
        helper = make_member(f"Voisin {n}", at=(48.8851 + n * 1e-4, 2.3197))
        services.respond(exchange, helper, f"Disponible, voisin {n}")
    db.session.commit()
    many = _get(browser, path)
    assert browser.get(path).get_data(as_text=True).count("Voisin ") >= 12
    assert len(many) == len(few), (few, many)
    assert len(few) <= SMALL, few


# --- the fixed cost of every request: the session, its member, the navigation's counts ---


def _ping_app(app):
    """The test app with a trivial page (before its first request: Flask refuses a new
    route after that). Logged-in members reach it like any page."""
    app.add_url_rule("/test/ping", "test_ping", public(lambda: "ok"))
    return app


def _reads_members(statement: str) -> bool:
    return bool(re.search(r"\bFROM members\b|\bJOIN members\b", statement))


def _session_and_member(statement: str) -> bool:
    return bool(
        re.match(r"\s*SELECT\b", statement)
        and re.search(r"\bFROM member_sessions\b", statement)
        and re.search(r"\bJOIN members\b", statement)
    )


def test_a_trivial_page_reads_the_session_and_its_member_in_one_statement(app, street):
    browser = as_member(_ping_app(app), street["alice"])
    with _statements() as seen:
        assert browser.get("/test/ping").get_data(as_text=True) == "ok"
    assert len(seen) == 1, seen
    assert _session_and_member(seen[0]), seen


def test_touching_the_session_does_not_load_the_member_again(app, street):
    alice = street["alice"]
    browser = as_member(_ping_app(app), alice)
    # The session was last seen longer ago than TOUCH_EVERY: this request writes it.
    db.session.execute(
        update(MemberSession)
        .where(MemberSession.member_id == alice.id)
        .values(last_seen_at=utcnow() - 2 * TOUCH_EVERY)
    )
    db.session.commit()
    with _statements() as seen:
        assert browser.get("/test/ping").status_code == 200
        assert browser.get("/more").status_code == 200  # a page that shows the member
    touch, read_again = seen[:2], seen[2:]
    assert _session_and_member(touch[0]), seen
    assert re.match(r"\s*UPDATE member_sessions\b", touch[1]), seen
    assert len(touch) == 2 and _session_and_member(read_again[0]), seen
    assert [s for s in seen if _reads_members(s) and not _session_and_member(s)] == [], seen


def _bell_statements(seen: list[str]) -> list[str]:
    return [s for s in seen if "notifications" in s or "conversations" in s]


def test_a_404_loads_the_member_once_and_reads_both_counts_in_one_statement(app, street):
    browser = as_member(app, street["alice"])
    browser.get("/no-such-page")
    with _statements() as seen:
        page = browser.get("/no-such-page")
    assert page.status_code == 404
    assert 'class="main-nav main-nav--tabs"' in page.get_data(as_text=True)  # the member's
    assert len(seen) == 2, seen
    assert _session_and_member(seen[0]), seen
    assert [s for s in seen if _reads_members(s)] == [seen[0]], seen
    assert len(_bell_statements(seen)) == 1, seen
    bell = _bell_statements(seen)[0]
    assert "FROM messages" in bell and "FROM notifications" in bell, bell


def test_an_ordinary_page_reads_both_counts_once_in_one_statement(app, street):
    browser = as_member(app, street["alice"])
    seen = _get(browser, "/more")
    bell = _bell_statements(seen)
    assert len(bell) == 1, seen
    assert "FROM messages" in bell[0] and "FROM notifications" in bell[0], bell
    assert [s for s in seen if _reads_members(s)] == [seen[0]], seen


def _nav_count(page: str, href: str) -> int:
    """The number beside a navigation entry (0 when there is none)."""
    link = re.search(rf'<a class="tab" href="{href}".*?</a>', page, re.S)
    assert link, href
    count = re.search(r'<span class="tab__count"><span aria-hidden="true">(\d+)</span>', link[0])
    return int(count[1]) if count else 0


def test_the_counts_in_one_statement_are_the_counts_each_query_gives(app, make_member, street):
    alice, bruno, author = street["alice"], street["bruno"], street["author"]
    chat = messages.start(bruno, alice, "Bonjour, tu as une échelle ?")
    messages.write(chat, bruno, "Ou un escabeau ?")  # the same notification moves up
    messages.start(author, alice, "Et une perceuse ?")
    db.session.commit()
    browser = as_member(app, alice)

    def shown() -> tuple[int, int]:
        page = browser.get("/more").get_data(as_text=True)
        return _nav_count(page, "/messages"), _nav_count(page, "/notifications")

    def each() -> tuple[int, int]:
        return message_queries.unread_total(alice), notification_queries.unread_groups(alice)

    assert shown() == each() == message_queries.bell_counts(alice) == (3, 2)
    moderation.block(alice, bruno.id)  # hides his conversation and his notifications
    db.session.commit()
    assert shown() == each() == message_queries.bell_counts(alice) == (1, 1)
    moderation.unblock(alice, bruno.id)
    db.session.commit()
    assert shown() == each() == (3, 2)
    browser.get(f"/messages/{chat.id}")  # read: its messages and its notification
    assert shown() == each() == (1, 1)


def test_the_remember_me_cookie_is_written_at_login_only(app, street):
    browser = app.test_client()
    login = browser.post(
        "/login", data={"email": street["alice"].email, "password": PASSWORD, "remember": "y"}
    )
    remember = app.config["REMEMBER_COOKIE_NAME"]
    assert any(c.startswith(remember + "=") for c in login.headers.getlist("Set-Cookie"))
    for path in ("/more", "/exchanges", "/no-such-page"):
        answer = browser.get(path)
        sent = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith(remember + "=")]
        assert sent == [], (path, sent)
    assert browser.get_cookie(remember) is not None  # still there, still valid
    assert browser.get("/more").status_code == 200
