"""Reads on outings: upcoming ones near me, one event, who is going, iCalendar."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.models import Event, Member, Rsvp
from peuplade.moderation import targets as report_targets
from peuplade.pagination import Prepared, TimeCursor
from peuplade.posts import audience
from peuplade.posts import queries as posts


def near_me(
    viewer: Member, after: TimeCursor | None = None, *, limit: int = posts.LIST_MAX
) -> Prepared:
    """At most ``limit`` events in my neighbourhood that are not over, newest first
    (like every list)."""
    return posts.newest_nearby(viewer, Event, limit=limit, after=after)


def upcoming(viewer: Member, limit: int = 200) -> Select:
    """Events in my neighbourhood that are not over, soonest first (calendar, .ics)."""
    return (
        select(Event)
        .where(audience.reaches(viewer, Event), posts.listed(Event))
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )


def get_event_or_404(viewer: Member, event_id: int) -> Event:
    event = db.session.scalar(
        select(Event).where(Event.id == event_id, audience.visible_to(viewer, Event))
    )
    if event is None:
        raise NotFound(_l("Cette sortie n'existe pas, ou n'est pas dans votre voisinage."))
    return event


report_targets.register("event", get_event_or_404)


def going(event: Event, viewer: Member) -> Select:
    """Who is going, as ``viewer`` is shown it: no one with a block either way with the
    viewer (the count of places, ``going_counts``, still counts everyone; the number
    shown beside this list is ``going_shown_counts``)."""
    return (
        select(Member)
        .join(Rsvp, Rsvp.member_id == Member.id)
        .where(Rsvp.event_id == event.id, Rsvp.going, audience.no_block(viewer.id, Member.id))
        .order_by(Member.sort_name, Member.id)
    )


def my_answer(event: Event, member: Member) -> Rsvp | None:
    return db.session.scalar(
        select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.member_id == member.id)
    )


def going_counts(event_ids: list[int]) -> dict[int, int]:
    """Number of members going, per event, in one query: EVERYONE, blocks or not - the
    places taken (capacity), never a number shown as such (``going_shown_counts``)."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(Rsvp.event_id, func.count())
        .where(Rsvp.event_id.in_(event_ids), Rsvp.going)
        .group_by(Rsvp.event_id)
    )
    return dict(rows.all())


def going_shown_counts(event_ids: list[int], viewer: Member) -> dict[int, int]:
    """Number of members going, per event, as ``viewer`` is shown it (lists, the
    timeline, an event's page): like ``going``, nobody with a block either way with the
    viewer, so that the number matches the list beside it."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(Rsvp.event_id, func.count())
        .where(
            Rsvp.event_id.in_(event_ids),
            Rsvp.going,
            audience.no_block(viewer.id, Rsvp.member_id),
        )
        .group_by(Rsvp.event_id)
    )
    return dict(rows.all())


def answers_of(member: Member, event_ids: list[int]) -> dict[int, bool]:
    """The member's answers (going or not) to some events, in one query."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(Rsvp.event_id, Rsvp.going).where(
            Rsvp.member_id == member.id, Rsvp.event_id.in_(event_ids)
        )
    )
    return dict(rows.all())
