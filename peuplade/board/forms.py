"""The lobby board's options: how far around the building, and the contact of the
neighbour who prints it (a first name, a floor or door, a phone number: each as they
choose to give).

The form is POSTed (with its CSRF token) and answered with the printable page: the
phone number never appears in an address (the browser's history, a proxy's or the
server's access log, a Referer), and nothing is stored - the sheet is paper, and a
number kept on the server would be one more piece of personal data to register,
export and delete for a page printed once in a while. The first name is prefilled
with the member's display name, so printing again takes a tap.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, ValidationError
from wtforms.validators import Length

from peuplade.formats import radius_text
from peuplade.validation import clean_text

NAME_MAX = 60  # a display name's longest (models.Member.display_name)
FLOOR_MAX = 40
PHONE_MAX = 30
AROUND_M = (200, 500, 1000)

# Separators people write between the digits of a phone number.
_SEPARATORS = re.compile(r"[\s.\-/()]")
# A French number: 0 and nine digits, or +33 / 0033 and the nine digits (an optional
# "(0)" after the country code is the habit of some printed cards).
_FRENCH = re.compile(r"^(?:0|\+33(?:0)?|0033(?:0)?)([1-9]\d{8})$")


def french_phone(value: str) -> str | None:
    """A phone number as a French lobby reads it ("06 12 34 56 78"), from what a member
    types ("0612345678", "06.12.34.56.78", "+33 6 12 34 56 78", "0033 (0)6 12 34 56 78"),
    or None when it is not a French number."""
    digits = _SEPARATORS.sub("", value)
    match = _FRENCH.match(digits)
    if match is None:
        return None
    national = "0" + match.group(1)
    return " ".join(national[i : i + 2] for i in range(0, 10, 2))


def one_line(value: str | None) -> str:
    """A typed text on one line: cleaned, spaces and line breaks collapsed."""
    return " ".join(clean_text(value).split())


class BoardForm(FlaskForm):
    around = SelectField(
        _l("Autour de l'immeuble, jusqu'à"),
        default="",
        description=_l("Plus c'est proche, plus l'affiche parle aux voisins de l'immeuble."),
    )
    name = StringField(
        _l("Votre prénom"),
        description=_l("Écrit sur l'affiche et sur les coupons à détacher."),
        filters=[one_line],
        validators=[Length(max=NAME_MAX, message=_l("Un prénom plus court, s'il vous plaît."))],
        render_kw={"maxlength": NAME_MAX, "autocomplete": "given-name"},
    )
    floor = StringField(
        _l("Votre étage ou votre porte"),
        description=_l("Par exemple : 3e étage gauche."),
        filters=[one_line],
        validators=[
            Length(
                max=FLOOR_MAX,
                message=_l("Quelques mots suffisent, par exemple : 3e étage gauche."),
            )
        ],
        render_kw={"maxlength": FLOOR_MAX, "autocomplete": "off"},
    )
    phone = StringField(
        _l("Votre numéro de téléphone"),
        description=_l(
            "Pour les voisins qui préfèrent appeler. Par exemple : 06 12 34 56 78. "
            "Il est imprimé, jamais enregistré."
        ),
        filters=[one_line],
        render_kw={
            "maxlength": PHONE_MAX,
            "type": "tel",
            "inputmode": "tel",
            "autocomplete": "tel-national",
        },
    )

    def __init__(self, *args, radius_m: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.around.choices = [
            ("", _l("tout mon voisinage (%(radius)s)", radius=radius_text(radius_m))),
            *((str(m), radius_text(m)) for m in AROUND_M if m < radius_m),
        ]

    def validate_phone(self, field) -> None:
        if not field.data:
            return
        written = french_phone(field.data) if len(field.data) <= PHONE_MAX else None
        if written is None:
            raise ValidationError(
                _l("Ce numéro ne ressemble pas à un numéro français, par exemple : 06 12 34 56 78.")
            )
        field.data = written

    def contact(self) -> dict[str, str]:
        """What the neighbour chose to give, from the fields without an error."""
        return {
            key: getattr(self, key).data or ""
            for key in ("name", "floor", "phone")
            if not getattr(self, key).errors
        }
