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
from peuplade.account import services
from peuplade.forms import (
    PASSWORD_HINT,
    TAGS_HINT,
    SkillsField,
    address_field,
    radius_field,
)

# The services' own messages (the same words, so the same translation), for the checks
# the sign-up page makes before going on to the next step: the server makes them again.
PASSWORD_TOO_SHORT = _l(
    "Le mot de passe doit faire au moins %(n)s caractères. "
    "Astuce : trois ou quatre mots au hasard.",
    n=services.PASSWORD_MIN,
)
INVALID_EMAIL = _l("Adresse e-mail invalide.")
HOME_MISSING = _l("Indiquez votre adresse, ou placez votre domicile sur la carte.")


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
    """Sign-up in three short steps (templates/auth/register.html; static/js/signup-steps.js
    shows them one at a time): who you are, where you live, what you know how to do. One
    form and one POST: without JavaScript the three steps are one page."""

    # (the step's id, its fields), in the order the page shows them.
    STEPS = (
        ("who", ("display_name", "email", "password", "password_confirm")),
        ("home", ("address", "lat", "lon", "radius_m")),
        ("skills", ("skills", "tags", "bio")),
    )

    display_name = StringField(
        _l("Votre nom"),
        validators=[InputRequired(message=_l("Indiquez un nom (un prénom suffit)."))],
        render_kw={"autocomplete": "given-name", "maxlength": 60},
    )
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[InputRequired(message=_l("Indiquez votre adresse e-mail."))],
        render_kw={"autocomplete": "email"},
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

    def open_step(self) -> int:
        """The step the page opens on (1-based): the first one with a field in error, else
        the first."""
        for number, (_step, names) in enumerate(self.STEPS, start=1):
            if any(self[name].errors for name in names):
                return number
        return 1

    def step_checks(self) -> dict:
        """What the page checks itself before going on to the next step
        (static/js/signup-steps.js), with the messages the server would give: data-*
        attributes for each field, and the message of a home not given. The server
        checks everything again."""

        def required(name: str) -> dict[str, str]:
            message = next(v.message for v in self[name].validators if isinstance(v, InputRequired))
            return {"data-required": str(message)}

        same = next(v for v in self.password_confirm.validators if isinstance(v, EqualTo))
        return {
            "display_name": required("display_name"),
            "email": {**required("email"), "data-invalid": str(INVALID_EMAIL)},
            "password": {
                **required("password"),
                "data-min-length": str(services.PASSWORD_MIN),
                "data-too-short": str(PASSWORD_TOO_SHORT),
            },
            "password_confirm": {
                **required("password_confirm"),
                "data-same-as": "password",
                "data-different": str(same.message),
            },
            "location_missing": str(HOME_MISSING),
        }
