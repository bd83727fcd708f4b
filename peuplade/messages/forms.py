"""The one form of conversations: a message. Its rules (empty, too long) live in
messages.services; the form carries the text back when they refuse it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from peuplade.messages import services


class MessageForm(FlaskForm):
    message = TextAreaField(
        _l("Votre message"),
        description=_l("Du texte simple, %(n)s caractères au plus.", n=services.BODY_MAX),
        render_kw={"rows": 5, "maxlength": services.BODY_MAX},
    )
