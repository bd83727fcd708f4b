"""The trust and safety JSON API (/api/v1): reporting something, blocking and unblocking
members, the list of members I blocked, and the moderators' queue of open reports.

Views parse (``@operation``), call ``moderation.services`` - the same calls as the HTML
pages - commit once, and serialise. No business rule lives here.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from peuplade.api import bp
from peuplade.api.openapi import operation
from peuplade.api.schemas import Rule, described
from peuplade.auth.bearer import current_member
from peuplade.database import commit
from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.models import Member
from peuplade.moderation import limits, queries, serializers, services
from peuplade.moderation import schemas as ms
from peuplade.pagination import TimeCursor, fetch_page
from peuplade.validation import url_id

MEMBER_ID = url_id("member_id")
DUPLICATE = _l("Vous avez déjà signalé ceci : la modération s'en occupe.")


def _answer(document: dict, status: int):
    response = current_app.json.response(document)
    response.status_code = status
    return response


@bp.post("/reports")
@operation(
    _l("Signaler quelque chose à la modération"),
    body=ms.ReportBody,
    responses={201: ms.ReportOut},
    errors={
        403: "It is your own",
        404: "No such thing, or not visible to you",
        409: "You already reported it",
    },
    description=described(
        _l(
            "Une annonce, un objet, une info, une sortie, un commentaire, un message d'une de "
            "mes conversations ou un membre, que je peux voir (sinon 404). Il va aux "
            "modérateurs de son quartier ; la personne signalée ne sait pas qui l'a signalée. "
            "Une fois par personne et par chose (409 ensuite). `details` : %(n)s caractères "
            "au plus.",
            n=services.DETAILS_MAX,
        ),
        Rule(_l("`type` et `id` : quelque chose que je peux voir"), 404),
        Rule(_l("Pas ce que j'ai écrit moi-même"), 403),
        Rule(_l("Une fois par personne et par chose"), 409),
    ),
)
def create_report(body: ms.ReportBody):
    me = current_member()
    row = services.report(me, body.type, body.id, body.reason, body.details or "")
    commit(DUPLICATE)  # two identical requests racing: the second is a 409 too
    return _answer(serializers.report(row).model_dump(mode="json"), 201)


@bp.get("/blocks")
@operation(
    _l("Les membres que j'ai bloqués"),
    query=ms.BlocksQuery,
    responses={200: ms.BlockPage},
    description=_l("Le blocage le plus récent d'abord."),
)
def list_blocks(query: ms.BlocksQuery):
    me = current_member()
    after = TimeCursor.decode(query.cursor)  # a bad cursor: 400 fields.cursor
    page = fetch_page(
        db.session.execute, queries.my_blocks(me, after), query.limit, queries.block_cursor
    )
    return ms.BlockPage(
        items=[serializers.block(b, m) for b, m in page.items], next_cursor=page.next_cursor
    ).model_dump(mode="json")


@bp.post(f"/blocks/{MEMBER_ID}")
@operation(
    _l("Bloquer un membre"),
    responses={201: ms.BlockOut, 200: ms.BlockOut},
    errors={422: "That is you"},
    description=described(
        _l(
            "Il ne peut plus m'écrire (ni moi lui), répondre à mes annonces, emprunter mes "
            "objets ni voir ce que je publie. Il n'en est pas prévenu. 201 quand le blocage "
            "est nouveau, 200 (le même blocage, inchangé) s'il existait déjà. 404 pour un "
            "membre que je ne peux pas voir."
        ),
        Rule(_l("Pas moi-même"), 422),
    ),
)
def block_member(member_id: int):
    me = current_member()
    already = limits.is_blocked(me.id, member_id)
    row = services.block(me, member_id)
    commit()
    member = db.session.get(Member, member_id)
    return _answer(serializers.block(row, member).model_dump(mode="json"), 200 if already else 201)


@bp.delete(f"/blocks/{MEMBER_ID}")
@operation(
    _l("Débloquer un membre"),
    responses={204: None},
    description=_l("204 aussi quand il n'était pas bloqué : le résultat est le même."),
)
def unblock_member(member_id: int):
    services.unblock(current_member(), member_id)
    commit()
    return "", 204


@bp.get("/moderation/reports")
@operation(
    _l("Les signalements à traiter (modération)"),
    query=ms.QueueQuery,
    responses={200: ms.QueuePage},
    errors={404: "Not a moderator"},
    description=described(
        _l(
            "Pour les modératrices et modérateurs : les signalements ouverts des quartiers "
            "que je modère (de tous les quartiers pour un administrateur), les plus récents "
            "d'abord. Certains viennent de Peuplade elle-même (`by_peuplade`, sans "
            "`reporter`) : le motif `signups` dit que beaucoup de comptes se sont inscrits "
            "en un jour avec leur domicile dans un même carré d'environ 450 m. On les "
            "traite sur les pages de modération, comme les autres."
        ),
        Rule(_l("Être modérateur ou administrateur (sinon 404)"), 404),
    ),
)
def moderation_queue(query: ms.QueueQuery):
    me = current_member()
    if not queries.is_moderator(me):
        raise NotFound(_l("Cette page n'existe pas, ou n'est pas dans votre voisinage."))
    after = TimeCursor.decode(query.cursor)  # a bad cursor: 400 fields.cursor
    page = fetch_page(
        db.session.scalars, queries.queue(me, after), query.limit, queries.report_cursor
    )
    titles = queries.target_titles(page.items)
    return ms.QueuePage(
        items=[serializers.queued_report(row, titles) for row in page.items],
        next_cursor=page.next_cursor,
    ).model_dump(mode="json")
