"""Forms for the member's own account: profile, password, home."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import EqualTo, InputRequired

from peuplade import categories
from peuplade.auth.forms import TAGS_HINT, SkillsField, address_field, radius_field


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Votre nom"),
        description=_l("Un prénom suffit. Vos voisins le verront."),
        validators=[InputRequired(message=_l("Indiquez un nom (un prénom suffit)."))],
        render_kw={"maxlength": 60},
    )
    bio = TextAreaField(
        _l("Quelques mots sur vous"),
        description=_l("Visible par vos voisins."),
        render_kw={"maxlength": 1000, "rows": 4},
    )
    skills = SkillsField(
        _l("Vos savoir-faire"),
        description=_l("Cochez ce que vous pouvez proposer à vos voisins."),
    )
    tags = StringField(
        _l("Autres choses que vous savez faire ou aimez faire"), description=TAGS_HINT
    )
    radius_m = radius_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skills.choices = categories.choices()


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[InputRequired(message=_l("Indiquez votre mot de passe actuel."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("Nouveau mot de passe"),
        description=_l(
            "Au moins 12 caractères. Astuce : trois ou quatre mots au hasard. "
            "Vos autres appareils seront déconnectés."
        ),
        validators=[InputRequired(message=_l("Choisissez un nouveau mot de passe."))],
        render_kw={"autocomplete": "new-password"},
    )
    new_password_confirm = PasswordField(
        _l("Nouveau mot de passe, encore une fois"),
        validators=[
            InputRequired(message=_l("Tapez le nouveau mot de passe une deuxième fois.")),
            EqualTo("new_password", message=_l("Les deux mots de passe ne sont pas identiques.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class HomeForm(FlaskForm):
    address = address_field()
    lat = HiddenField()
    lon = HiddenField()
