"""Forms for exchanges. Rules live in exchanges.services; the forms carry what the member
typed, turn HTML dates into dates, and show the errors the services report."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField

from peuplade import categories
from peuplade.exchanges import services
from peuplade.forms import (
    KEEP_PLACE,
    FreeSelectField,
    picker_centre,
    place_choices,
    place_input,
    reach_field,
    typed_day,
    venue_field,
)
from peuplade.models import Exchange, Member, Place
from peuplade.photos.forms import PhotoFields
from peuplade.posts.forms import SharingFields

HOME = ""  # the location choice meaning "my approximate position"
KEEP = KEEP_PLACE  # on edit: leave the exchange where it is


class ExchangeForm(PhotoFields, SharingFields, FlaskForm):
    kind = RadioField(
        _l("Vous publiez"),
        choices=[
            ("request", _l("Une demande : j'ai besoin d'un coup de main")),
            ("offer", _l("Une offre : je propose mon aide")),
        ],
        validate_choice=False,
    )
    title = StringField(
        _l("Titre"),
        description=_l("En quelques mots. Par exemple : porter un canapé samedi matin."),
        render_kw={"maxlength": services.TITLE_MAX},
    )
    body = TextAreaField(
        _l("Description"),
        description=_l(
            "Ce qu'il faut faire, quand, ce dont vous avez besoin ou ce que vous offrez."
        ),
        render_kw={"rows": 6, "maxlength": services.BODY_MAX},
    )
    category = FreeSelectField(_l("Catégorie"))
    starts_on = StringField(
        _l("À partir du"),
        description=_l("Une date, ou le début d'une période. Laissez vide si ce n'est pas daté."),
        render_kw={"type": "date"},
    )
    ends_on = StringField(
        _l("Jusqu'au"),
        description=_l("La fin de la période. L'annonce quitte les listes après ce jour."),
        render_kw={"type": "date"},
    )
    location = FreeSelectField(
        _l("Où montrer l'annonce"),
        description=_l(
            "Votre adresse n'est jamais montrée : près de chez vous, c'est un point "
            "approximatif (à environ 200 m près). Vous pouvez aussi choisir un lieu public."
        ),
    )
    venue = venue_field()
    # A point picked on the map (static/js/home-picker.js), in place of the list.
    venue_lat = HiddenField()
    venue_lon = HiddenField()
    reach_m = reach_field()

    on_behalf_of = StringField(
        _l("Pour qui ?"),
        description=_l(
            "Si vous publiez pour un voisin qui n'a pas internet : son nom, comme il "
            "souhaite être appelé (par exemple : Mme Dupont). Les réponses vous arriveront, "
            "à vous de les lui transmettre. Laissez vide si l'annonce est pour vous."
        ),
        render_kw={"maxlength": services.BEHALF_MAX, "autocomplete": "off"},
    )
    behalf_consent = BooleanField(
        _l("Cette personne m'a donné son accord pour publier cette annonce en son nom."),
    )
    # New exchanges only: the random token of this form (a double click publishes once).
    submission_key = HiddenField()

    def __init__(self, *args, places: list[Place] = (), current: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Per request: labels follow the language, places follow the member's home.
        self.category.choices = [("", _l("Choisissez une catégorie")), *categories.choices()]
        self.centre = picker_centre()  # where the map opens: my PUBLIC position
        # On edit, ``current`` names where the exchange is now: the first choice keeps it.
        keep = [(KEEP, _l("Ne pas changer : %(where)s", where=current))] if current else []
        self.location.choices = [
            *keep,
            (HOME, _l("Près de chez moi (position approximative)")),
            *place_choices(places, self.location.data),
        ]

    def period(self) -> tuple[date | None, date | None]:
        """The dates typed, or None; an unreadable date gets an error on its field."""
        return typed_day(self.starts_on), typed_day(self.ends_on)

    def exchange_input(self, editing: Exchange | None = None) -> services.ExchangeInput:
        """What to hand the service. On edit, dates left as they were are not sent
        again (a period that began yesterday stays valid), nor is an unchanged place."""
        starts_on, ends_on = self.period()
        data: dict[str, object] = {
            "kind": self.kind.data or "",
            "title": self.title.data or "",
            "body": self.body.data or "",
            "category": self.category.data or "",
            "reach_m": (self.reach_m.data or "").strip() or None,
            "on_behalf_of": self.on_behalf_of.data or "",
            "behalf_consent": bool(self.behalf_consent.data),
        }
        if editing is None:
            data["submission_key"] = self.submission_key.data or None
        if editing is None or (starts_on, ends_on) != (editing.starts_on, editing.ends_on):
            data["starts_on"], data["ends_on"] = starts_on, ends_on
        location = place_input(self, self.location)
        if location is not None:
            data["location"] = location
        return services.ExchangeInput(**data)


class ResponseForm(FlaskForm):
    message = TextAreaField(
        _l("Votre message"),
        description=_l("Dites comment vous pouvez aider, et comment vous joindre."),
        render_kw={"rows": 4, "maxlength": services.MESSAGE_MAX},
    )


class CloseForm(FlaskForm):
    outcome = RadioField(
        _l("Comment cela s'est-il terminé ?"),
        choices=[
            ("done", _l("C'est fait")),
            ("cancelled", _l("C'est annulé (plus besoin, ou personne n'a pu)")),
        ],
        validate_choice=False,
    )
    helper_id = FreeSelectField(_l("Qui vous a aidé ?"))

    def __init__(self, *args, responders: list[Member] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.helper_id.choices = [
            ("", _l("Personne en particulier")),
            *((str(m.id), m.display_name) for m in responders),
        ]


class ThanksForm(FlaskForm):
    message = TextAreaField(
        _l("Votre mot de remerciement"),
        description=_l("Quelques mots. Ils seront visibles sur son profil."),
        render_kw={"rows": 3, "maxlength": services.THANKS_MAX},
    )


class DeleteForm(FlaskForm):
    """Only the CSRF token: the confirmation is the page itself."""
