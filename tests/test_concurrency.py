"""Two copies of one request at the same instant: one row, and a clear answer to each.

A double click on "Publier", two tabs sending one sign-up, a neighbour answering twice:
real threads, each with its own HTTP client and its own database connection. On
PostgreSQL the requests really run side by side; a barrier holds each one just before
its first write, so both have made every check in Python before either writes, and only
the database (a unique index, a row lock) can keep the second copy out. SQLite writes
one transaction at a time, so those tests run on PostgreSQL only; the double submit that
arrives after the first one committed runs on both backends.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from peuplade import geo
from peuplade.account.tokens import new_token
from peuplade.events import services as events
from peuplade.exchanges import services as exchange_services
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.localtime import today as posts_today
from peuplade.location import LocationInput
from peuplade.messages import services as messages
from peuplade.models import (
    Conversation,
    Event,
    Exchange,
    ExchangeResponse,
    Item,
    Loan,
    Member,
    Message,
    NewsComment,
    NewsPost,
    Place,
    Rsvp,
    utcnow,
)
from peuplade.news import services as news
from peuplade.submissions import new_submission_key
from tests.conftest import CLICHY, DAMES_LEMERCIER, PASSWORD
from tests.test_exchanges_html import FORM as EXCHANGE_FORM


def registration(**overrides) -> dict:
    return {
        "email": "Anne.Martin@example.org",
        "display_name": "Anne",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "address": "",
        "lat": "48.88462",
        "lon": "2.32091",
        "radius_m": "1000",
        "tags": "",
        "bio": "",
        **overrides,
    }


@contextmanager
def held_before_writing(parties: int, model: type, changed: bool = False) -> Iterator[None]:
    """Each of ``parties`` threads waits, just before it first flushes a new ``model``
    row (or, with ``changed``, a new or changed one), until all of them are there: every
    check before the write is behind them."""
    barrier = threading.Barrier(parties, timeout=30)
    arrived: set[int] = set()

    def before_flush(session, _context, _instances) -> None:
        me = threading.get_ident()
        written = list(session.new) + (list(session.dirty) if changed else [])
        if me not in arrived and any(isinstance(o, model) for o in written):
            arrived.add(me)
            barrier.wait()

    event.listen(Session, "before_flush", before_flush)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", before_flush)


@contextmanager
def held_before_locking(parties: int, table: str, model: type) -> Iterator[None]:
    """Each thread waits for the others just before it locks ``table``'s row (PostgreSQL:
    SELECT ... FOR UPDATE; SQLite: BEGIN IMMEDIATE, the database's write lock) - or, if it
    takes no lock, before it flushes a new ``model`` row: without the lock both would
    count what is left (places at an outing), and both would take the last one."""
    barrier = threading.Barrier(parties, timeout=30)
    arrived: set[int] = set()

    def wait_once() -> None:
        me = threading.get_ident()
        if me not in arrived:
            arrived.add(me)
            barrier.wait()

    def before_execute(_conn, _cursor, statement, _params, _context, _many) -> None:
        postgres_lock = "FOR UPDATE" in statement and table in statement
        if postgres_lock or statement == "BEGIN IMMEDIATE":
            wait_once()

    def before_flush(session, _context, _instances) -> None:
        if any(isinstance(o, model) for o in session.new):
            wait_once()

    event.listen(Engine, "before_cursor_execute", before_execute)
    event.listen(Session, "before_flush", before_flush)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", before_execute)
        event.remove(Session, "before_flush", before_flush)


def at_once(*calls: Callable[[], object]) -> list:
    """Run each call in a thread of its own, all at once; their results in order."""
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], object]) -> None:
        try:
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - reported in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request never finished"
    assert errors == []
    return results


def logged_in(app, member: Member):
    browser = app.test_client()
    r = browser.post("/login", data={"email": member.email, "password": PASSWORD})
    assert r.status_code == 302
    return browser


def count(model, *where) -> int:
    db.session.remove()  # a fresh look at what the threads committed
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- sign-up -------------------------------------------------------------------------


@pytest.mark.postgis_only
def test_two_sign_ups_with_one_email_make_one_account(app):
    browsers = [app.test_client(), app.test_client()]
    with held_before_writing(2, Member):
        answers = at_once(*(lambda b=b: b.post("/register", data=registration()) for b in browsers))

    # The twin that loses at the unique index is answered as any sign-up (it must not
    # tell that the address has an account now).
    assert [r.status_code for r in answers] == [200, 200]
    for answer in answers:
        assert "Vérifiez votre boîte mail" in answer.get_data(as_text=True)
        assert "existe déjà" not in answer.get_data(as_text=True)
    assert count(Member, Member.email == "anne.martin@example.org") == 1


@pytest.mark.postgis_only
def test_two_api_sign_ups_with_one_email_make_one_account(app):
    body = {
        "email": "anne.martin@example.org",
        "password": PASSWORD,
        "display_name": "Anne",
        "location": {"lat": 48.88462, "lon": 2.32091},
    }
    clients = [app.test_client(), app.test_client()]
    with held_before_writing(2, Member):
        answers = at_once(*(lambda c=c: c.post("/api/v1/members", json=body) for c in clients))

    assert [r.status_code for r in answers] == [202, 202]
    assert answers[0].get_json() == answers[1].get_json()
    assert count(Member, Member.email == "anne.martin@example.org") == 1


# --- "Publier" clicked twice ---------------------------------------------------------


def _new_exchange_form(browser) -> dict:
    """What the browser sends: the form as served, hidden token included."""
    page = browser.get("/exchanges/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page)
    if key is None:
        key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', page)
    assert key is not None, "the form carries no submission token"
    return {**EXCHANGE_FORM, "submission_key": key.group(1)}


@pytest.mark.postgis_only
def test_publier_clicked_twice_at_the_same_instant_publishes_one_exchange(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    browser = logged_in(app, author)
    form = _new_exchange_form(browser)
    with held_before_writing(2, Exchange):
        answers = at_once(*(lambda: browser.post("/exchanges/new", data=form) for _ in "ab"))

    # Both clicks land on the one exchange, as if the page had been sent once.
    assert [r.status_code for r in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert count(Exchange, Exchange.author_id == author.id) == 1


def test_publier_sent_again_after_it_went_through_publishes_nothing_new(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    browser = logged_in(app, author)
    form = _new_exchange_form(browser)

    first = browser.post("/exchanges/new", data=form)
    again = browser.post("/exchanges/new", data=form)  # "Renvoyer le formulaire ?" - oui

    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert count(Exchange, Exchange.author_id == author.id) == 1
    # A fresh form is a new exchange, even with the same words.
    assert browser.post("/exchanges/new", data=_new_exchange_form(browser)).status_code == 302
    assert count(Exchange, Exchange.author_id == author.id) == 2


def test_a_token_is_only_good_for_its_author(app, make_member):
    a = make_member("Alix", at=DAMES_LEMERCIER)
    b = make_member("Bruno", at=CLICHY)
    form = _new_exchange_form(logged_in(app, a))
    assert logged_in(app, a).post("/exchanges/new", data=form).status_code == 302
    # The same token from someone else is that person's own first post.
    assert logged_in(app, b).post("/exchanges/new", data=form).status_code == 302
    assert count(Exchange, Exchange.author_id == b.id) == 1


# --- answering twice -----------------------------------------------------------------


@pytest.mark.postgis_only
def test_an_answer_sent_twice_at_the_same_instant_is_one_answer(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    helper = make_member("Aide", at=CLICHY)
    exchange = exchange_services.create_exchange(
        author,
        exchange_services.ExchangeInput(
            kind="request", title="Porter un canapé", body="Samedi.", category="demenagement"
        ),
    )
    db.session.commit()
    url = f"/exchanges/{exchange.id}/responses"
    browser = logged_in(app, helper)
    form = {"message": "Je peux venir samedi à 10 h."}
    with held_before_writing(2, ExchangeResponse):
        answers = at_once(*(lambda: browser.post(url, data=form) for _ in "ab"))

    # One goes through; the other is told it is already done (never a 500).
    assert sorted(r.status_code for r in answers) == [302, 409]
    assert count(ExchangeResponse, ExchangeResponse.exchange_id == exchange.id) == 1


# --- "J'y vais" twice ----------------------------------------------------------------


@pytest.mark.postgis_only
def test_j_y_vais_sent_twice_at_the_same_instant_is_one_answer(app, make_member):
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    guest = make_member("Invitée", at=CLICHY)
    place = Place(
        name="Square des Batignolles",
        source_ref="test:square",
        position=geo.to_element(geo.lat_lon(48.88335, 2.31841)),
    )
    db.session.add(place)
    db.session.commit()
    outing = events.create_event(
        author,
        events.EventInput(
            title="Pique-nique au square",
            body="Chacun apporte un plat.",
            starts_at=utcnow() + timedelta(days=3),
            location=LocationInput(place_id=place.id),
        ),
    )
    db.session.commit()
    browser = logged_in(app, guest)
    url = f"/events/{outing.id}/rsvp"
    with held_before_locking(2, "events", Rsvp):
        answers = at_once(*(lambda: browser.post(url, data={"going": "yes"}) for _ in "ab"))

    assert all(r.status_code in (302, 409) for r in answers)
    assert any(r.status_code == 302 for r in answers)
    assert count(Rsvp, Rsvp.event_id == outing.id) == 1
    assert count(Event) == 1


# --- every other form that creates a row: sent twice, one row -------------------------
#
# Each case: the page that serves the form, where it is sent, what is typed, and the
# rows it creates. Forms that publish carry the hidden token; the borrow form does not
# need one (a waiting request is unique per borrower, object and period).


class Scene:
    """An author at Dames/Lemercier, a neighbour at Clichy, and what they share."""

    def __init__(self, make_member):
        self.author = make_member("Autrice", at=DAMES_LEMERCIER)
        self.neighbour = make_member("Voisine", at=CLICHY)
        self.place = Place(
            name="Square des Batignolles",
            source_ref="test:square",
            position=geo.to_element(geo.lat_lon(48.88335, 2.31841)),
        )
        db.session.add(self.place)
        self.item = loans.offer_item(
            self.neighbour,
            loans.ItemInput(title="Perceuse", description="", category="bricolage", notes=""),
        )
        self.news = news.post_news(
            self.neighbour, news.NewsInput(title="Coupure d'eau", body="Mardi matin.")
        )
        self.conversation = messages.start(self.neighbour, self.author, "Bonjour !")
        db.session.commit()
        self.ids = {
            "author": self.author.id,
            "neighbour": self.neighbour.id,
            "place": self.place.id,
            "item": self.item.id,
            "news": self.news.id,
            "conversation": self.conversation.id,
        }


def _in_days(n: int) -> str:
    return (posts_today() + timedelta(days=n)).isoformat()


# name: (page served, url sent to, what is typed, row model, which of its rows count)
FORMS: dict[str, tuple] = {
    "objet": (
        lambda s: "/objects/new",
        lambda s: "/objects/new",
        lambda s: {
            "title": "Échelle 3 m",
            "description": "Alu, pliable.",
            "category": "bricolage",
            "condition": "bon",
            "notes": "",
            "available": "y",
        },
        Item,
        lambda s: Item.author_id == s["author"],
    ),
    "info": (
        lambda s: "/news/new",
        lambda s: "/news/new",
        lambda s: {
            "kind": "info",
            "title": "Marché avancé",
            "body": "Samedi à 7 h.",
            "link": "",
            "scope": "radius",
        },
        NewsPost,
        lambda s: NewsPost.author_id == s["author"],
    ),
    "sortie": (
        lambda s: "/events/new",
        lambda s: "/events/new",
        lambda s: {
            "title": "Pique-nique au square",
            "body": "Chacun apporte un plat.",
            "starts_on": _in_days(3),
            "starts_time": "18:30",
            "ends_on": "",
            "ends_time": "",
            "place": str(s["place"]),
            "capacity": "",
        },
        Event,
        lambda s: Event.author_id == s["author"],
    ),
    "premier message": (
        lambda s: f"/messages/new?to={s['neighbour']}&about=item:{s['item']}",
        lambda s: f"/messages/new?to={s['neighbour']}&about=item:{s['item']}",
        lambda s: {"message": "La perceuse est libre samedi ?"},
        Message,
        lambda s: Message.author_id == s["author"],
    ),
    "message": (
        lambda s: f"/messages/{s['conversation']}",
        lambda s: f"/messages/{s['conversation']}",
        lambda s: {"message": "Bonjour, volontiers !"},
        Message,
        lambda s: Message.author_id == s["author"],
    ),
    "commentaire": (
        lambda s: f"/news/{s['news']}",
        lambda s: f"/news/{s['news']}/comments",
        lambda s: {"body": "Merci de l'info !"},
        NewsComment,
        lambda s: NewsComment.author_id == s["author"],
    ),
    "emprunt": (
        lambda s: f"/objects/{s['item']}",
        lambda s: f"/objects/{s['item']}/borrow",
        lambda s: {"start": _in_days(2), "due": _in_days(4), "message": "Pour une étagère."},
        Loan,
        lambda s: Loan.borrower_id == s["author"],
    ),
}


def _served_form(browser, scene: Scene, name: str) -> dict:
    """What the browser sends: the form as served, its hidden token when it has one."""
    page_url, _url, typed, *_rest = FORMS[name]
    page = browser.get(page_url(scene.ids))
    assert page.status_code == 200
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert (key is not None) == (name != "emprunt"), "a publishing form without its token"
    return {**typed(scene.ids), **({"submission_key": key.group(1)} if key else {})}


def _rows_of(scene: Scene, name: str) -> int:
    *_rest, model, where = FORMS[name]
    return count(model, where(scene.ids))


@pytest.mark.parametrize("name", list(FORMS))
def test_each_form_sent_again_after_it_went_through_creates_nothing_new(app, make_member, name):
    scene = Scene(make_member)
    browser = logged_in(app, scene.author)
    url = FORMS[name][1](scene.ids)
    before = _rows_of(scene, name)
    form = _served_form(browser, scene, name)

    first = browser.post(url, data=form)
    again = browser.post(url, data=form)  # "Renvoyer le formulaire ?" - oui

    # The second lands where the first did, with no error, and nothing new is written.
    assert first.status_code == again.status_code == 302, again.get_data(as_text=True)[:800]
    assert again.headers["Location"] == first.headers["Location"]
    assert _rows_of(scene, name) == before + 1
    # A new form (or, to borrow, other dates) is a new row, even with the same words.
    fresh = _served_form(browser, scene, name)
    if name == "emprunt":
        fresh["due"] = _in_days(5)
    assert browser.post(url, data=fresh).status_code == 302
    assert _rows_of(scene, name) == before + 2


def _first_write(name: str, model: type) -> type:
    """Where the threads are held: a first message about a subject writes its
    conversation first (unique per pair and subject, so the second copy waits there)."""
    return Conversation if name in ("premier message", "conversation") else model


@pytest.mark.postgis_only
@pytest.mark.parametrize("name", list(FORMS))
def test_each_form_clicked_twice_at_the_same_instant_creates_one_row(app, make_member, name):
    scene = Scene(make_member)
    browser = logged_in(app, scene.author)
    url = FORMS[name][1](scene.ids)
    before = _rows_of(scene, name)
    form = _served_form(browser, scene, name)
    with held_before_writing(2, _first_write(name, FORMS[name][3])):
        answers = at_once(*(lambda: browser.post(url, data=form) for _ in "ab"))

    assert [r.status_code for r in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert _rows_of(scene, name) == before + 1
    if name == "premier message":  # the one about the object, and the scene's own
        assert count(Conversation) == 2


# --- the API: Idempotency-Key --------------------------------------------------------

# name: (url, body, row model, which of its rows count)
API_CREATES: dict[str, tuple] = {
    "exchange": (
        lambda s: "/api/v1/exchanges",
        lambda s: {
            "kind": "request",
            "title": "Porter un canapé",
            "body": "Samedi matin.",
            "category": "demenagement",
        },
        Exchange,
        lambda s: Exchange.author_id == s["author"],
    ),
    "item": (
        lambda s: "/api/v1/items",
        lambda s: {"title": "Échelle 3 m", "description": "Alu.", "category": "bricolage"},
        Item,
        lambda s: Item.author_id == s["author"],
    ),
    "news": (
        lambda s: "/api/v1/news",
        lambda s: {"title": "Marché avancé", "body": "Samedi à 7 h."},
        NewsPost,
        lambda s: NewsPost.author_id == s["author"],
    ),
    "event": (
        lambda s: "/api/v1/events",
        lambda s: {
            "title": "Pique-nique au square",
            "body": "Chacun apporte un plat.",
            "starts_at": (utcnow() + timedelta(days=3)).isoformat(),
            "location": {"place_id": s["place"]},
        },
        Event,
        lambda s: Event.author_id == s["author"],
    ),
    "comment": (
        lambda s: f"/api/v1/news/{s['news']}/comments",
        lambda s: {"body": "Merci de l'info !"},
        NewsComment,
        lambda s: NewsComment.author_id == s["author"],
    ),
    "conversation": (
        lambda s: "/api/v1/conversations",
        lambda s: {
            "member_id": s["neighbour"],
            "about": {"type": "item", "id": s["item"]},
            "message": "La perceuse est libre samedi ?",
        },
        Message,
        lambda s: Message.author_id == s["author"],
    ),
    "message": (
        lambda s: f"/api/v1/conversations/{s['conversation']}/messages",
        lambda s: {"message": "Bonjour, volontiers !"},
        Message,
        lambda s: Message.author_id == s["author"],
    ),
}


def _api_rows(scene: Scene, name: str) -> int:
    *_rest, model, where = API_CREATES[name]
    return count(model, where(scene.ids))


def _bearer(member: Member) -> dict:
    headers = {"Authorization": f"Bearer {new_token(member)[0]}"}
    db.session.commit()
    return headers


@pytest.mark.parametrize("name", list(API_CREATES))
def test_each_api_create_sent_again_with_its_key_creates_nothing_new(app, make_member, name):
    scene = Scene(make_member)
    url, body, *_rest = API_CREATES[name]
    headers = {**_bearer(scene.author), "Idempotency-Key": new_submission_key()}
    caller = app.test_client()
    before = _api_rows(scene, name)

    first = caller.post(url(scene.ids), json=body(scene.ids), headers=headers)
    again = caller.post(url(scene.ids), json=body(scene.ids), headers=headers)

    assert first.status_code == again.status_code == 201, again.get_json()
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers.get("Location") == first.headers.get("Location")
    assert _api_rows(scene, name) == before + 1
    # Another key (or none) is another creation.
    headers["Idempotency-Key"] = new_submission_key()
    assert caller.post(url(scene.ids), json=body(scene.ids), headers=headers).status_code == 201
    assert _api_rows(scene, name) == before + 2


def test_a_key_reused_for_another_kind_of_post_is_a_conflict(app, make_member):
    scene = Scene(make_member)
    headers = {**_bearer(scene.author), "Idempotency-Key": new_submission_key()}
    caller = app.test_client()
    exchange_url, exchange_body, *_rest = API_CREATES["exchange"]
    news_url, news_body, *_rest = API_CREATES["news"]
    assert (
        caller.post(
            exchange_url(scene.ids), json=exchange_body(scene.ids), headers=headers
        ).status_code
        == 201
    )
    news_before = _api_rows(scene, "news")

    again = caller.post(news_url(scene.ids), json=news_body(scene.ids), headers=headers)

    assert again.status_code == 409, again.get_json()
    assert _api_rows(scene, "news") == news_before
    assert _api_rows(scene, "exchange") == 1


@pytest.mark.parametrize("key", ["short", "x" * 33, "espace dedans 1234567", "é" * 20, ""])
def test_a_malformed_idempotency_key_is_refused_and_nothing_is_written(app, make_member, key):
    scene = Scene(make_member)
    headers = {**_bearer(scene.author), "Idempotency-Key": key}
    url, body, *_rest = API_CREATES["exchange"]
    r = app.test_client().post(url(scene.ids), json=body(scene.ids), headers=headers)

    assert r.status_code == 422
    assert "Idempotency-Key" in r.get_json()["error"]["fields"]
    assert _api_rows(scene, "exchange") == 0


@pytest.mark.postgis_only
@pytest.mark.parametrize("name", list(API_CREATES))
def test_each_api_create_sent_twice_at_the_same_instant_creates_one_row(app, make_member, name):
    scene = Scene(make_member)
    url, body, model, _where = API_CREATES[name]
    headers = {**_bearer(scene.author), "Idempotency-Key": new_submission_key()}
    before = _api_rows(scene, name)
    callers = [app.test_client(), app.test_client()]
    with held_before_writing(2, _first_write(name, model)):
        answers = at_once(
            *(
                lambda c=c: c.post(url(scene.ids), json=body(scene.ids), headers=headers)
                for c in callers
            )
        )

    assert [r.status_code for r in answers] == [201, 201]
    assert answers[0].get_json()["id"] == answers[1].get_json()["id"]
    assert _api_rows(scene, name) == before + 1


def test_a_loan_request_sent_again_to_the_api_is_the_same_request(app, make_member):
    # No key needed: a waiting request is unique per borrower, object and period.
    scene = Scene(make_member)
    caller, headers = app.test_client(), _bearer(scene.author)
    body = {"start": _in_days(2), "due": _in_days(4)}
    url = f"/api/v1/items/{scene.item.id}/loans"

    first = caller.post(url, json=body, headers=headers)
    again = caller.post(url, json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert count(Loan, Loan.borrower_id == scene.ids["author"]) == 1


@pytest.mark.postgis_only
def test_a_first_message_sent_twice_at_once_leaves_one_conversation(app, make_member):
    # Without a subject nothing else is unique: each copy opens a conversation, and the
    # one whose message loses takes its conversation away with it.
    author = make_member("Autrice", at=DAMES_LEMERCIER)
    neighbour = make_member("Voisine", at=CLICHY)
    browser = logged_in(app, author)
    url = f"/messages/new?to={neighbour.id}"
    page = browser.get(url).get_data(as_text=True)
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', page).group(1)
    form = {"message": "Bonjour, c'est pour la fête des voisins.", "submission_key": key}
    with held_before_writing(2, Message):
        answers = at_once(*(lambda: browser.post(url, data=form) for _ in "ab"))

    assert [r.status_code for r in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert count(Message, Message.author_id == author.id) == 1
    assert count(Conversation) == 1


def test_the_creations_document_their_idempotency_key(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    keyed = {
        path
        for path, operations in spec["paths"].items()
        if any(
            p.get("name") == "Idempotency-Key" and p["in"] == "header"
            for p in operations.get("post", {}).get("parameters", [])
        )
    }
    assert keyed == {
        "/api/v1/exchanges",
        "/api/v1/items",
        "/api/v1/news",
        "/api/v1/news/{news_id}/comments",
        "/api/v1/events",
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}/messages",
    }
