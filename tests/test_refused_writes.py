"""Fault injection: the first write of each service, through the pages and the API, is
refused once by the database itself, and the member gets a 409 or a 503 in the page
or JSON error shape - never a 500 (unless the database found a bug of ours: then the
500 page, itself rendered after a rollback).

The refusal is the database's own error, not a Python exception we made up. The
write's statement is swapped, on its way to the server, for one that makes the server
answer as it would in a race:

- PostgreSQL raises the very SQLSTATE (``RAISE ... USING ERRCODE``): unique violation,
  exclusion violation, serialization failure, deadlock, lock not granted in time; and
  the connection is really lost (the server process ends itself,
  ``pg_terminate_backend(pg_backend_pid())``).
- SQLite meets a real unique index, a real trigger RAISE with the name of the
  constraint it stands for (as the loans' overlap trigger does), and a real
  ``database is locked`` (another connection holds the write lock and the request's
  connection does not wait). An embedded database has no connection to lose, and its
  one answer to two writers at once is that lock: there is no serialization failure
  or deadlock of its own to inject.

The members read the site in English and nothing is translated before the write: the
answer, in English, shows the language was found without the ORM. Afterwards the same
client's next request works (the session and its connection were given back usable),
and the refused write left nothing behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlean
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine

from peuplade import geo
from peuplade.account.tokens import new_token
from peuplade.events import services as events
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.loans import services as loans
from peuplade.localtime import today as posts_today
from peuplade.location import LocationInput
from peuplade.messages import services as messages
from peuplade.models import Place, utcnow
from peuplade.news import services as news
from tests.conftest import CLICHY, DAMES_LEMERCIER, PASSWORD
from tests.test_concurrency import registration

# fault -> (the statement the server receives instead, the statuses it may answer)
POSTGRES_FAULTS = {
    "unique violation": "23505",
    "exclusion violation": "23P01",
    "serialization failure": "40001",
    "deadlock": "40P01",
    "lock timeout": "55P03",
    "connection lost": None,
    "check violation": "23514",
}
SQLITE_FAULTS = ("unique violation", "exclusion violation", "lock timeout", "check violation")
# 409: the injected twin is at no unique index a form names as one of its fields (an
# email taken would be that field's 422: tests/test_conflicts.py).
EXPECTED = {
    "unique violation": {409},
    "exclusion violation": {409},
    "serialization failure": {409},
    "deadlock": {409},
    "lock timeout": {503},
    "connection lost": {503},
    # Not a race but a bug of ours (a rule the service should have checked): the 500
    # page, itself rendered after a rollback (its menu reads the database).
    "check violation": {500},
}


class World:
    """An author at Dames/Lemercier and a neighbour at Clichy, both reading English, and
    one of everything the author can answer, borrow, comment or write to."""

    def __init__(self, make_member):
        self.author = make_member("Autrice", at=DAMES_LEMERCIER, email="autrice@example.org")
        self.neighbour = make_member("Voisine", at=CLICHY)
        for member in (self.author, self.neighbour):
            member.locale = "en"
        self.place = Place(
            name="Square des Batignolles",
            source_ref="test:square",
            position=geo.to_element(geo.lat_lon(48.88335, 2.31841)),
        )
        db.session.add(self.place)
        n = self.neighbour
        item = loans.offer_item(n, loans.ItemInput(title="Perceuse", category="bricolage"))
        self.exchange = exchanges.create_exchange(
            n,
            exchanges.ExchangeInput(
                kind="request", title="Porter un canapé", body="Samedi.", category="demenagement"
            ),
        )
        self.news = news.post_news(n, news.NewsInput(title="Coupure d'eau", body="Mardi."))
        db.session.flush()
        self.event = events.create_event(
            n,
            events.EventInput(
                title="Pique-nique",
                body="Chacun apporte un plat.",
                starts_at=utcnow() + timedelta(days=3),
                location=LocationInput(place_id=self.place.id),
            ),
        )
        today = posts_today()
        self.loan = loans.request_loan(
            item, self.author, today + timedelta(days=1), today + timedelta(days=3)
        )
        self.conversation = messages.start(n, self.author, "Bonjour !")
        self.item = item
        self.tokens = {"author": new_token(self.author)[0]}
        self.tokens["neighbour"] = new_token(n)[0]
        db.session.commit()
        self.ids = {
            "author": self.author.id,
            "neighbour": n.id,
            "item": item.id,
            "place": self.place.id,
            "exchange": self.exchange.id,
            "news": self.news.id,
            "event": self.event.id,
            "loan": self.loan.id,
            "conversation": self.conversation.id,
        }

    @staticmethod
    def day(n: int) -> str:
        return (posts_today() + timedelta(days=n)).isoformat()


@dataclass(frozen=True)
class Write:
    """One service's write: who sends what where, and the table it first writes to."""

    who: str | None  # "author", "neighbour", or None (a visitor)
    method: str
    url: Callable[[dict], str]
    payload: Callable[[dict], dict]
    table: str
    first: str = "INSERT"  # or UPDATE

    def send(self, client, world: World):
        ids = world.ids
        if self.url(ids).startswith("/api/"):
            headers = {"Accept-Language": "en"}
            if self.who:
                headers["Authorization"] = f"Bearer {world.tokens[self.who]}"
            return client.open(
                self.url(ids), method=self.method, json=self.payload(ids), headers=headers
            )
        return client.open(
            self.url(ids),
            method=self.method,
            data=self.payload(ids),
            headers={"Accept-Language": "en"},
        )


