"""Feeds for other programs: a public Atom feed per quartier, a member's .ics calendar of
the outings near them, and one outing's .ics ("Ajouter à mon agenda").

Both are built by real libraries (feedgen, icalendar), which escape user text for their
format; we only ever hand them plain text and never a position.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from peuplade.access import public
from peuplade.events import queries as event_queries
from peuplade.extensions import db
from peuplade.models import Event, NewsPost, Quartier, utcnow
from peuplade.news import queries as news_queries
from peuplade.validation import url_id

if TYPE_CHECKING:
    from icalendar import Event as CalendarEvent

bp = Blueprint("feeds", __name__)

FEED_MAX_AGE_S = 300
FEED_ENTRIES = 50
CALENDAR_PRODID = "-//Peuplade//Sorties du voisinage//FR"
EVENT_ID = url_id("event_id")


@bp.get("/feeds/<quartier_slug>.atom")
@public
def quartier_atom(quartier_slug: str) -> Response:
    """The news addressed to a whole quartier, for any feed reader (no login)."""
    quartier = news_queries.quartier_by_slug_or_404(quartier_slug)
    news = db.session.scalars(news_queries.quartier_public_news(quartier, FEED_ENTRIES)).all()
    body = atom_feed(quartier, news)
    response = Response(body, mimetype="application/atom+xml")
    response.charset = "utf-8"
    # Public and the same for everyone: readers and proxies may keep it a few minutes.
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE_S
    return response


def atom_feed(quartier: Quartier, news: list[NewsPost]) -> bytes:
    """Atom XML of these news: title, text, dates, kind and link. Public, so it names
    nobody: the author is "Voisins du quartier <quartier>" (no member's name, email, position or
    place: blocks cannot apply to an anonymous reader, and a name is not needed)."""
    self_url = url_for("feeds.quartier_atom", quartier_slug=quartier.slug, _external=True)
    # Imported here: feedgen and icalendar (with lxml) weigh ~7 MiB in every worker
    # that never serves a feed (docs/SCALING.md, worker memory).
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(_("Infos du quartier %(name)s", name=quartier.display_name))
    feed.subtitle(_("Les infos publiées pour tout le quartier par ses habitants, sur Peuplade."))
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.link(href=url_for("neighbours.index", _external=True), rel="alternate")
    # TRANSLATORS: the author of the public feed of a quartier: its neighbours, unnamed.
    voices = {"name": _("Voisins du quartier %(name)s", name=quartier.display_name)}
    feed.author(voices)
    feed.language("fr")
    feed.generator("Peuplade")
    feed.updated(max((n.updated_at for n in news), default=_feed_epoch()))
    for item in news:  # newest first in the query; feedgen keeps the order with "append"
        entry = feed.add_entry(order="append")
        page = url_for("news.show", news_id=item.id, _external=True)
        entry.id(page)
        entry.title(item.title)
        entry.link(href=page, rel="alternate")
        entry.published(item.created_at)
        entry.updated(item.updated_at)
        entry.author(voices)
        entry.category(term=item.kind)
        # feedgen 1.0 drops the rel of entry links, so a second link would pose as the page:
        # the author's link (checked http(s) when posted) goes at the end of the text.
        text = f"{item.body}\n\n{item.link}" if item.link else item.body
        entry.content(text, type="text")
    return feed.atom_str(pretty=True)


def _feed_epoch() -> datetime:
    """An empty feed still needs an <updated>; "now" is honest for "nothing yet"."""
    return utcnow().replace(microsecond=0)


@bp.get("/events.ics")
def upcoming_ics() -> Response:
    """The upcoming outings of my neighbourhood, for my calendar application."""
    events = db.session.scalars(event_queries.upcoming(current_user)).all()
    return _ics_response(ics_calendar(events), "peuplade-sorties.ics")


@bp.get(f"/events/{EVENT_ID}.ics")
def event_ics(event_id: int) -> Response:
    """One outing, for "Ajouter à mon agenda": seen by whoever may see its page (the
    same query, so the same 404 for everyone else)."""
    event = event_queries.get_event_or_404(current_user, event_id)
    body = ics_calendar([event], named=False)
    return _ics_response(body, f"peuplade-sortie-{event.id}.ics")


def _ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")  # "; charset=utf-8" added
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Personal (it depends on my neighbourhood): never kept by a shared cache.
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


def ics_calendar(events: list[Event], *, named: bool = True) -> bytes:
    """iCalendar (RFC 5545) with one VEVENT per outing; the library folds long lines,
    ends them with CRLF and escapes the text (commas, semicolons, newlines). Not
    ``named`` for a single outing: without a calendar name, applications add it to the
    calendar the member already has instead of offering a new one."""
    # Here, not at the top: see atom_feed.
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", CALENDAR_PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if named:
        calendar.add("x-wr-calname", _("Sorties du voisinage (Peuplade)"))
    stamp = utcnow().replace(microsecond=0)
    host = _uid_host()
    for event in events:
        calendar.add_component(ics_event(event, stamp, host))
    return calendar.to_ical()


def ics_event(event: Event, stamp: datetime, host: str) -> CalendarEvent:
    """One outing as a VEVENT, times in UTC. Its UID is the same in every file (the
    calendar feed, the outing's own file, any download), so adding it twice, or updating
    it, replaces it instead of duplicating it. LOCATION is the public place's name only:
    never a coordinate, never anyone's home."""
    page = url_for("events.show", event_id=event.id, _external=True)
    # Here, not at the top: see atom_feed.
    from icalendar import Event as CalendarEvent

    entry = CalendarEvent()
    entry.add("uid", f"event-{event.id}@{host}")
    entry.add("dtstamp", stamp)
    entry.add("dtstart", event.starts_at.replace(microsecond=0))
    if event.ends_at is not None:
        entry.add("dtend", event.ends_at.replace(microsecond=0))
    entry.add("last-modified", event.updated_at.replace(microsecond=0))
    entry.add("summary", event.title)
    # Many calendar applications do not show URL: the page's address ends the text too.
    entry.add("description", f"{event.body}\n\n{page}")
    if event.place_name:
        entry.add("location", event.place_name)
    entry.add("url", page)
    return entry


def _uid_host() -> str:
    """The configured server name, else the host this request came to (without the port)."""
    name = current_app.config.get("SERVER_NAME") or request.host
    return name.split(":", 1)[0] or "peuplade"
