"""Forms for logging in, registering and resetting a password. Rules live in
account.services and auth; the shared fields and :func:`peuplade.forms.submit` are in
peuplade.forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired
from wtforms.widgets import PasswordInput

from peuplade import categories
from peuplade.forms import (
    PASSWORD_HINT,
    TAGS_HINT,
    SkillsField,
    address_field,
    radius_field,
)


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
