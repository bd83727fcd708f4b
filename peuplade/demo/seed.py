"""The demo neighbourhood's builder: members, exchanges, objects and loans, news and
outings, read from the data/demo-*.json files and made through the features' own
services (so the demo obeys every rule a real member does); each function flushes and
never commits. ``flask seed-demo`` (peuplade/demo/cli.py) runs them in one transaction.

Each refusal is a ``CommandFailed`` that names the demo entry at fault.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from peuplade import localtime
from peuplade.account import blur, queries, services
from peuplade.commands import CommandFailed
from peuplade.config import ARGON2_OWASP_MINIMUM
from peuplade.errors import NotFound, ServiceError, ValidationFailed
from peuplade.events import queries as event_queries
from peuplade.events import services as events
from peuplade.exchanges import queries as exchange_queries
from peuplade.exchanges import services as exchanges
from peuplade.extensions import db
from peuplade.geocoding import OfflineGazetteer
from peuplade.loans import queries as loan_queries
from peuplade.loans import services as loans
from peuplade.location import LocationInput
from peuplade.models import (
    Event,
    Exchange,
    ExchangeResponse,
    Item,
    Loan,
    Member,
    NewsPost,
    Notification,
    Rsvp,
    Thanks,
    utcnow,
)
from peuplade.news import queries as news_queries
from peuplade.news import services as news
from peuplade.posts import services as posts


def _field_messages(exc: Any) -> str:
    """A service's refusal on one line (each field's message, else the message)."""
    fields = getattr(exc, "fields", None) or {}
    if fields:
        return "; ".join(f"{name} : {message}" for name, message in fields.items())
    return str(getattr(exc, "message", exc))


def seed_demo(password: str, members_path: Path) -> tuple[int, int, str]:
    """Register the demo members (skipping existing emails); flush, no commit.

    Returns (created, skipped, one demo email).
    """
    try:
        people = json.loads(members_path.read_text(encoding="utf-8"))["members"]
    except FileNotFoundError:
        raise CommandFailed(f"fichier introuvable : {members_path}") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CommandFailed(f"{members_path} illisible ({type(exc).__name__}).") from None
    # The demo addresses live in the offline gazetteer; with a real provider configured we
    # still place them from it, as points, instead of asking a remote service.
    gazetteer = None
    if current_app.config["GEOCODER"] != "offline":
        gazetteer = OfflineGazetteer(current_app.config["GAZETTEER_PATH"])
    created = skipped = 0
    # The demo password is public: the OWASP minimum cost (upgraded by authenticate() at the
    # first login) keeps seeding 40 members to a few seconds instead of ~20 s.
    config = current_app.config
    saved, config["ARGON2_PARAMETERS"] = config["ARGON2_PARAMETERS"], ARGON2_OWASP_MINIMUM
    try:
        for person in people:
            if _seed_one(person, password, gazetteer):
                created += 1
            else:
                skipped += 1
    finally:
        config["ARGON2_PARAMETERS"] = saved
    _settle_demo_crowds([services.normalise_email(p["email"]) for p in people])
    return created, skipped, services.normalise_email(people[0]["email"]) if people else ""


def _settle_demo_crowds(emails: list[str]) -> None:
    """The demo neighbours joined two months ago and confirmed their e-mail: they are
    established, and their crowds have held (as the daily ``privacy-refresh`` would
    find them), so they are shown in the cells a real street of theirs would have."""
    now = utcnow()
    joined = now - timedelta(days=60)
    db.session.execute(
        update(Member)
        .where(Member.email.in_(emails), Member.email_confirmed_at.is_(None))
        .values(email_confirmed_at=joined, created_at=joined)
    )
    stable = timedelta(days=current_app.config["PRIVACY_STABLE_DAYS"] + 1)
    blur.refresh_all(now=now - stable)
    blur.refresh_all(now=now)


def _seed_one(person: dict[str, Any], password: str, gazetteer: Any) -> bool:
    """Register one demo member; False when the email is already taken."""
    try:
        email = services.normalise_email(person["email"])
    except ValidationFailed as exc:
        raise CommandFailed(f"{person['email']} : {exc.message}") from None
    if queries.member_by_email(email) is not None:
        return False
    location = services.LocationInput(address=person["address"])
    if gazetteer is not None:
        place = gazetteer.geocode(person["address"], exactly_one=True)
        if place is None:
            raise CommandFailed(f"{person['address']} absent du gazetteer.")
        location = services.LocationInput(lat=place.latitude, lon=place.longitude)
    try:
        services.register_member(
            email=email,
            password=password,
            display_name=person["display_name"],
            location=location,
            radius_m=person.get("radius_m"),
            skills=person.get("skills", []),
            tags=person.get("tags", []),
            bio=person.get("bio", ""),
            locale="fr",
        )
    except ValidationFailed as exc:
        raise CommandFailed(
            f"membre de démonstration {person['email']} refusé : {_field_messages(exc)}"
        ) from None
    return True


# --- demo exchanges ------------------------------------------------------------------


@dataclass
class DemoTimeline:
    """When things happened, spread between the exchange's creation and now."""

    created: datetime
    now: datetime
    steps: int

    def at(self, step: int) -> datetime:
        return self.created + (self.now - self.created) * step / (self.steps + 1)


