"""The lobby board's options: a GET form (nothing is stored, so no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length

from peuplade.formats import radius_text

CONTACT_MAX = 120
AROUND_M = (200, 500, 1000)


class BoardForm(FlaskForm):
    class Meta:
        csrf = False

    around = SelectField(
        _l("Autour de l'immeuble, jusqu'à"),
        description=_l("Plus c'est proche, plus l'affiche parle aux voisins de l'immeuble."),
    )
    contact = StringField(
        _l("Qui contacter dans l'immeuble"),
        description=_l(
            "Imprimé en bas de l'affiche, pour les voisins sans internet. Par exemple : "
            "Marc, 3e étage gauche. Rien n'est enregistré."
        ),
        validators=[Length(max=CONTACT_MAX, message=_l("%(max)s caractères au plus."))],
        render_kw={"maxlength": CONTACT_MAX, "autocomplete": "off"},
    )

    def __init__(self, *args, radius_m: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.around.choices = [
            ("", _l("tout mon voisinage (%(radius)s)", radius=radius_text(radius_m))),
            *((str(m), radius_text(m)) for m in AROUND_M if m < radius_m),
        ]
