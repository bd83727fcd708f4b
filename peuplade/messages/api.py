"""The private conversations' JSON API (/api/v1): my inbox, starting one, reading and
writing.

Views parse (``@operation``), load the conversation through the one participants-only
rule (``queries.get_conversation_or_404``), call ``messages.services`` - the same calls
as the HTML pages - commit once, and serialise. No business rule lives here.
"""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_

from peuplade import pagination
from peuplade.api import bp
from peuplade.api.openapi import NEW_ACCOUNT_MESSAGES, operation
from peuplade.api.responses import created
from peuplade.api.schemas import Rule, UnreadOut, described, unread_out
from peuplade.auth.bearer import current_member
from peuplade.database import commit
from peuplade.errors import NotFound
from peuplade.extensions import db
from peuplade.messages import queries, serializers, services
from peuplade.messages import schemas as cs
from peuplade.models import Conversation, Member, Message
from peuplade.pagination import fetch_page
from peuplade.validation import url_id

CONVERSATION_ID = url_id("conversation_id")
MESSAGE_CURSOR = "message"
# The inbox is one page; nobody keeps this many conversations going at once.
INBOX_SHOWN = 200


def _with_unread(conversation: Conversation, viewer: Member) -> dict:
    unread = db.session.execute(
        queries.inbox(viewer).where(Conversation.id == conversation.id)
    ).one()[1]
    return serializers.conversation(conversation, viewer, unread or 0)


def _after(cursor: str | None) -> tuple[datetime, int] | None:
    try:
        values = pagination.decode(MESSAGE_CURSOR, cursor)
        if values is None:
            return None
        stamp, ident = values
        return datetime.fromisoformat(stamp), int(ident)
    except (TypeError, ValueError):
        raise pagination.bad_cursor() from None


@bp.get("/conversations")
@operation(
    _l("Mes conversations"),
    responses={200: cs.ConversationPage},
    description=_l(
        "Les conversations auxquelles je participe, la plus récemment active d'abord, "
        "avec le nombre de messages non lus de chacune. Une seule page (`next_cursor` "
        "vaut toujours null), de %(n)s conversations au plus.",
        n=INBOX_SHOWN,
    ),
)
def list_conversations():
    me = current_member()
    rows = db.session.execute(queries.inbox(me).limit(INBOX_SHOWN)).all()
    return serializers.conversation_page([(c, unread or 0) for c, unread in rows], me)


@bp.get("/conversations/unread")
@operation(
    _l("Nombre de messages non lus"),
    responses={200: UnreadOut},
    description=_l("Sur toutes mes conversations : le chiffre à afficher sur la messagerie."),
)
def unread_messages():
    return unread_out(queries.unread_total(current_member()))


@bp.post("/conversations")
@operation(
    _l("Écrire à un membre"),
    body=cs.StartBody,
    responses={201: cs.ConversationOut},
    errors={
        403: "Neither a neighbour (either's radius) nor met through an exchange or a loan",
        404: "No such member",
        429: NEW_ACCOUNT_MESSAGES,
    },
    description=described(
        _l(
            "On peut écrire à ses voisins (le rayon de l'un couvre l'autre) ou à quelqu'un "
            "avec qui on a un échange ou un prêt. `about` (facultatif) : `{type, id}`, où "
            "`type` vaut `exchange`, `item` ou `event` (l'id de la publication) ou `loan` "
            "(l'id du prêt), que je dois pouvoir voir. Entre deux mêmes personnes et sur le "
            "même sujet, la conversation existante continue. Texte simple, %(n)s caractères "
            "au plus.",
            n=services.BODY_MAX,
        ),
        Rule(_l("`member_id` : un membre qui existe"), 404),
        Rule(
            _l(
                "Un voisin (le rayon de l'un couvre l'autre) ou quelqu'un d'un même échange ou "
                "prêt ; pas moi-même, et personne qui m'a bloqué ou que j'ai bloqué"
            ),
            403,
        ),
        Rule(_l("`about` : une publication ou un prêt que je peux voir"), fields=("about",)),
    ),
    idempotent=True,
)
def start_conversation(body: cs.StartBody, idempotency_key: str | None):
    me = current_member()
    recipient = db.session.get(Member, body.member_id)
    if recipient is None:
        raise NotFound(_("Ce membre n'existe pas."))
    about = services.Subject(body.about.type, body.about.id) if body.about else None
    conversation = services.start(me, recipient, body.message, about, idempotency_key)
    commit()
    location = url_for("api.list_messages", conversation_id=conversation.id)
    return created(_with_unread(conversation, me), location)


@bp.get(f"/conversations/{CONVERSATION_ID}/messages")
@operation(
    _l("Les messages d'une conversation"),
    query=cs.MessagesQuery,
    responses={200: cs.MessagePage},
    description=_l(
        "Les plus anciens d'abord, les plus récents en dernier. Lire la dernière page "
        "(`next_cursor` null) marque la conversation comme lue pour moi. 404 si je n'y "
        "participe pas, ou si l'un des deux a bloqué l'autre (la conversation revient "
        "telle quelle au déblocage)."
    ),
)
def list_messages(conversation_id: int, query: cs.MessagesQuery):
    me = current_member()
    conversation = queries.get_conversation_or_404(me, conversation_id)
    after = _after(query.cursor)  # a bad cursor: 422 fields.cursor
    stmt = queries.messages(conversation)
    if after is not None:
        stamp, ident = after
        stmt = stmt.where(
            or_(
                Message.created_at > stamp,
                and_(Message.created_at == stamp, Message.id > ident),
            )
        )
    page = fetch_page(
        db.session.scalars,
        stmt,
        query.limit,
        lambda m: pagination.encode(MESSAGE_CURSOR, [m.created_at.isoformat(), m.id]),
    )
    if page.next_cursor is None:
        services.mark_read(conversation, me)
        commit()
    return serializers.message_page(page.items, page.next_cursor)


@bp.post(f"/conversations/{CONVERSATION_ID}/messages")
@operation(
    _l("Écrire dans une conversation"),
    body=cs.MessageBody,
    responses={201: cs.MessageOut},
    errors={429: NEW_ACCOUNT_MESSAGES},
    description=described(
        _l(
            "Texte simple, %(n)s caractères au plus. 404 si je n'y participe pas, ou si "
            "l'un des deux a bloqué l'autre.",
            n=services.BODY_MAX,
        ),
    ),
    idempotent=True,
)
def write_message(conversation_id: int, body: cs.MessageBody, idempotency_key: str | None):
    me = current_member()
    conversation = queries.get_conversation_or_404(me, conversation_id)
    note = services.write(conversation, me, body.message, idempotency_key)
    commit()
    location = url_for("api.list_messages", conversation_id=conversation_id)
    return created(serializers.message(note), location)
