"""HTML pages for outings ("Sorties"): upcoming ones near me, one event with who is
going and the RSVP buttons, and the forms to announce, edit and delete. Every write goes
through events.services; every event is loaded through queries.get_event_or_404."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from peuplade.errors import Conflict, Forbidden
from peuplade.events import queries, services
from peuplade.events.forms import DeleteForm, EventForm, RsvpForm
from peuplade.extensions import db
from peuplade.forms import submit
from peuplade.localtime import local_zone
from peuplade.models import Event, Member, utcnow
from peuplade.photos.forms import PHOTO_RENAMES, PostPhotos
from peuplade.photos.uploads import accepts_photos
from peuplade.posts import queries as posts
from peuplade.posts import services as post_services
from peuplade.posts.forms import save_sharing, sharing_data
from peuplade.posts.labels import Bands
from peuplade.validation import url_id

bp = Blueprint("events", __name__)

EVENT_ID = url_id("event_id")
# Outings leave the lists once over, so the calendar stays short: no pages, soonest first.
UPCOMING_SHOWN = 100


def _me() -> Member:
    return current_user._get_current_object()


@bp.app_template_filter("local_day")
def local_day(value: datetime) -> date:
    return value.astimezone(local_zone()).date()


def _local_fields(value: datetime | None) -> tuple[str, str]:
    """An instant as the (day, time) inputs show it, in local time."""
    if value is None:
        return "", ""
    local = value.astimezone(local_zone())
    return local.date().isoformat(), local.strftime("%H:%M")


@bp.route("/events")
def index():
    me = _me()
    rows = db.session.scalars(queries.upcoming(me, limit=UPCOMING_SHOWN)).all()
    bands = Bands(me)
    cards = [{"event": e, "band": bands.band_of_others(e)} for e in rows]
    return render_template("events/index.html", cards=cards, radius_m=me.radius_m)


@bp.route("/events/new", methods=["GET", "POST"])
@accepts_photos
def new():
    me = _me()
    places = post_services.places_near(me)
    if request.method == "GET":
        form = EventForm(places=places, formdata=None)
        PostPhotos(form, "event", me)
        return render_template("events/new.html", form=form, general=[], places=places)
    form = EventForm(places=places)
    photos = PostPhotos(form, "event", me)
    general: list[str] = []
    if form.validate_on_submit():
        photos.read()
        outcome = submit(
            form,
            lambda: save_sharing(form, photos.save(services.create_event(me, form.event_input()))),
            PHOTO_RENAMES,
        )
        if outcome.ok:
            flash(_("Votre sortie est annoncée."), "success")
            return redirect(url_for("events.show", event_id=outcome.result.id))
        general = outcome.general
        photos.keep()
    return render_template("events/new.html", form=form, general=general, places=places), 422


def _own_event_or_403(event_id: int) -> Event:
    me = _me()
    event = queries.get_event_or_404(me, event_id)
    if event.author_id != me.id:
        raise Forbidden(_("Seule la personne qui organise peut faire cela."))
    return event


@bp.route(f"/events/{EVENT_ID}/edit", methods=["GET", "POST"])
@accepts_photos
def edit(event_id: int):
    me = _me()
    event = _own_event_or_403(event_id)
    places = post_services.places_near(me)
    current = event.place_name or _("le lieu actuel")
    if request.method == "GET":
        starts_on, starts_time = _local_fields(event.starts_at)
        ends_on, ends_time = _local_fields(event.ends_at)
        form = EventForm(
            places=places,
            current=current,
            data={
                "title": event.title,
                "body": event.body,
                "starts_on": starts_on,
                "starts_time": starts_time,
                "ends_on": ends_on if ends_on != starts_on else "",
                "ends_time": ends_time,
                "place": "keep",
                "capacity": str(event.capacity or ""),
                **sharing_data(event),
            },
        )
        PostPhotos(form, "event", me, event)
        return render_template(
            "events/edit.html", form=form, event=event, general=[], places=places
        )
    form = EventForm(places=places, current=current)
    photos = PostPhotos(form, "event", me, event)
    general: list[str] = []
    if form.validate_on_submit():
        photos.read()
        outcome = submit(
            form,
            lambda: save_sharing(
                form, photos.save(services.update_event(event, me, form.event_input(event)))
            ),
            PHOTO_RENAMES,
        )
        if outcome.ok:
            flash(_("Votre sortie est modifiée."), "success")
            return redirect(url_for("events.show", event_id=event.id))
        general = outcome.general
        photos.keep()
    return (
        render_template("events/edit.html", form=form, event=event, general=general, places=places),
        422,
    )


@bp.route(f"/events/{EVENT_ID}/delete", methods=["GET", "POST"])
def delete(event_id: int):
    """GET asks for confirmation (no JavaScript needed); POST deletes."""
    me = _me()
    event = _own_event_or_403(event_id)
    form = DeleteForm()
    if request.method == "POST" and form.validate_on_submit():
        outcome = submit(form, lambda: services.delete_event(event, me))
        if outcome.ok:
            flash(_("Votre sortie est supprimée."), "success")
            return redirect(url_for("events.index"))
    return render_template("events/delete.html", form=form, event=event)


def _show(event: Event, *, status: int = 200, problem: str | None = None):
    me = _me()
    going = db.session.scalars(queries.going(event, me)).all()
    taken = queries.going_counts([event.id]).get(event.id, 0)
    left = None if event.capacity is None else max(event.capacity - taken, 0)
    return (
        render_template(
            "events/show.html",
            event=event,
            is_organiser=event.author_id == me.id,
            band=None if event.author_id == me.id else posts.distance_band(me, event),
            going=going,
            places_left=left,
            answer=queries.my_answer(event, me),
            is_past=(event.ends_at or event.starts_at) <= utcnow(),
            problem=problem,
            rsvp_form=RsvpForm(formdata=None),
        ),
        status,
    )


@bp.route(f"/events/{EVENT_ID}")
def show(event_id: int):
    return _show(queries.get_event_or_404(_me(), event_id))


@bp.route(f"/events/{EVENT_ID}/rsvp", methods=["POST"])
def rsvp(event_id: int):
    """ "J'y vais" / "Je n'y vais pas". Full or past: the page again, with why (409)."""
    me = _me()
    event = queries.get_event_or_404(me, event_id)
    form = RsvpForm()
    if not form.validate_on_submit():
        return _show(event, status=400, problem=_("Le formulaire a expiré : réessayez."))
    answer = request.form.get("going")
    if answer not in ("yes", "no"):
        return _show(event, status=422, problem=_("Répondez « J'y vais » ou « Je n'y vais pas »."))
    try:
        outcome = submit(form, lambda: services.rsvp(event, me, answer == "yes"))
    except Conflict as exc:
        return _show(event, status=409, problem=str(exc.message))
    if not outcome.ok:
        return _show(event, status=422, problem=" ".join(outcome.general))
    if answer == "yes":
        flash(_("C'est noté : vous y allez."), "success")
    else:
        flash(_("C'est noté : vous n'y allez pas."), "success")
    return redirect(url_for("events.show", event_id=event.id))
