"""Forms for the member's own account: profile, password, home."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired

from peuplade import categories
from peuplade.account import blur
from peuplade.forms import (
    PASSWORD_HINT,
    TAGS_HINT,
    SkillsField,
    address_field,
    radius_field,
)
from peuplade.photos import processing


def current_password_field(description=None) -> PasswordField:
    """The member's password, asked again before a sensitive change (the service checks
    it, with its own messages)."""
    return PasswordField(
        _l("Mot de passe actuel"),
        description=description,
        render_kw={"autocomplete": "current-password"},
    )


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
    email = EmailField(
        _l("Adresse e-mail"),
        description=_l(
            "Elle sert à vous connecter. Elle n'est montrée à personne. Une nouvelle "
            "adresse remplace l'actuelle quand vous avez suivi le lien que nous lui envoyons."
        ),
        render_kw={"autocomplete": "email"},
    )
    current_password = current_password_field(
        _l("Seulement si vous changez d'adresse e-mail : c'est bien vous ?")
    )

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
        description=PASSWORD_HINT,
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
    end_other_sessions = BooleanField(
        _l("Déconnecter mes autres appareils"),
        description=_l(
            "Conseillé si vous avez perdu un téléphone ou si quelqu'un d'autre connaît votre "
            "ancien mot de passe. Les applications qui utilisent un jeton sont toujours "
            "déconnectées."
        ),
        default=True,
    )


class HomeForm(FlaskForm):
    address = address_field()
    lat = HiddenField()
    lon = HiddenField()
    current_password = current_password_field(
        _l("Pour que personne d'autre ne puisse déplacer votre domicile.")
    )


class PositionForm(FlaskForm):
    """The finest public position the member accepts (account/blur.py)."""

    floor = RadioField(
        _l("Me situer au mieux"),
        choices=[(name, label) for _level, name, label in blur.FLOOR_CHOICES],
        validate_choice=True,
    )


# What a file chooser offers for a photo: the formats photos.processing accepts (iPhones
# send HEIC); the server still checks the content, never this list nor the file's name.
PHOTO_ACCEPT = processing.FILE_INPUT_ACCEPT


class AvatarForm(FlaskForm):
    """The member's face (photos.services.set_avatar); removing it is a form of its own."""

    photo = FileField(
        _l("Votre photo"),
        description=_l(
            "Une photo JPEG, PNG, WebP ou HEIC (iPhone), de 10 Mo au plus. Elle est "
            "réduite à 1600 pixels, et nous retirons tout ce que le fichier cache : la "
            "position GPS, la date, le modèle du téléphone. Les voisins qui peuvent voir "
            "votre profil la voient à côté de votre nom."
        ),
        render_kw={"accept": PHOTO_ACCEPT},
    )
