"""The form kit every page shares: handing a form to a service (:func:`submit`, the
request's one commit, with the service's errors put on the form), the fields several
forms use (free selects, skills, typed dates, the home's address and radius) and their
hints.

Rules live in the services; forms only carry what the member typed and show the
errors the services report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import DBAPIError
from wtforms import Field, SelectField, SelectMultipleField, StringField

from peuplade import database, geo
from peuplade.errors import ServiceError, ValidationFailed
from peuplade.extensions import db
from peuplade.formats import radius_text
from peuplade.location import AmbiguousLocation, LocationInput
from peuplade.models import RADIUS_MAX_M, RADIUS_MIN_M, Place

# --- a form handed to a service --------------------------------------------------------


def add_error(field: Field, message: object) -> None:
    """Attach one more error to a field (errors are a tuple until validate() ran)."""
    field.errors = [*field.errors, str(message)]


def _target(form: FlaskForm, name: str, renames: Mapping[str, str]) -> object:
    """The form field for a service's field ``name``: as renamed, else the same name.
    A service's ``location`` is the ``address`` input on the forms that have one (a
    home), else the field named ``location`` (the place of a post)."""
    if name in renames:
        return getattr(form, renames[name], None)
    if name == "location" and isinstance(getattr(form, "address", None), Field):
        return form.address
    return getattr(form, name, None)


def apply_service_errors(
    form: FlaskForm, fields: Mapping[str, object], renames: Mapping[str, str] | None = None
) -> list[str]:
    """Put a service's field errors next to the matching form fields.

    ``renames`` maps a service field name to a form field name (``password`` ->
    ``new_password``). Returns the messages that match no field, for the summary.
    """
    orphans: list[str] = []
    for name, message in fields.items():
        target = _target(form, name, renames or {})
        if isinstance(target, Field):
            add_error(target, message)
        else:
            orphans.append(str(message))
    return orphans


@dataclass
class Submission:
    """What became of a form handed to a service (see :func:`submit`)."""

    ok: bool
    result: object = None
    general: list[str] = field(default_factory=list)  # messages that fit no field
    candidates: list | None = None  # places to choose from, for an ambiguous address
    status: int = 422  # the page's status when not ok (409: the database refused)


def submit(
    form: FlaskForm,
    action: Callable[[], object],
    renames: Mapping[str, str] | None = None,
    *,
    refusals_on_form: bool = False,
    conflict: object = None,
) -> Submission:
    """Run ``action`` (a service call) and commit: the request's one commit.

    A ValidationFailed is rolled back and put on the form (``renames``: see
    :func:`apply_service_errors`); an ambiguous address puts its message on the address
    and gives the places to choose from. Errors the form found itself (an unreadable
    date) also stop the commit, but only after the service had its say, so the member
    sees every problem at once.

    Any other refusal goes on to the error pages (Forbidden, NotFound, Conflict; the
    database refusing the write, at commit too: a Conflict), after a rollback. With
    ``refusals_on_form`` it is said on the form instead, which keeps what was typed:
    any ServiceError's messages (status 422), and the database refusing the service's
    flush or the commit (status 409; ``conflict`` is what a racing twin means). A busy
    or lost database still goes on to the error pages.
    """
    try:
        result = action()
    except AmbiguousLocation as exc:
        db.session.rollback()
        target = _target(form, "location", renames or {})
        if isinstance(target, Field):
            add_error(target, exc.message)
            return Submission(ok=False, candidates=exc.candidates)
        return Submission(ok=False, general=[str(exc.message)], candidates=exc.candidates)
    except ServiceError as exc:
        if not (refusals_on_form or isinstance(exc, ValidationFailed)):
            database.rollback_quietly()  # the error pages answer
            raise
        db.session.rollback()
        general = apply_service_errors(form, exc.fields, renames)
        return Submission(ok=False, general=general or ([] if exc.fields else [str(exc.message)]))
    except DBAPIError as exc:
        if refusals_on_form:
            return _refused(exc, conflict)
        database.rollback_quietly()  # the error pages answer (a refused write: 409/503)
        raise
    except Exception:
        database.rollback_quietly()
        raise
    if any(f.errors for f in form):
        db.session.rollback()
        return Submission(ok=False)
    if not refusals_on_form:
        database.commit()  # a refused commit is a Conflict: the error pages answer
        return Submission(ok=True, result=result)
    try:
        db.session.commit()
    except DBAPIError as exc:
        return _refused(exc, conflict)
    return Submission(ok=True, result=result)


def _refused(exc: DBAPIError, conflict: object) -> Submission:
    """The database refused the service's flush or the commit: said on the form, which
    keeps what was typed. A busy or lost database, or any other error, goes on to the
    error pages (after a rollback)."""
    database.rollback_quietly()
    refused = database.refusal(exc)
    if refused is None or refused.kind == database.BUSY:
        raise exc
    return Submission(
        ok=False, general=[str(database.refusal_message(refused, conflict))], status=409
    )


# --- the home: address (or a point on the map) and radius ------------------------------


def location_input(form: FlaskForm) -> LocationInput:
    """What the member gave for their home: a map point wins over the address."""
    choice = None
    raw_choice = request.form.get("address_choice", "")
    # A choice only counts for the address it was offered for.
    if (
        raw_choice.isascii()
        and raw_choice.isdigit()
        and len(raw_choice) < 4
        and request.form.get("choice_for") == form.address.data
    ):
        choice = int(raw_choice)
    return LocationInput(
        address=form.address.data or None,
        lat=form.lat.data or None,
        lon=form.lon.data or None,
        choice=choice,
    )


def forget_bad_point(form) -> None:
    """A rejected map point must not be sent again as is."""
    if form.address.errors and (form.lat.data or form.lon.data):
        form.lat.data = form.lon.data = ""


# How far, as people say it: the choices of a radius or a reach, in metres, each with its
# meaning. The stored value stays a number of metres (the API takes any in the range).
DISTANCE_CHOICES = (
    (200, _l("Ma rue · ~%(distance)s")),
    (400, _l("5 min à pied · ~%(distance)s")),
    (800, _l("10 min à pied · ~%(distance)s")),
    (1500, _l("Mon quartier · ~%(distance)s")),
    (5000, _l("Ma ville · %(distance)s")),
)
CUSTOM_DISTANCE = _l("Personnalisé · ~%(distance)s")
# Checked on a blank sign-up form: the choice nearest the members' default radius
# (RADIUS_DEFAULT_M, 1000 m, what the API gives when no radius is sent).
RADIUS_FORM_DEFAULT_M = 800

RADIUS_HINT = _l("Vous verrez les voisins qui habitent à cette distance de chez vous.")
TAGS_HINT = _l("Séparés par des virgules. Par exemple : vélo, tricot, piano.")
PASSWORD_HINT = _l(
    "Au moins 12 caractères, 15 ou plus c'est mieux. Tous les caractères comptent, "
    "espaces et accents compris. Astuce : trois ou quatre mots au hasard."
)


class DistanceField(StringField):
    """A radius or a reach as a few choices with their meaning (radio buttons: the
    ``field`` macro draws them). The value is still a number of metres as text: the
    service checks it, with its one range message. A value that is none of the choices
    (set through the API) is offered as its own choice, checked, so sending the form
    again never changes it silently."""

    def choices(self) -> list[tuple[str, str]]:
        """(value, text) pairs: the fixed choices, and the current value if it is another
        number in the range."""
        listed = [
            (str(metres), str(text % {"distance": radius_text(metres)}))
            for metres, text in DISTANCE_CHOICES
        ]
        current = (self.data or "").strip() if isinstance(self.data, str) else self.data
        try:
            metres = int(current)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return listed
        if RADIUS_MIN_M <= metres <= RADIUS_MAX_M and all(v != str(metres) for v, _t in listed):
            custom = (str(metres), str(CUSTOM_DISTANCE % {"distance": radius_text(metres)}))
            listed = sorted([*listed, custom], key=lambda pair: int(pair[0]))
        return listed

    def checked(self) -> str:
        """The value to show checked (a number written "0800" is the choice "800")."""
        raw = (self.data or "").strip() if isinstance(self.data, str) else self.data
        try:
            return str(int(raw))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return ""


def radius_field() -> DistanceField:
    return DistanceField(
        _l("Jusqu'où s'étend votre voisinage ?"),
        description=RADIUS_HINT,
        default=str(RADIUS_FORM_DEFAULT_M),
    )


def reach_field(description=None) -> DistanceField:
    """How far a post reaches, from where it is shown."""
    return DistanceField(
        _l("Jusqu'où montrer l'annonce ?"),
        description=description
        or _l(
            "Seuls les voisins à cette distance de l'annonce la verront. "
            "Au départ, c'est la taille de votre voisinage."
        ),
    )


def address_field() -> StringField:
    # The home as an address; a point picked on the map goes in hidden lat/lon fields.
    return StringField(_l("Adresse"), render_kw={"autocomplete": "street-address"})


# --- fields whose values the services check --------------------------------------------


class SkillsField(SelectMultipleField):
    """Checkboxes of the fixed skills; the service rejects unknown slugs."""

    def __init__(self, label=None, **kwargs):
        super().__init__(label, validate_choice=False, **kwargs)

    def pre_validate(self, form) -> None:  # the service checks the slugs, with its message
        return None


class FreeSelectField(SelectField):
    """A select whose value the service checks (with its own, clearer message)."""

    def __init__(self, label=None, **kwargs):
        super().__init__(label, validate_choice=False, **kwargs)


DAY_TYPED = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def typed_day(f: Field) -> date | None:
    """A date from a date input (2025-12-31), or typed by hand where the browser has
    none (31/12/2025)."""
    raw = (f.data or "").strip()
    if not raw:
        return None
    try:
        typed = DAY_TYPED.fullmatch(raw)
        if typed:
            day, month, year = (int(n) for n in typed.groups())
            return date(year, month, day)
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        add_error(f, _l("Écrivez une date comme 31/12/2025 (jour/mois/année)."))
        return None


# --- where a post is: a public place, a point on the map, and a name -------------------

KEEP_PLACE = "keep"  # on edit: leave the post where it is
PLACE_NAME_MAX = 160  # posts.place_name
VENUE_HINT = _l(
    "Par exemple : « Café Le Bon Coin », « devant la boulangerie ». Placez-le aussi sur "
    "la carte, ou choisissez le lieu public le plus proche."
)


def venue_field() -> StringField:
    """A name the author writes for the place (shown instead of the place's own)."""
    return StringField(
        _l("Le nom du lieu, avec vos mots"),
        description=VENUE_HINT,
        render_kw={"maxlength": PLACE_NAME_MAX, "autocomplete": "off"},
    )


def place_choices(places, chosen: object = None) -> list[tuple[str, str]]:
    """The public places of a form's select, as people say them; a place chosen by
    searching (``chosen``: its id as sent), farther than the nearest listed, is added so
    that a form shown again keeps it."""
    listed = [(str(p.id), p.label) for p in places]
    raw = str(chosen or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) < 10 and all(v != raw for v, _t in listed):
        place = db.session.get(Place, int(raw))
        if place is not None:
            listed.append((raw, place.label))
    return listed


def place_input(form: FlaskForm, choice: Field) -> LocationInput | None:
    """Where the author put the post: a point picked on the map (``venue_lat`` /
    ``venue_lon``) wins over the place chosen in ``choice`` ("" is near my home); the
    name written in ``venue`` goes with either. None: leave it where it is (on edit,
    "keep" chosen, nothing picked on the map, no name written)."""
    name = (form.venue.data or "").strip() or None
    lat, lon = (form.venue_lat.data or "").strip(), (form.venue_lon.data or "").strip()
    if lat or lon:
        return LocationInput(lat=lat or None, lon=lon or None, name=name)
    place = (choice.data or "").strip()
    if place == KEEP_PLACE:
        if name:
            add_error(
                form.venue,
                _l("Dites aussi où est ce lieu : choisissez-le dans la liste, ou sur la carte."),
            )
        return None
    return LocationInput(place_id=place or None, name=name)


def forget_bad_venue_point(form: FlaskForm, choice: Field) -> None:
    """A refused map point is not sent again as is (the message stays on the list)."""
    if choice.errors and (form.venue_lat.data or form.venue_lon.data):
        form.venue_lat.data = form.venue_lon.data = ""


def picker_centre() -> str:
    """Where the map to pick a place opens: the member's PUBLIC position ("lat,lon"),
    never their home (the page may be seen over their shoulder, or cached)."""
    here = geo.from_element(getattr(current_user, "public_position", None))
    return f"{here.lat:.6f},{here.lon:.6f}" if here is not None else ""
