"""The one form of conversations: a message. Its rules (empty, too long) live in
messages.services; the form carries the text back when they refuse it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from peuplade.messages import services
from peuplade.submissions import new_submission_key


class MessageForm(FlaskForm):
    message = TextAreaField(
        _l("Votre message"),
        description=_l("Du texte simple, %(n)s caractères au plus.", n=services.BODY_MAX),
        render_kw={"rows": 5, "maxlength": services.BODY_MAX},
    )
    # A fresh random token with each blank form: the same form sent twice sends once.
    submission_key = HiddenField(default=new_submission_key)