def _signup(ids: dict) -> dict:
    return {
        "email": "nouvelle@example.org",
        "password": PASSWORD,
        "display_name": "Nouvelle",
        "location": {"lat": 48.88462, "lon": 2.32091},
    }


API = {
    "publish an exchange": Write(
        "author",
        "POST",
        lambda i: "/api/v1/exchanges",
        lambda i: {
            "kind": "offer",
            "title": "Cours de guitare",
            "body": "Le mardi soir.",
            "category": "cours",
        },
        "posts",
    ),
    "answer an exchange": Write(
        "author",
        "POST",
        lambda i: f"/api/v1/exchanges/{i['exchange']}/responses",
        lambda i: {"message": "Je peux venir samedi."},
        "exchange_responses",
    ),
    "offer an object": Write(
        "author",
        "POST",
        lambda i: "/api/v1/items",
        lambda i: {"title": "Échelle", "description": "Alu, 3 m.", "category": "bricolage"},
        "posts",
    ),
    "ask to borrow": Write(
        "author",
        "POST",
        lambda i: f"/api/v1/items/{i['item']}/loans",
        lambda i: {"start": World.day(5), "due": World.day(7)},
        "loans",
    ),
    "accept a loan": Write(
        "neighbour",
        "POST",
        lambda i: f"/api/v1/loans/{i['loan']}/accept",
        lambda i: {},
        "loans",
        "UPDATE",
    ),
    "post news": Write(
        "author",
        "POST",
        lambda i: "/api/v1/news",
        lambda i: {"title": "Marché avancé", "body": "Samedi à 7 h."},
        "posts",
    ),
    "comment news": Write(
        "author",
        "POST",
        lambda i: f"/api/v1/news/{i['news']}/comments",
        lambda i: {"body": "Merci !"},
        "news_comments",
    ),
    "propose an outing": Write(
        "author",
        "POST",
        lambda i: "/api/v1/events",
        lambda i: {
            "title": "Balade",
            "body": "Le long du canal.",
            "starts_at": (utcnow() + timedelta(days=4)).isoformat(),
            "location": {"place_id": i["place"]},
        },
        "posts",
    ),
    "say I go": Write(
        "author",
        "POST",
        lambda i: f"/api/v1/events/{i['event']}/rsvp",
        lambda i: {"going": True},
        "rsvps",
    ),
    "start a conversation": Write(
        "author",
        "POST",
        lambda i: "/api/v1/conversations",
        lambda i: {
            "member_id": i["neighbour"],
            "about": {"type": "item", "id": i["item"]},
            "message": "Elle est libre samedi ?",
        },
        "conversations",
    ),
    "write a message": Write(
        "author",
        "POST",
        lambda i: f"/api/v1/conversations/{i['conversation']}/messages",
        lambda i: {"message": "Volontiers !"},
        "messages",
    ),
    "sign up": Write(None, "POST", lambda i: "/api/v1/members", _signup, "members"),
    "get a token": Write(
        None,
        "POST",
        lambda i: "/api/v1/tokens",
        lambda i: {"email": "autrice@example.org", "password": PASSWORD},
        "api_tokens",
    ),
    "edit my profile": Write(
        "author",
        "PATCH",
        lambda i: "/api/v1/me",
        lambda i: {"display_name": "Autrice B."},
        "members",
        "UPDATE",
    ),
    "block someone": Write(
        "author", "POST", lambda i: f"/api/v1/blocks/{i['neighbour']}", lambda i: {}, "blocks"
    ),
    "report something": Write(
        "author",
        "POST",
        lambda i: "/api/v1/reports",
        lambda i: {"type": "news", "id": i["news"], "reason": "spam"},
        "reports",
    ),
}

