"""The part of every post's form that says whether it may be shared outside Peuplade
(mixed into the exchanges', objects', news' and outings' forms; rendered by
templates/macros/sharing.html's ``sharing_fields``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField

from peuplade.models import Post
from peuplade.posts import services


class SharingFields:
    """Two boxes, both unticked unless the author ticks them."""

    shareable = BooleanField(
        _l("Partageable hors de Peuplade"),
        description=_l(
            "Son lien pourra être envoyé à des personnes qui ne sont pas sur Peuplade : "
            "elles verront le titre, le genre d'annonce et le quartier, jamais votre nom ni "
            "où vous habitez, et une invitation à rejoindre Peuplade."
        ),
    )
    share_photo = BooleanField(
        _l("Montrer aussi la première photo à ces personnes"),
        description=_l(
            "Seulement si l'annonce est partageable hors de Peuplade. Sans cette case, le "
            "lien partagé ne montre aucune photo."
        ),
    )


def sharing_data(post: Post) -> dict[str, bool]:
    """The boxes as the post is now (an edit form's first display)."""
    return {"shareable": post.share_token is not None, "share_photo": post.share_photo}


def save_sharing(form: FlaskForm, post: Post) -> Post:
    """Apply the boxes to ``post`` (inside the form's ``submit``, before its commit)."""
    return services.set_sharing(post, bool(form.shareable.data), bool(form.share_photo.data))
