"""Forms for lendable objects and loans. Rules live in loans.services; the forms carry
what the member typed, turn HTML dates into dates, and show the errors the services
report (through ``peuplade.forms.submit``, shared by every page with a form)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from peuplade import categories
from peuplade.forms import FreeSelectField, typed_day
from peuplade.loans import services
from peuplade.models import CONDITIONS, MAX_LOAN_DAYS
from peuplade.photos.forms import PhotoFields
from peuplade.posts.forms import SharingFields
from peuplade.submissions import new_submission_key

CONDITION_LABELS = {
    "comme_neuf": _l("Comme neuf"),
    "bon": _l("Bon état"),
    "use": _l("Usé, mais fonctionne"),
}
assert set(CONDITION_LABELS) == set(CONDITIONS)


def condition_label(slug: str) -> str:
    return str(CONDITION_LABELS.get(slug, slug))


class ItemForm(PhotoFields, SharingFields, FlaskForm):
    title = StringField(
        _l("Nom de l'objet"),
        description=_l("Par exemple : perceuse à percussion, échelle 3 m, appareil à raclette."),
        render_kw={"maxlength": services.TITLE_MAX},
    )
    description = TextAreaField(
        _l("Description"),
        description=_l("Ce qui est fourni avec, la taille, le modèle, comment s'en servir."),
        render_kw={"rows": 5, "maxlength": services.DESCRIPTION_MAX},
    )
    category = FreeSelectField(_l("Catégorie"))
    condition = FreeSelectField(_l("État"))
    notes = TextAreaField(
        _l("Caution et remarques"),
        description=_l("Une caution demandée, une précaution d'usage, où venir le chercher."),
        render_kw={"rows": 3, "maxlength": services.NOTES_MAX},
    )
    available = BooleanField(
        _l("Disponible au prêt"),
        description=_l(
            "Décochez pour le mettre de côté un moment : vos voisins ne pourront "
            "plus le demander, les prêts déjà acceptés restent valables."
        ),
    )
    # New objects only: a fresh random token with each blank form (a double click puts
    # one object on the shelf); the edit form ignores it.
    submission_key = HiddenField(default=new_submission_key)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Per request, so the labels follow the page's language.
        self.category.choices = [("", _l("Choisissez une catégorie")), *categories.choices()]
        self.condition.choices = list(CONDITION_LABELS.items())

    def item_input(self) -> services.ItemInput:
        return services.ItemInput(
            title=self.title.data or "",
            description=self.description.data or "",
            category=self.category.data or "",
            condition=self.condition.data or "",
            notes=self.notes.data or "",
            available=bool(self.available.data),
            submission_key=self.submission_key.data or None,
        )


class BorrowForm(FlaskForm):
    start = StringField(
        _l("Du"),
        description=_l("Le jour où vous passez le prendre."),
        render_kw={"type": "date"},
    )
    due = StringField(
        _l("Au"),
        description=_l(
            "Le jour où vous le rendez. Un prêt dure %(n)s jours au plus.", n=MAX_LOAN_DAYS
        ),
        render_kw={"type": "date"},
    )
    message = TextAreaField(
        _l("Votre message"),
        description=_l("Pour quoi faire, quand passer le prendre."),
        render_kw={"rows": 3, "maxlength": services.MESSAGE_MAX},
    )

    def period(self) -> tuple[date | None, date | None]:
        """The dates typed, or None; an unreadable date gets an error on its field."""
        return typed_day(self.start), typed_day(self.due)


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the confirmation is the page itself."""
