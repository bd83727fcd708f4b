"""Forms for logging in and registering, and the form helpers every page shares (service
calls with their errors on the form, free selects, typed dates). Rules live in
account.services and the other services; forms only
carry what the member typed and show the errors the services report."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.exc import DBAPIError
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired
from wtforms.widgets import PasswordInput

from peuplade import categories, database
from peuplade.account.services import AmbiguousLocation, LocationInput
from peuplade.errors import ServiceError, ValidationFailed
from peuplade.extensions import db
from peuplade.models import RADIUS_DEFAULT_M, RADIUS_MAX_M, RADIUS_MIN_M


def add_error(field: Field, message: object) -> None:
    """Attach one more error to a field (errors are a tuple until validate() ran)."""
    field.errors = [*field.errors, str(message)]


def apply_service_errors(
    form: FlaskForm, fields: Mapping[str, object], renames: Mapping[str, str] | None = None
) -> list[str]:
    """Put a service's field errors next to the matching form fields.

    ``renames`` maps a service field name to a form field name (``location`` ->
    ``address``). Returns the messages that match no field, for the summary.
    """
    renames = {"location": "address", **(renames or {})}
    orphans: list[str] = []
    for name, message in fields.items():
        target = getattr(form, renames.get(name, name), None)
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
    conflict: object = None,
    unique: tuple[str, str] | None = None,
) -> Submission:
    """Run ``action`` (a service call) and commit; on a ServiceError roll back and put its
    messages on the form. The one commit of the request happens here. The database
    refusing the write (a racing twin, a row deleted meanwhile, a transaction it gave
    up) is said on the form too: ``conflict`` is what a racing twin means, and when the
    twin is at the unique ``(table, column)`` named by ``unique`` (an email already
    taken) it is that field's error and a 422; any other refusal is a 409."""
    try:
        result = action()
    except AmbiguousLocation as exc:
        db.session.rollback()
        add_error(form.address, exc.message)
        return Submission(ok=False, candidates=exc.candidates)
    except ServiceError as exc:
        db.session.rollback()
        general = apply_service_errors(form, exc.fields, renames)
        return Submission(ok=False, general=general or ([] if exc.fields else [str(exc.message)]))
    except DBAPIError as exc:
        return _refused(form, exc, conflict, unique)
    try:
        db.session.commit()
    except DBAPIError as exc:
        return _refused(form, exc, conflict, unique)
    return Submission(ok=True, result=result)


def _refused(
    form: FlaskForm, exc: DBAPIError, conflict: object, unique: tuple[str, str] | None
) -> Submission:
    """The database refused the service's flush or the commit: said on the form, which
    keeps what was typed. A busy or lost database, or any other error, goes on to the
    error pages (after a rollback)."""
    database.rollback_quietly()
    refused = database.refusal(exc)
    if refused is None or refused.kind == database.BUSY:
        raise exc
    message = database.refusal_message(refused, conflict)
    if unique is not None and database.twin_on(refused, *unique):
        add_error(getattr(form, unique[1]), message)
        return Submission(ok=False, status=422)
    return Submission(ok=False, general=[str(message)], status=409)


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


class SkillsField(SelectMultipleField):
    """Checkboxes of the fixed skills; the service rejects unknown slugs."""

    def __init__(self, label=None, **kwargs):
        super().__init__(label, validate_choice=False, **kwargs)

    def pre_validate(self, form) -> None:  # the service checks the slugs, with its message
        return None


RADIUS_HINT = _l(
    "Entre %(min)s et %(max)s mètres. Vous verrez les voisins qui habitent à cette distance "
    "de chez vous. 1000 mètres, c'est environ 12 minutes à pied.",
    min=RADIUS_MIN_M,
    max=RADIUS_MAX_M,
)
TAGS_HINT = _l("Séparés par des virgules. Par exemple : vélo, tricot, piano.")