def _load_demo_entries(path: Path, key: str) -> list[dict[str, Any]]:
    """The list ``key`` of a demo data file (``{"exchanges": [...]}``, ``{"items": [...]}``)."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))[key]
    except FileNotFoundError:
        raise CommandFailed(f"fichier introuvable : {path}") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CommandFailed(f"{path} illisible ({type(exc).__name__}).") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CommandFailed(f"{path} : « {key} » doit être une liste d'objets.")
    return entries


def seed_demo_exchanges(path: Path) -> tuple[int, int]:
    """Post the demo exchanges through the exchange services; flush, no commit.

    An exchange already posted by the same author with the same title is skipped, so
    the command can run again. Returns (created, skipped).
    """
    entries = _load_demo_entries(path, "exchanges")
    now = utcnow()
    created = skipped = 0
    for index, entry in enumerate(entries):
        where = f"échange de démonstration n°{index + 1} « {entry.get('title', '?')} »"
        try:
            if _seed_exchange(entry, index, now):
                created += 1
            else:
                skipped += 1
        except CommandFailed as exc:
            raise CommandFailed(f"{where} : {exc.message}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandFailed(f"{where} : champ manquant ou invalide ({exc}).") from None
    return created, skipped


def _demo_member(email: str) -> Any:
    try:
        member = queries.member_by_email(services.normalise_email(email))
    except ValidationFailed:
        member = None
    if member is None:
        raise CommandFailed(f"{email} n'est pas un membre de démonstration.")
    return member


def _demo_place(author: Any, name: str) -> int:
    """The public place of that name the author's own form would offer."""
    place = next((p for p in posts.places_near(author, limit=2000) if p.name == name), None)
    if place is None:
        raise CommandFailed(
            f"lieu « {name} » introuvable dans le voisinage de {author.email} "
            "(lancez « flask import-places data/places-paris.geojson »)."
        )
    return place.id


def _seed_exchange(entry: dict[str, Any], index: int, now: datetime) -> bool:
    """Post one demo exchange with its responses, outcome and thanks; False if present."""
    author = _demo_member(entry["author"])
    already = db.session.scalar(
        select(Exchange.id).where(Exchange.author_id == author.id, Exchange.title == entry["title"])
    )
    if already is not None:
        return False
    first_day = localtime.today()
    starts = entry.get("starts_in_days")
    ends = entry.get("ends_in_days")
    location = None
    if entry.get("place"):
        location = LocationInput(place_id=_demo_place(author, entry["place"]))
    responses = entry.get("responses", [])
    outcome = entry.get("outcome")
    try:
        exchange = exchanges.create_exchange(
            author,
            exchanges.ExchangeInput(
                kind=entry["kind"],
                title=entry["title"],
                body=entry["body"],
                category=entry["category"],
                starts_on=None if starts is None else first_day + timedelta(days=starts),
                ends_on=None if ends is None else first_day + timedelta(days=ends),
                location=location,
                reach_m=entry.get("reach_m"),
                # Posted for a neighbour without internet, who agreed (demo data).
                on_behalf_of=entry.get("on_behalf_of"),
                behalf_consent=bool(entry.get("on_behalf_of")),
            ),
        )
        # Spread over the last weeks (a few hours apart) so the timeline looks alive.
        created_at = now - timedelta(
            days=entry["created_days_ago"], hours=(index * 5) % 11, minutes=(index * 17) % 60
        )
        steps = DemoTimeline(created_at, now, len(responses) + (3 if outcome else 0))
        for step, answer in enumerate(responses, start=1):
            neighbour = _demo_member(answer["from"])
            try:
                # Only a neighbour who really sees the exchange may answer it.
                seen = exchange_queries.get_exchange_or_404(neighbour, exchange.id)
            except NotFound:
                raise CommandFailed(
                    f"{answer['from']} ne voit pas cet échange (hors de son voisinage)."
                ) from None
            response = exchanges.respond(seen, neighbour, answer["message"])
            response.created_at = steps.at(step)
        if outcome:
            helper = _demo_member(entry["helper"]) if entry.get("helper") else None
            exchanges.close_exchange(exchange, author, outcome, helper.id if helper else None)
            exchange.closed_at = steps.at(len(responses) + 1)
            thanks = entry.get("thanks", {})
            if helper is not None and thanks.get("author"):
                note = exchanges.thank(exchange, author, thanks["author"])
                note.created_at = steps.at(len(responses) + 2)
            if helper is not None and thanks.get("helper"):
                note = exchanges.thank(exchange, helper, thanks["helper"])
                note.created_at = steps.at(len(responses) + 3)
    except ServiceError as exc:
        raise CommandFailed(_field_messages(exc)) from None
    exchange.created_at = created_at
    exchange.updated_at = exchange.closed_at or created_at
    exchange.expires_at = posts.expiry(exchange.ends_on or exchange.starts_on, created_at)
    db.session.flush()
    return True