PAGES = {
    "publish an exchange": Write(
        "author",
        "POST",
        lambda i: "/exchanges/new",
        lambda i: {
            "kind": "offer",
            "title": "Cours de guitare",
            "body": "Le mardi soir.",
            "category": "cours",
            "reach_m": "",
            "place": "",
            "starts_on": "",
            "ends_on": "",
        },
        "posts",
    ),
    "answer an exchange": Write(
        "author",
        "POST",
        lambda i: f"/exchanges/{i['exchange']}/responses",
        lambda i: {"message": "Je peux venir samedi."},
        "exchange_responses",
    ),
    "offer an object": Write(
        "author",
        "POST",
        lambda i: "/objects/new",
        lambda i: {
            "title": "Échelle",
            "description": "",
            "category": "bricolage",
            "condition": "bon",
            "notes": "",
            "available": "y",
        },
        "posts",
    ),
    "ask to borrow": Write(
        "author",
        "POST",
        lambda i: f"/objects/{i['item']}/borrow",
        lambda i: {"start": World.day(5), "due": World.day(7), "message": ""},
        "loans",
    ),
    "accept a loan": Write(
        "neighbour", "POST", lambda i: f"/loans/{i['loan']}/accept", lambda i: {}, "loans", "UPDATE"
    ),
    "post news": Write(
        "author",
        "POST",
        lambda i: "/news/new",
        lambda i: {
            "kind": "info",
            "title": "Marché avancé",
            "body": "Samedi à 7 h.",
            "link": "",
            "scope": "radius",
        },
        "posts",
    ),
    "comment news": Write(
        "author",
        "POST",
        lambda i: f"/news/{i['news']}/comments",
        lambda i: {"body": "Merci !"},
        "news_comments",
    ),
    "say I go": Write(
        "author",
        "POST",
        lambda i: f"/events/{i['event']}/rsvp",
        lambda i: {"going": "yes"},
        "rsvps",
    ),
    "start a conversation": Write(
        "author",
        "POST",
        lambda i: f"/messages/new?to={i['neighbour']}&about=item:{i['item']}",
        lambda i: {"message": "Elle est libre samedi ?"},
        "conversations",
    ),
    "write a message": Write(
        "author",
        "POST",
        lambda i: f"/messages/{i['conversation']}",
        lambda i: {"message": "Volontiers !"},
        "messages",
    ),
    "sign up": Write(
        None,
        "POST",
        lambda i: "/register",
        lambda i: registration(email="nouvelle@example.org", display_name="Nouvelle"),
        "members",
    ),
    "edit my profile": Write(
        "author",
        "POST",
        lambda i: "/account/profile",
        lambda i: {
            "display_name": "Autrice B.",
            "bio": "",
            "tags": "",
            "radius_m": "1000",
            "email": "autrice@example.org",
            "current_password": "",
        },
        "members",
        "UPDATE",
    ),
    "block someone": Write(
        "author", "POST", lambda i: f"/account/blocks/{i['neighbour']}", lambda i: {}, "blocks"
    ),
    "report something": Write(
        "author",
        "POST",
        lambda i: f"/report?type=news&id={i['news']}",
        lambda i: {"reason": "spam", "details": ""},
        "reports",
    ),
}


