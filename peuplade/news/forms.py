"""Forms for neighbourhood news. Rules live in news.services; the forms carry what the
member typed and show the errors the services report."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, TextAreaField

from peuplade.models import Member
from peuplade.news import services
from peuplade.photos.forms import PhotoFields
from peuplade.posts.forms import SharingFields
from peuplade.submissions import new_submission_key


class NewsForm(PhotoFields, SharingFields, FlaskForm):
    kind = RadioField(
        _l("Type d'info"),
        choices=[
            ("info", _l("Info : une nouvelle utile (horaires, travaux, commerce…)")),
            ("alerte", _l("Alerte : urgent, montrée en tête pendant 48 heures")),
            ("perdu_trouve", _l("Perdu / trouvé : un animal, des clés, un objet")),
            ("vie_de_quartier", _l("Vie de quartier : réunion, fête, association")),
        ],
        validate_choice=False,
    )
    title = StringField(
        _l("Titre"),
        description=_l("En quelques mots. Par exemple : coupure d'eau mardi matin."),
        render_kw={"maxlength": services.TITLE_MAX},
    )
    body = TextAreaField(
        _l("Texte"),
        description=_l("Tout ce que les voisins doivent savoir : quoi, où, quand."),
        render_kw={"rows": 8, "maxlength": services.BODY_MAX},
    )
    link = StringField(
        _l("Lien"),
        description=_l("Une adresse web qui commence par https://, si utile."),
        render_kw={"type": "url", "maxlength": services.LINK_MAX, "inputmode": "url"},
    )
    scope = RadioField(_l("Qui verra cette info ?"), validate_choice=False)
    # New news only: a fresh random token with each blank form (a double click publishes
    # once); the edit form ignores it.
    submission_key = HiddenField(default=new_submission_key)

    def __init__(self, *args, author: Member, **kwargs):
        super().__init__(*args, **kwargs)
        quartier = author.quartier
        self.scope.choices = [
            ("radius", _l("Les voisins dans mon rayon")),
            (
                "quartier",
                _l("Tout mon quartier (%(name)s)", name=quartier.display_name)
                if quartier
                else _l("Tout mon quartier"),
            ),
        ]
        # Shown greyed out, with the reason, rather than hidden.
        self.has_quartier = quartier is not None

    def news_input(self) -> services.NewsInput:
        return services.NewsInput(
            kind=self.kind.data or "",
            title=self.title.data or "",
            body=self.body.data or "",
            link=self.link.data or "",
            scope=self.scope.data or "",
            submission_key=self.submission_key.data or None,
        )


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Votre commentaire"),
        description=_l("Quelques phrases suffisent."),
        render_kw={"rows": 3, "maxlength": services.COMMENT_MAX},
    )
    submission_key = HiddenField(default=new_submission_key)


class DeleteForm(FlaskForm):
    """Only the CSRF token: the confirmation is the page itself."""