# --- demo objects and loans ------------------------------------------------------------

# A loan whose period started in the past cannot be asked for today (the services refuse
# a start in the past, as they should for real members). Such a demo loan is asked for
# this far ahead, walked through its steps, then moved back to its real dates.
PAST_LOAN_PARKING_DAYS = 300
# The steps each final state of a demo loan goes through, after the request.
LOAN_STEPS = {
    "requested": (),
    "accepted": ("accept",),
    "declined": ("decline",),
    "lent": ("accept", "handover"),
    "returned": ("accept", "handover", "return"),
    "cancelled": ("cancel",),
}


def seed_demo_items(path: Path) -> tuple[int, int, int]:
    """Put the demo objects on the shelf with their loans, through the loan services;
    flush, no commit.

    An object already offered by the same lender with the same title is skipped with its
    loans, so the command can run again. Returns (objects created, skipped, loans created).
    """
    entries = _load_demo_entries(path, "items")
    now = utcnow()
    created = skipped = lent = 0
    for index, entry in enumerate(entries):
        where = f"objet de démonstration n°{index + 1} « {entry.get('title', '?')} »"
        try:
            made = _seed_item(entry, index, now)
        except CommandFailed as exc:
            raise CommandFailed(f"{where} : {exc.message}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandFailed(f"{where} : champ manquant ou invalide ({exc}).") from None
        if made is None:
            skipped += 1
        else:
            created += 1
            lent += made
    return created, skipped, lent


def _seed_item(entry: dict[str, Any], index: int, now: datetime) -> int | None:
    """Offer one demo object and create its loans; None if already there, else how many
    loans were created."""
    lender = _demo_member(entry["lender"])
    already = db.session.scalar(
        select(Item.id).where(Item.author_id == lender.id, Item.title == entry["title"])
    )
    if already is not None:
        return None
    created_at = now - timedelta(
        days=entry["created_days_ago"], hours=(index * 5) % 11, minutes=(index * 17) % 60 + 1
    )
    try:
        # Available while its loans are made: an unavailable object cannot be asked for.
        item = loans.offer_item(
            lender,
            loans.ItemInput(
                title=entry["title"],
                description=entry.get("description", ""),
                category=entry["category"],
                condition=entry.get("condition", "bon"),
                notes=entry.get("notes", ""),
                available=True,
            ),
        )
    except ServiceError as exc:
        raise CommandFailed(_field_messages(exc)) from None
    # Oldest request first: a lender declines one request before accepting another for
    # the same dates, as a real lender would.
    requests = sorted(
        enumerate(entry.get("loans", [])), key=lambda pair: -pair[1]["asked_days_ago"]
    )
    for number, request in requests:
        try:
            problem = demo_loan_problem(request, entry["created_days_ago"])
            if problem:
                raise CommandFailed(problem)
            _seed_loan(item, request, index + number, now)
        except CommandFailed as exc:
            raise CommandFailed(
                f"prêt n°{number + 1} ({request['borrower']}) : {exc.message}"
            ) from None
    item.available = bool(entry.get("available", True))
    item.created_at = item.updated_at = created_at
    db.session.flush()
    return len(requests)


def demo_loan_problem(request: dict[str, Any], offered_days_ago: int) -> str | None:
    """Why a demo loan's state and relative dates do not fit together, or None.

    The services check the rest (period length, order, own object...) when it is made.
    """
    status = request["status"]
    if status not in LOAN_STEPS:
        return f"état « {status} » inconnu ({', '.join(LOAN_STEPS)})."
    first, last = int(request["start_in_days"]), int(request["due_in_days"])
    asked = int(request["asked_days_ago"])
    handed_over = "handover" in LOAN_STEPS[status]
    if handed_over and first >= 0:
        return "un prêt remis ou rendu commence dans le passé."
    if status == "returned" and last >= 0:
        return "un prêt rendu se termine dans le passé."
    if not handed_over and first < 0:
        return f"un prêt « {status} » commence aujourd'hui ou plus tard."
    if asked >= offered_days_ago:
        return "demandé avant que l'objet soit proposé."
    if asked < max(1 if handed_over else 0, -first):
        return "la demande doit précéder le premier jour du prêt."
    return None


def _local(day: date, hour: int) -> datetime:
    """That hour of a local day, in UTC."""
    return datetime.combine(day, time(hour), tzinfo=localtime.local_zone()).astimezone(UTC)


def _seed_loan(item: Any, request: dict[str, Any], jitter: int, now: datetime) -> None:
    """Ask for the object as the borrower, then walk the loan to its final state."""
    status = request["status"]
    first, last = request["start_in_days"], request["due_in_days"]
    asked = request["asked_days_ago"]
    handed_over = "handover" in LOAN_STEPS[status]
    borrower = _demo_member(request["borrower"])
    lender = item.author
    try:
        # Only a neighbour who really sees the object may ask for it.
        seen = loan_queries.get_item_or_404(borrower, item.id)
    except NotFound:
        raise CommandFailed(
            f"{request['borrower']} ne voit pas cet objet (hors de son voisinage)."
        ) from None
    day = localtime.today()
    real_start, real_due = day + timedelta(days=first), day + timedelta(days=last)
    parking = timedelta(days=PAST_LOAN_PARKING_DAYS - first) if first < 0 else timedelta(0)
    try:
        loan = loans.request_loan(
            seen, borrower, real_start + parking, real_due + parking, request.get("message", "")
        )
        for step in LOAN_STEPS[status]:
            if step == "cancel":
                if request.get("accepted_first"):
                    loans.accept(loan, lender)
                by = borrower if request.get("cancelled_by", "borrower") == "borrower" else lender
                loans.cancel(loan, by)
            else:
                if step == "handover":
                    # A hand-over is noted from the loan's first day on: back to its
                    # real (past) dates first.
                    _to_real_dates(loan, real_start, real_due)
                loans.STEPS[step](loan, lender)
    except ServiceError as exc:
        raise CommandFailed(_field_messages(exc)) from None
    # The demo must look lived-in: asked days ago, handed over on its first day, back on
    # its due date (each moment kept in order and before now).
    asked_at = now - timedelta(days=asked, hours=(jitter * 3) % 7, minutes=(jitter * 13) % 60 + 1)
    lent_at = returned_at = None
    if handed_over:
        lent_at = min(
            max(_local(real_start, 18), asked_at + timedelta(hours=2)), now - timedelta(minutes=20)
        )
    if status == "returned":
        returned_at = min(
            max(_local(real_due, 19), lent_at + timedelta(hours=1)), now - timedelta(minutes=10)
        )
    loan.created_at = asked_at
    if status != "requested":
        loan.decided_at = asked_at + ((lent_at or now) - asked_at) / 3
    loan.lent_at, loan.returned_at = lent_at, returned_at
    loan.updated_at = returned_at or lent_at or loan.decided_at or asked_at
    _to_real_dates(loan, real_start, real_due)


def _to_real_dates(loan: Any, start: date, due: date) -> None:
    """Back to its real dates; the database's overlap guard checks them again here."""
    loan.start, loan.due = start, due
    try:
        db.session.flush()
    except IntegrityError as exc:
        if "loans_no_overlap" not in str(exc.orig):
            raise
        raise CommandFailed("ses dates chevauchent un autre prêt accepté ou en cours.") from None


# --- demo news and outings ------------------------------------------------------------


def seed_demo_news(path: Path) -> tuple[int, int, int, int]:
    """Publish the demo news (with comments) and outings (with RSVPs) through the news and
    event services; flush, no commit.

    Dates are relative to now, so the demo never goes stale. A news or an outing already
    posted by the same author with the same title is skipped with its comments or RSVPs.
    Returns (news created, events created, comments and RSVPs created, skipped).
    """
    now = utcnow()
    posted = announced = answers = skipped = 0
    for index, entry in enumerate(_load_demo_entries(path, "news")):
        where = f"info de démonstration n°{index + 1} « {entry.get('title', '?')} »"
        with _named(where):
            made = _seed_news(entry, index, now)
        if made is None:
            skipped += 1
        else:
            posted += 1
            answers += made
    for index, entry in enumerate(_load_demo_entries(path, "events")):
        where = f"sortie de démonstration n°{index + 1} « {entry.get('title', '?')} »"
        with _named(where):
            made = _seed_event(entry, index, now)
        if made is None:
            skipped += 1
        else:
            announced += 1
            answers += made
    return posted, announced, answers, skipped


@contextmanager
def _named(where: str) -> Iterator[None]:
    """Prefix a demo entry's refusal with which entry it is (one readable line)."""
    try:
        yield
    except CommandFailed as exc:
        raise CommandFailed(f"{where} : {exc.message}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise CommandFailed(f"{where} : champ manquant ou invalide ({exc}).") from None


def _seed_news(entry: dict[str, Any], index: int, now: datetime) -> int | None:
    """Publish one demo news and its comments; None if already there, else the comments."""
    author = _demo_member(entry["author"])
    already = db.session.scalar(
        select(NewsPost.id).where(NewsPost.author_id == author.id, NewsPost.title == entry["title"])
    )
    if already is not None:
        return None
    created_at = now - timedelta(hours=entry["created_hours_ago"], minutes=(index * 17) % 60 + 1)
    comments = entry.get("comments", [])
    steps = DemoTimeline(created_at, now, len(comments))
    try:
        item = news.post_news(
            author,
            news.NewsInput(
                kind=entry["kind"],
                title=entry["title"],
                body=entry["body"],
                link=entry.get("link"),
                scope=entry.get("scope", "radius"),
            ),
        )
        for step, note in enumerate(comments, start=1):
            reader = _demo_member(note["from"])
            try:
                # Only a neighbour who really reads the news may comment on it.
                seen = news_queries.get_news_or_404(reader, item.id)
            except NotFound:
                raise CommandFailed(
                    f"{note['from']} ne voit pas cette info (hors de son voisinage)."
                ) from None
            news.comment(seen, reader, note["body"]).created_at = steps.at(step)
    except ServiceError as exc:
        raise CommandFailed(_field_messages(exc)) from None
    item.created_at = item.updated_at = created_at
    item.expires_at = posts.expiry(None, created_at)
    db.session.flush()
    return len(comments)


def _seed_event(entry: dict[str, Any], index: int, now: datetime) -> int | None:
    """Announce one demo outing at a public place and record its RSVPs; None if already
    there, else how many RSVPs."""
    organiser = _demo_member(entry["organiser"])
    already = db.session.scalar(
        select(Event.id).where(Event.author_id == organiser.id, Event.title == entry["title"])
    )
    if already is not None:
        return None
    if int(entry["starts_in_days"]) < 1:
        raise CommandFailed("une sortie de démonstration commence demain ou plus tard.")
    starts_at = _local(
        localtime.today() + timedelta(days=entry["starts_in_days"]), entry["start_hour"]
    )
    hours = entry.get("duration_hours")
    created_at = now - timedelta(days=entry["created_days_ago"], minutes=(index * 23) % 60 + 1)
    rsvps = entry.get("rsvps", [])
    steps = DemoTimeline(created_at, now, len(rsvps))
    try:
        event = events.create_event(
            organiser,
            events.EventInput(
                title=entry["title"],
                body=entry["body"],
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=hours) if hours else None,
                location=LocationInput(place_id=_demo_place(organiser, entry["place"])),
                capacity=entry.get("capacity"),
            ),
        )
        for step, answer in enumerate(rsvps, start=1):
            neighbour = _demo_member(answer["from"])
            try:
                # Only a neighbour who really sees the outing may answer.
                seen = event_queries.get_event_or_404(neighbour, event.id)
            except NotFound:
                raise CommandFailed(
                    f"{answer['from']} ne voit pas cette sortie (hors de son voisinage)."
                ) from None
            reply = events.rsvp(seen, neighbour, bool(answer["going"]))
            reply.created_at = reply.updated_at = steps.at(step)
    except ServiceError as exc:
        raise CommandFailed(_field_messages(exc)) from None
    event.created_at = event.updated_at = created_at
    db.session.flush()
    return len(rsvps)


DEMO_DOMAIN = "demo.example.org"
# The demo members last came by this long ago: what happened before is read, as it
# would be for a real neighbour; only what happened since waits in their bell.
DEMO_LAST_VISIT = timedelta(days=2)


def settle_demo_notifications() -> int:
    """The demo members' notifications as a real member would find them.

    Made by the services while seeding, they are all dated "now" and unread (24 "new"
    for camille at her first login). Each is dated when what it tells happened (the
    answer, the RSVP, the loan's step, the request's posting), and read when the member
    has been by since, or has acted on it (a loan request already answered). Returns
    how many stay unread."""
    demo = set(db.session.scalars(select(Member.id).where(Member.email.like(f"%@{DEMO_DOMAIN}"))))
    notes = [
        n
        for n in db.session.scalars(select(Notification).where(Notification.read_at.is_(None)))
        if n.member_id in demo
    ]
    answered = {
        (r.exchange_id, r.author_id): r.created_at
        for r in db.session.scalars(select(ExchangeResponse))
    }
    thanked = {
        (t.exchange_id, t.from_member_id): t.created_at for t in db.session.scalars(select(Thanks))
    }
    coming = {(r.event_id, r.member_id): r.created_at for r in db.session.scalars(select(Rsvp))}
    exchanges_by_id = {e.id: e for e in db.session.scalars(select(Exchange))}
    loans_by_id = {loan.id: loan for loan in db.session.scalars(select(Loan))}
    now = utcnow()
    last_visit = now - DEMO_LAST_VISIT
    unread = 0
    for note in notes:
        happened, acted = _demo_moment(
            note, answered, thanked, coming, exchanges_by_id, loans_by_id
        )
        if happened is None:
            unread += 1
            continue
        note.created_at = min(happened, now)
        if acted is not None:
            note.read_at = min(max(acted, note.created_at), now)
        elif note.created_at < last_visit:
            note.read_at = min(note.created_at + timedelta(hours=3), last_visit)
        else:
            unread += 1
    db.session.flush()
    return unread


def _demo_moment(note, answered, thanked, coming, exchanges_by_id, loans_by_id):
    """When what ``note`` tells happened, and when its member acted on it (or None)."""
    key = (note.subject_id, note.actor_id)
    if note.kind == "response":
        return answered.get(key), None
    if note.kind == "thanks":
        return thanked.get(key), None
    if note.kind == "rsvp":
        return coming.get(key), None
    if note.kind in ("picked", "matching_request"):
        exchange = exchanges_by_id.get(note.subject_id)
        if exchange is None:
            return None, None
        if note.kind == "picked":
            return exchange.closed_at, None
        return exchange.created_at + timedelta(minutes=2), None
    loan = loans_by_id.get(note.subject_id) if note.subject_type == "loan" else None
    if loan is None:
        return None, None
    moments = {
        "loan_requested": loan.created_at,
        "loan_accepted": loan.decided_at,
        "loan_declined": loan.decided_at,
        "loan_cancelled": loan.decided_at or loan.updated_at,
        "loan_handed_over": loan.lent_at,
        "loan_returned": loan.returned_at,
    }
    # The lender has answered a request: they acted on it.
    acted = (
        loan.decided_at if note.kind == "loan_requested" and loan.status != "requested" else None
    )
    return moments.get(note.kind), acted


def skip_demo_emails() -> None:
    """The demo's own activity fills the demo members' bells, but their addresses are
    not real: none of those notifications is emailed."""
    demo = select(Member.id).where(Member.email.like(f"%@{DEMO_DOMAIN}"))
    db.session.execute(
        update(Notification)
        .where(
            Notification.email_state.in_(("pending", "digest")),
            Notification.member_id.in_(demo),
        )
        .values(email_state="skipped")
    )