def radius_field() -> StringField:
    # A number input, but kept as text: the service gives the one range message.
    return StringField(
        _l("Rayon de votre voisinage, en mètres"),
        description=RADIUS_HINT,
        default=str(RADIUS_DEFAULT_M),
        render_kw={
            "type": "number",
            "min": RADIUS_MIN_M,
            "max": RADIUS_MAX_M,
            "step": 50,
            "inputmode": "numeric",
        },
    )


def address_field() -> StringField:
    # The home as an address; a point picked on the map goes in hidden lat/lon fields.
    return StringField(_l("Adresse"), render_kw={"autocomplete": "street-address"})


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[InputRequired(message=_l("Indiquez votre adresse e-mail."))],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[InputRequired(message=_l("Indiquez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(
        _l("Rester connecté sur cet appareil"),
        description=_l("Seulement sur votre appareil à vous, pas sur un ordinateur partagé."),
    )
    next = HiddenField()


PASSWORD_HINT = _l(
    "Au moins 12 caractères, 15 ou plus c'est mieux. Tous les caractères comptent, "
    "espaces et accents compris. Astuce : trois ou quatre mots au hasard."
)


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail de votre compte"),
        validators=[InputRequired(message=_l("Indiquez votre adresse e-mail."))],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Nouveau mot de passe"),
        description=PASSWORD_HINT,
        validators=[InputRequired(message=_l("Choisissez un nouveau mot de passe."))],
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        _l("Nouveau mot de passe, encore une fois"),
        validators=[
            InputRequired(message=_l("Tapez le nouveau mot de passe une deuxième fois.")),
            EqualTo("password", message=_l("Les deux mots de passe ne sont pas identiques.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class RegisterForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[InputRequired(message=_l("Indiquez votre adresse e-mail."))],
        render_kw={"autocomplete": "email"},
    )
    display_name = StringField(
        _l("Votre nom"),
        validators=[InputRequired(message=_l("Indiquez un nom (un prénom suffit)."))],
        render_kw={"autocomplete": "given-name", "maxlength": 60},
    )
    # Shown back when another field is refused (an address not found must not cost the
    # member both passwords); the page clears them when a password itself is refused.
    password = PasswordField(
        _l("Mot de passe"),
        validators=[InputRequired(message=_l("Choisissez un mot de passe."))],
        widget=PasswordInput(hide_value=False),
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        _l("Mot de passe, encore une fois"),
        validators=[
            InputRequired(message=_l("Tapez le mot de passe une deuxième fois.")),
            EqualTo("password", message=_l("Les deux mots de passe ne sont pas identiques.")),
        ],
        widget=PasswordInput(hide_value=False),
        render_kw={"autocomplete": "new-password"},
    )
    address = address_field()
    lat = HiddenField()
    lon = HiddenField()
    radius_m = radius_field()
    skills = SkillsField(_l("Vos savoir-faire"))
    tags = StringField(
        _l("Autres choses que vous savez faire ou aimez faire"), description=TAGS_HINT
    )
    bio = TextAreaField(_l("Quelques mots sur vous"), render_kw={"maxlength": 1000, "rows": 4})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skills.choices = categories.choices()  # per request: labels follow the language


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


@dataclass
class Outcome:
    ok: bool
    result: object = None
    general: list[str] = field(default_factory=list)


def run(form: FlaskForm, action: Callable[[], object]) -> Outcome:
    """Run a service call and commit once; ValidationFailed goes onto the form.

    Errors the form found itself (an unreadable date) also stop the commit, but only
    after the service had its say, so the member sees every problem at once. Forbidden,
    NotFound and Conflict go on to the error pages (a racing duplicate at commit too).
    """
    try:
        result = action()
    except ValidationFailed as exc:
        db.session.rollback()
        general = apply_service_errors(form, exc.fields, {"location": "location"})
        return Outcome(False, general=general or ([] if exc.fields else [str(exc.message)]))
    except Exception:
        database.rollback_quietly()  # the error pages answer (a refused write: 409/503)
        raise
    if any(f.errors for f in form):
        db.session.rollback()
        return Outcome(False)
    database.commit()
    return Outcome(True, result)
