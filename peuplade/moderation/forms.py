"""Forms for reporting, blocking and moderating. The rules (a reason is required, how many
days a suspension may last, one report per person and thing) live in
moderation.services; these forms carry what was typed and show the services' errors."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, TextAreaField

from peuplade.moderation import services

# Said plainly: the person reporting picks the one that fits best. Only the reasons a
# member may give (services.MEMBER_REASONS): not "signups", which only Peuplade reports.
REASON_LABELS = {
    "spam": _l("Publicité ou arnaque : vente, démarchage, message envoyé à tout le monde"),
    "abuse": _l("Insultes, harcèlement ou propos haineux"),
    "danger": _l("Danger : menace, violence, quelqu'un en danger"),
    "privacy": _l("Vie privée : une adresse, une photo ou une information sur quelqu'un"),
    "other": _l("Autre chose (expliquez ci-dessous)"),
}

# What moderators read in the queue and the log.
REASON_SHORT = {
    "spam": _l("Publicité ou arnaque"),
    "abuse": _l("Insultes ou harcèlement"),
    "danger": _l("Danger"),
    "privacy": _l("Vie privée"),
    "other": _l("Autre"),
    "signups": _l("Inscriptions groupées"),
}


def reported_by(report) -> str:
    """Who filed a report, for moderators: a member's name, Peuplade itself (a report
    with no reporter and a reason only the app gives), or a reporter gone since."""
    if services.by_peuplade(report):
        return _("signalé par Peuplade")
    if report.reporter is not None:
        return _("signalé par %(name)s", name=report.reporter.display_name)
    return _("signalé par un compte supprimé depuis")


TARGET_LABELS = {
    "exchange": _l("une annonce"),
    "item": _l("un objet"),
    "news": _l("une info"),
    "event": _l("une sortie"),
    "comment": _l("un commentaire"),
    "message": _l("un message"),
    "member": _l("un membre"),
}

ACTION_LABELS = {
    "hide": _l("Contenu masqué"),
    "restore": _l("Contenu rétabli"),
    "warn": _l("Avertissement"),
    "suspend": _l("Suspension"),
    "ban": _l("Compte fermé"),
    "unban": _l("Compte rétabli"),
    "dismiss": _l("Signalement classé sans suite"),
    "remove_photo": _l("Photo retirée"),
}


class ReportForm(FlaskForm):
    reason = RadioField(
        _l("Quel est le problème ?"),
        choices=list(REASON_LABELS.items()),
        validate_choice=False,  # the service says "Choisissez une raison."
    )
    details = TextAreaField(
        _l("Quelques mots pour la modération"),
        description=_l(
            "Ce qui ne va pas, en quelques mots. Seuls les modérateurs le lisent ; "
            "la personne signalée ne saura pas que c'est vous. %(n)s caractères au plus.",
            n=services.DETAILS_MAX,
        ),
        render_kw={"rows": 4, "maxlength": services.DETAILS_MAX},
    )


def _reason_field() -> TextAreaField:
    return TextAreaField(
        _l("Raison"),
        description=_l("Obligatoire. Elle est gardée dans le journal de modération."),
        render_kw={"rows": 2, "maxlength": services.REASON_MAX},
    )


class ReasonForm(FlaskForm):
    """Hide, restore, dismiss, warn, ban, unban: a reason, nothing else."""

    reason = _reason_field()


class SuspendForm(FlaskForm):
    days = StringField(
        _l("Nombre de jours"),
        description=_l("Entre 1 et %(n)s jours.", n=services.SUSPEND_DAYS_MAX),
        default="7",
        render_kw={
            "type": "number",
            "min": 1,
            "max": services.SUSPEND_DAYS_MAX,
            "inputmode": "numeric",
        },
    )
    reason = _reason_field()


class BlockForm(FlaskForm):
    """Block or unblock: the CSRF token, and where to go back to."""

    next = HiddenField()