def _log_in(client, world: World, who: str | None) -> None:
    if who is not None:
        email = {"author": "autrice@example.org", "neighbour": world.neighbour.email}[who]
        r = client.post("/login", data={"email": email, "password": PASSWORD})
        assert r.status_code == 302


@contextmanager
def refused_once(dialect: str, fault: str, write: Write) -> Iterator[list[str]]:
    """The first ``write.first INTO/… write.table`` statement is answered by the
    database with ``fault``; the statements that were swapped are listed.

    SQLite's lock is met where a transaction takes it: at its first write (or the BEGIN
    IMMEDIATE of ``database.lock_row``), which may come before the write to
    ``write.table`` - once a transaction holds the lock, no other can make it wait."""
    target = re.compile(
        rf"^\s*(INSERT INTO {write.table}\b|UPDATE {write.table} SET)", re.IGNORECASE
    )
    if write.first == "UPDATE":
        target = re.compile(rf"^\s*UPDATE {write.table} SET", re.IGNORECASE)
    sqlite_lock = dialect == "sqlite" and fault == "lock timeout"
    if sqlite_lock:
        # Not the session's or the token's own bookkeeping, made before the view.
        target = re.compile(
            r"^\s*(BEGIN IMMEDIATE|INSERT INTO|DELETE FROM|UPDATE (?!member_sessions|api_tokens))",
            re.IGNORECASE,
        )
    swapped: list[str] = []
    holder: list = []  # SQLite: the other connection that holds the write lock
    faulted: list = []  # SQLite: the request's connection told not to wait

    def before(_conn, cursor, statement, params, _context, executemany):
        if swapped or not target.match(statement):
            return statement, params
        if sqlite_lock and cursor.connection.in_transaction:
            return statement, params  # this transaction holds the lock already
        swapped.append(statement)
        if dialect == "postgresql":
            code = POSTGRES_FAULTS[fault]
            if code is None:
                return "SELECT pg_terminate_backend(pg_backend_pid())", [()] if executemany else ()
            raising = f"DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '{code}'; END $$"
            return raising, [()] if executemany else ()
        if fault == "unique violation":
            cursor.execute("CREATE TEMP TABLE IF NOT EXISTS fault_twin (id INTEGER UNIQUE)")
            cursor.execute("INSERT OR IGNORE INTO fault_twin VALUES (1)")
            return "INSERT INTO fault_twin VALUES (1)", ()
        if fault == "check violation":
            cursor.execute("CREATE TEMP TABLE IF NOT EXISTS fault_check (x CHECK (x > 0))")
            return "INSERT INTO fault_check VALUES (0)", ()
        if fault == "exclusion violation":
            cursor.execute("CREATE TEMP TABLE IF NOT EXISTS fault_guard (x)")
            cursor.execute(
                "CREATE TEMP TRIGGER IF NOT EXISTS fault_guard_overlap BEFORE INSERT ON "
                "fault_guard BEGIN SELECT RAISE(ABORT, 'loans_no_overlap'); END"
            )
            return "INSERT INTO fault_guard VALUES (1)", ()
        # lock timeout: another connection holds the write lock; this one does not wait.
        other = sqlean.connect(db.engine.url.database, isolation_level=None, timeout=0)
        holder.append(other)
        other.execute("BEGIN IMMEDIATE")  # raises at once if the lock were not free
        cursor.connection.execute("PRAGMA busy_timeout = 0")
        faulted.append(cursor.connection)
        return statement, params

    event.listen(Engine, "before_cursor_execute", before, retval=True)
    try:
        yield swapped
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        for other in holder:
            other.rollback()
            other.close()
        for connection in faulted:
            connection.execute("PRAGMA busy_timeout = 15000")


