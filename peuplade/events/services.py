"""Writes on outings ("sorties") and RSVPs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from peuplade import database, geo
from peuplade.errors import Conflict, Forbidden, ValidationFailed
from peuplade.extensions import db
from peuplade.location import LocationInput
from peuplade.models import Event, Member, Rsvp, utcnow
from peuplade.moderation import limits
from peuplade.notifications import services as notifications
from peuplade.posts import services as posts
from peuplade.submissions import clean_submission_key
from peuplade.validation import checked_text, collect

TITLE_MAX = 120
BODY_MAX = 4000
CAPACITY_MAX = 10_000
MAX_DURATION = timedelta(days=14)


@dataclass
class EventInput:
    """What an organiser typed. Times are aware datetimes (the forms read local time)."""

    title: str | None = None
    body: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location: LocationInput | None = None
    capacity: object = None
    reach_m: object = None
    # On edit, None means "keep"; this says "remove the end time".
    clear_end: bool = False
    # The announcing form's random token (submissions.new_submission_key): sent twice, one outing.
    submission_key: str | None = None


def clean_times(starts_at: datetime | None, ends_at: datetime | None):
    errors: dict[str, object] = {}
    now = utcnow()
    if starts_at is None:
        errors["starts_at"] = _l("Indiquez le jour et l'heure du début.")
    elif starts_at.tzinfo is None:
        raise ValueError("naive datetime given to events.services")
    elif starts_at <= now:
        errors["starts_at"] = _l("Ce moment est passé.")
    elif starts_at > now + timedelta(days=posts.MAX_DAYS_AHEAD):
        errors["starts_at"] = _l("Choisissez une date dans l'année qui vient.")
    if ends_at is not None and starts_at is not None and "starts_at" not in errors:
        if ends_at < starts_at:
            errors["ends_at"] = _l("La fin doit venir après le début.")
        elif ends_at - starts_at > MAX_DURATION:
            errors["ends_at"] = _l("Une sortie dure deux semaines au plus.")
    if errors:
        raise ValidationFailed(_l("Vérifiez les dates."), errors)
    return starts_at, ends_at


def clean_capacity(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)  # type: ignore[call-overload]
        if isinstance(value, bool) or (isinstance(value, float) and value != number):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        number = 0
    if not 1 <= number <= CAPACITY_MAX:
        msg = _l("Le nombre de places est un nombre entier, 1 au moins.")
        raise ValidationFailed(msg, {"capacity": msg})
    return number


def _where(author: Member, location: LocationInput | None):
    if location is None or location.is_empty:
        msg = _l("Choisissez le lieu du rendez-vous (un lieu public).")
        raise ValidationFailed(msg, {"location": msg})
    return posts.resolve_position(author, location)


def create_event(organiser: Member, data: EventInput) -> Event:
    """Announce an outing at a public place; it leaves the lists once over. The same
    form sent twice (``data.submission_key``) gives the first outing back."""
    key = clean_submission_key(data.submission_key)
    earlier = posts.published_with(organiser, key, Event)
    if earlier is not None:
        return earlier
    limits.check_new_account_posts(organiser)
    values, errors = collect(
        {
            "title": lambda: checked_text(data.title, "title", TITLE_MAX, 3),
            "body": lambda: checked_text(data.body, "body", BODY_MAX, 1),
            "times": lambda: clean_times(data.starts_at, data.ends_at),
            "location": lambda: _where(organiser, data.location),
            "capacity": lambda: clean_capacity(data.capacity),
            "reach_m": lambda: posts.clean_reach(organiser, data.reach_m),
        }
    )
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    starts_at, ends_at = values["times"]
    position, place_name, at_author = values["location"]
    now = utcnow()
    event = Event(
        author=organiser,
        title=values["title"],
        body=values["body"],
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=values["capacity"],
        position=geo.to_element(position),
        place_name=place_name,
        at_author=at_author,
        reach_m=values["reach_m"],
        status="open",
        created_at=now,
        updated_at=now,
        expires_at=ends_at or starts_at,
        submission_key=key,
    )
    return posts.add_once(event)[0]


def _require_organiser(event: Event, member: Member) -> None:
    if event.author_id != member.id:
        raise Forbidden(_l("Seule la personne qui organise peut faire cela."))


def going_count(event: Event) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(Rsvp).where(Rsvp.event_id == event.id, Rsvp.going)
        )
        or 0
    )


def update_event(event: Event, organiser: Member, data: EventInput) -> Event:
    """Change one's event; the number of places cannot drop below those already going."""
    _require_organiser(event, organiser)
    checks = {}
    if data.title is not None:
        checks["title"] = lambda: checked_text(data.title, "title", TITLE_MAX, 3)
    if data.body is not None:
        checks["body"] = lambda: checked_text(data.body, "body", BODY_MAX, 1)
    if data.starts_at is not None or data.ends_at is not None or data.clear_end:
        ends_at = None if data.clear_end else (data.ends_at or event.ends_at)
        checks["times"] = lambda: clean_times(data.starts_at or event.starts_at, ends_at)
    if data.location is not None and not data.location.is_empty:
        checks["location"] = lambda: _where(organiser, data.location)
    if data.capacity is not None:
        checks["capacity"] = lambda: clean_capacity(data.capacity)
    if data.reach_m is not None:
        checks["reach_m"] = lambda: posts.clean_reach(organiser, data.reach_m)
    values, errors = collect(checks)
    if errors:
        raise ValidationFailed(_l("Vérifiez les champs signalés."), errors)
    capacity = values.get("capacity", event.capacity)
    if capacity is not None and going_count(event) > capacity:
        msg = _l(
            "%(n)s personnes viennent déjà : gardez au moins autant de places.",
            n=going_count(event),
        )
        raise ValidationFailed(msg, {"capacity": msg})
    for name in ("title", "body", "capacity", "reach_m"):
        if name in values:
            setattr(event, name, values[name])
    if "times" in values:
        event.starts_at, event.ends_at = values["times"]
        event.expires_at = event.ends_at or event.starts_at
    if "location" in values:
        position, event.place_name, event.at_author = values["location"]
        event.position = geo.to_element(position)
    event.updated_at = utcnow()
    db.session.flush()
    return event


def delete_event(event: Event, organiser: Member) -> None:
    _require_organiser(event, organiser)
    notifications.forget("event", event.id)
    db.session.delete(event)
    db.session.flush()


def rsvp(event: Event, member: Member, going: bool) -> Rsvp:
    """Say whether I go. A full event refuses new "going" answers (Conflict): the event
    row is locked while places are counted, so two last answers cannot both get in."""
    if not isinstance(going, bool):
        msg = _l("Répondez oui ou non.")
        raise ValidationFailed(msg, {"going": msg})
    database.lock_row(Event, event.id)
    if (event.ends_at or event.starts_at) <= utcnow():
        raise Conflict(_l("Cette sortie est passée."))
    answer = db.session.scalar(
        select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.member_id == member.id)
    )
    newly_going = going and not (answer is not None and answer.going)
    if newly_going and event.capacity is not None and going_count(event) >= event.capacity:
        raise Conflict(_l("C'est complet : plus de place pour cette sortie."))
    if answer is None:
        answer = Rsvp(event=event, member=member, going=going)
        db.session.add(answer)
    else:
        answer.going = going
        answer.updated_at = utcnow()
    db.session.flush()
    if newly_going:
        notifications.notify(
            event.author_id, "rsvp", actor=member, subject=("event", event.id), title=event.title
        )
    return answer
