"""Forms for outings ("sorties"). Rules live in events.services; the forms read the day
and time typed in LOCAL time and hand aware UTC instants to the services."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, StringField, TextAreaField

from peuplade.events import services
from peuplade.forms import (
    KEEP_PLACE,
    FreeSelectField,
    add_error,
    picker_centre,
    place_choices,
    place_input,
    typed_day,
    venue_field,
)
from peuplade.localtime import local_zone
from peuplade.models import Event, Place
from peuplade.photos.forms import PhotoFields
from peuplade.posts.forms import SharingFields
from peuplade.submissions import new_submission_key

KEEP = KEEP_PLACE  # on edit: leave the event where it is

TIME_TYPED = re.compile(r"(\d{1,2})\s*(?:[:hH.]\s*(\d{2})?)?")


def _clock(f: Field) -> time | None:
    """A time from a time input (18:30), or typed by hand (18h30, 18h)."""
    raw = (f.data or "").strip()
    if not raw:
        return None
    typed = TIME_TYPED.fullmatch(raw)
    try:
        if not typed:
            raise ValueError
        return time(int(typed.group(1)), int(typed.group(2) or 0))
    except ValueError:
        add_error(f, _l("Écrivez une heure comme 18:30."))
        return None


def _instant(day: date, clock: time) -> datetime:
    """A local day and time as an aware UTC instant."""
    return datetime.combine(day, clock, tzinfo=local_zone()).astimezone(UTC)


class EventForm(PhotoFields, SharingFields, FlaskForm):
    title = StringField(
        _l("Titre"),
        description=_l("En quelques mots. Par exemple : pique-nique au square dimanche."),
        render_kw={"maxlength": services.TITLE_MAX},
    )
    body = TextAreaField(
        _l("Description"),
        description=_l("Ce qu'on fera, ce qu'il faut apporter, comment se retrouver."),
        render_kw={"rows": 6, "maxlength": services.BODY_MAX},
    )
    starts_on = StringField(_l("Jour"), render_kw={"type": "date"})
    starts_time = StringField(
        _l("Heure de début"), render_kw={"type": "time", "placeholder": "18:30"}
    )
    ends_on = StringField(
        _l("Jour de fin"),
        description=_l("Si la sortie finit un autre jour."),
        render_kw={"type": "date"},
    )
    ends_time = StringField(_l("Heure de fin"), render_kw={"type": "time", "placeholder": "20:00"})
    place = FreeSelectField(
        _l("Lieu du rendez-vous"),
        description=_l("Un lieu public près de chez vous : jamais votre domicile."),
    )
    venue = venue_field()
    # A point picked on the map (static/js/home-picker.js), in place of the list.
    venue_lat = HiddenField()
    venue_lon = HiddenField()
    capacity = StringField(
        _l("Nombre de places"),
        description=_l("Laissez vide si tout le monde peut venir."),
        render_kw={
            "type": "number",
            "min": 1,
            "max": services.CAPACITY_MAX,
            "inputmode": "numeric",
        },
    )
    # New outings only: a fresh random token with each blank form (a double click
    # announces once); the edit form ignores it.
    submission_key = HiddenField(default=new_submission_key)

    def __init__(self, *args, places: list[Place] = (), current: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        keep = [(KEEP, _l("Ne pas changer : %(where)s", where=current))] if current else []
        self.centre = picker_centre()  # where the map opens: my PUBLIC position
        self.place.choices = [
            *keep,
            *([] if current else [("", _l("Choisissez un lieu"))]),
            *place_choices(places, self.place.data),
        ]
        # The services name fields by what they mean; errors land on the inputs.
        self.starts_at, self.ends_at, self.location = self.starts_on, self.ends_time, self.place

    def times(self) -> tuple[datetime | None, datetime | None]:
        """Start and end as aware UTC instants; unreadable parts get a field error."""
        start_day, start_clock = typed_day(self.starts_on), _clock(self.starts_time)
        end_day, end_clock = typed_day(self.ends_on), _clock(self.ends_time)
        if self.starts_on.data and start_day and not self.starts_time.errors and not start_clock:
            add_error(self.starts_time, _l("Indiquez l'heure du début."))
        if end_day and not end_clock and not self.ends_time.errors:
            add_error(self.ends_time, _l("Indiquez l'heure de fin."))
        starts_at = _instant(start_day, start_clock) if start_day and start_clock else None
        ends_at = None
        if end_clock and (end_day or start_day):
            ends_at = _instant(end_day or start_day, end_clock)
        return starts_at, ends_at

    def event_input(self, editing: Event | None = None) -> services.EventInput:
        """What to hand the service. On edit, unchanged times and place are not sent
        again (an event may be edited once begun without "ce moment est passé")."""
        starts_at, ends_at = self.times()
        data: dict[str, object] = {
            "title": self.title.data or "",
            "body": self.body.data or "",
            "capacity": (self.capacity.data or "").strip(),
        }
        if editing is None or (starts_at, ends_at) != (editing.starts_at, editing.ends_at):
            data["starts_at"], data["ends_at"] = starts_at, ends_at
            # An end emptied on the form: the event no longer has one.
            data["clear_end"] = editing is not None and ends_at is None
        if editing is None:
            data["submission_key"] = self.submission_key.data or None
        location = place_input(self, self.place)
        if location is not None:
            data["location"] = location
        return services.EventInput(**data)


class RsvpForm(FlaskForm):
    """Only the CSRF token: the answer is the button pressed (going=yes/no)."""


class DeleteForm(FlaskForm):
    """Only the CSRF token: the confirmation is the page itself."""