def _rows(table: str) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(text(table)))


def _check_refusal(answer, fault: str, api: bool) -> None:
    body = answer.get_data(as_text=True)
    assert answer.status_code in EXPECTED[fault], (answer.status_code, body[:600])
    if api:
        assert answer.mimetype == "application/json", body[:300]
        error = answer.get_json()["error"]
        assert error["code"] in ("conflict", "validation_failed", "unavailable", "internal_error")
        assert error["message"]
        message = error["message"] + " ".join(error.get("fields", {}).values())
        assert not re.search(r"[éèàç]|Cela |Peuplade est", message), message  # English
    else:
        assert answer.mimetype == "text/html"
        assert '<html lang="en"' in body
    if answer.status_code == 503:
        assert answer.headers["Retry-After"]


def _faults(dialect: str):
    return list(POSTGRES_FAULTS) if dialect == "postgresql" else list(SQLITE_FAULTS)


def _run(app, make_member, dialect: str, write: Write, api: bool) -> None:
    world = World(make_member)
    client = app.test_client()
    if not api:
        _log_in(client, world, write.who)
    for fault in _faults(dialect):
        before = _rows(write.table)
        with refused_once(dialect, fault, write) as swapped:
            answer = write.send(client, world)
        assert swapped, f"{write.table}: no {write.first} reached the database"
        _check_refusal(answer, fault, api)
        assert _rows(write.table) == before, f"{fault}: the refused write left a row"
        # The next request of the same client is served as usual.
        again = client.get("/api/v1/me", headers=_bearer(world)) if api else client.get("/")
        assert again.status_code in (200, 302), (fault, again.status_code)
    # And without a fault the write goes through: the injection hit the real path.
    done = write.send(client, world)
    assert done.status_code in (200, 201, 202, 302), done.get_data(as_text=True)[:600]


def _bearer(world: World) -> dict:
    return {"Authorization": f"Bearer {world.tokens['author']}"}


@pytest.mark.parametrize("name", list(API))
def test_api_write_refused_by_the_database_is_409_or_503(app, make_member, dialect, name):
    _run(app, make_member, dialect, API[name], api=True)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_write_refused_by_the_database_is_409_or_503(app, make_member, dialect, name):
    _run(app, make_member, dialect, PAGES[name], api=False)


def test_each_fault_is_the_database_s_own_error(app, make_member, dialect):
    """The injection is real: the server (or SQLite) raises the error class a race would."""
    from sqlalchemy.exc import DBAPIError

    from peuplade import database

    world = World(make_member)
    write = API["post news"]
    seen = {}
    for fault in _faults(dialect):
        with refused_once(dialect, fault, write):
            try:
                db.session.execute(
                    text("INSERT INTO posts (id) VALUES (:id)"), {"id": world.ids["news"]}
                )
                db.session.flush()
            except DBAPIError as exc:
                seen[fault] = database.refusal(exc) or database.unavailable(exc)
            finally:
                database.rollback_quietly()
    kinds = {fault: getattr(found, "kind", found) for fault, found in seen.items()}
    expected = {
        "unique violation": database.TWIN,
        "exclusion violation": database.TWIN,
        "serialization failure": database.RETRY,
        "deadlock": database.RETRY,
        "lock timeout": database.BUSY,
        "connection lost": database.LOST,
        "check violation": None,
    }
    assert kinds == {fault: expected[fault] for fault in _faults(dialect)}
