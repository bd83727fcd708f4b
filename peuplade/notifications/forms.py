"""The email settings form: one choice per kind of notification."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField

from peuplade.notifications.kinds import KINDS

MODE_CHOICES = (
    ("on", _l("Un email à chaque fois")),
    ("digest", _l("Dans le résumé du jour")),
    ("off", _l("Pas d'email")),
)


class EmailSettingsForm(FlaskForm):
    """Fields are named after the kinds (``response``, ``loan_requested``...)."""


for _name, _kind in KINDS.items():
    setattr(
        EmailSettingsForm,
        _name,
        RadioField(_kind.setting, choices=MODE_CHOICES, default=_kind.default),
    )


class ButtonForm(FlaskForm):
    """A form that is only a button (keep open, unsubscribe)."""
