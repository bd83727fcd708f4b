"""The account deletion form: the password, and a box ticked on purpose."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, InputRequired


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Votre mot de passe"),
        description=_l("Pour être sûr que c'est bien vous."),
        validators=[InputRequired(message=_l("Indiquez votre mot de passe pour confirmer."))],
        render_kw={"autocomplete": "current-password"},
    )
    confirm = BooleanField(
        _l("Je comprends que mon compte et tout ce que j'ai écrit seront effacés pour de bon."),
        validators=[DataRequired(message=_l("Cochez la case pour confirmer la suppression."))],
    )
