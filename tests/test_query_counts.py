"""The pages everyone opens run a small, constant number of SQL statements, whatever
the size of what they show: no statement per card, per author or per answer (N+1).

The home timeline has its own such test (tests/test_timeline_html.py); the API lists
too (tests/test_api_exchanges.py, tests/test_api_news_events.py).
"""

from __future__ import annotations

from peuplade.exchanges import services
from peuplade.extensions import db
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
