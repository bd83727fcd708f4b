"""The GDPR rights' JSON API (/api/v1): download everything stored about me, delete my
account.

Both call ``gdpr.services``, as the HTML pages do.
"""

from __future__ import annotations

import functools

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from peuplade import ratelimits
from peuplade.api import bp
from peuplade.api.openapi import operation
from peuplade.api.schemas import Rule, described
from peuplade.auth.bearer import current_member
from peuplade.database import commit
from peuplade.errors import ValidationFailed
from peuplade.extensions import limiter
from peuplade.gdpr import schemas as gs
from peuplade.gdpr import services


def _api_member_key() -> str:
    return f"api-member:{current_member().id}"


def _password_required(view):
    """A DELETE sent without any body gets the same 422 as one without ``password``
    (rather than a 400 about the Content-Type): what is missing is the password."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not request.get_data(cache=True):
            msg = _("Indiquez votre mot de passe pour confirmer.")
            raise ValidationFailed(_("Vérifiez les champs signalés."), {"password": msg})
        return view(*args, **kwargs)

    return wrapper


@bp.get("/me/export")
@operation(
    _l("Toutes mes données (RGPD)"),
    responses={200: gs.ExportOut},
    description=_l(
        "Tout ce que Peuplade garde sur moi, mon domicile compris (droit d'accès et "
        "portabilité). Les autres membres n'y figurent que sous un pseudonyme "
        "(« voisin·e n°1 »), sans leur nom ni ce qu'ils ont écrit. Mes photos sont "
        "listées (`photos`) avec l'adresse où les télécharger (`url`, avec le même "
        "jeton) ; le téléchargement depuis le site est une archive ZIP qui les contient."
    ),
)
def export_me():
    response = current_app.json.response(services.export(current_member()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/me")
@limiter.limit(ratelimits.PASSWORD_CHANGES, key_func=_api_member_key)
@_password_required
@operation(
    _l("Supprimer mon compte"),
    body=gs.DeleteMeBody,
    responses={204: None},
    errors={
        409: "A loan is in progress (accepted, or lent and not returned)",
        422: "Password missing or wrong (`fields.password`)",
        429: "Too many attempts",
    },
    description=described(
        _l(
            'Corps : `{"password": "..."}` (le mot de passe du compte, obligatoire). Efface '
            "le compte et tout ce que j'ai écrit (annonces, réponses, commentaires, messages, "
            "prêts terminés…) ; les demandes de prêt en attente sont annulées. Refusé (409) "
            "tant qu'un prêt est en cours. L'adresse e-mail est aussitôt libérée ; le jeton "
            "ne fonctionne plus."
        ),
        Rule(_l("`password` : le mot de passe du compte"), fields=("password",)),
        Rule(_l("Pas tant qu'un prêt est accepté, ou prêté et pas rendu"), 409),
    ),
)
def delete_me(body: gs.DeleteMeBody):
    services.delete_account(current_member(), body.password)
    commit()
    return "", 204
