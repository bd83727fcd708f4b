"""The notifications' JSON API (/api/v1): my bell (list, unread count, marking read) and
which emails I get.

Views parse (``@operation``), call ``notifications.queries`` / ``services`` - the same
calls as the HTML pages - commit once, and serialise. Only the caller's own rows are
ever read or changed: every query and write is scoped to ``current_member()``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from peuplade.api import bp
from peuplade.api.openapi import operation
from peuplade.api.schemas import LIMIT_MAX, UnreadOut, unread_out
from peuplade.auth.bearer import current_member
from peuplade.database import commit
from peuplade.errors import ValidationFailed
from peuplade.extensions import db
from peuplade.notifications import queries, serializers, services
from peuplade.notifications import schemas as ns
from peuplade.pagination import TimeCursor, fetch_page


@bp.get("/notifications")
@operation(
    _l("Mes notifications"),
    query=ns.NotificationsQuery,
    responses={200: ns.NotificationPage},
    description=_l(
        "Les plus récentes d'abord, avec `unread`, le nombre de mes notifications non "
        "lues. `text` est la phrase à afficher, dans la langue de la requête. Lire la "
        "liste ne marque rien comme lu : utilisez `POST /notifications/read`."
    ),
)
def list_notifications(query: ns.NotificationsQuery):
    me = current_member()
    after = TimeCursor.decode(query.cursor)  # a bad cursor: 400 fields.cursor
    page = fetch_page(
        db.session.scalars, queries.mine(me, after), query.limit, queries.cursor_after
    )
    return serializers.notification_page(page.items, page.next_cursor, queries.unread_count(me))


@bp.post("/notifications/read")
@operation(
    _l("Marquer mes notifications comme lues"),
    body=ns.ReadBody,
    responses={200: UnreadOut},
    description=_l(
        "`ids` : celles à marquer (%(n)s au plus) ; sans `ids`, toutes. Les numéros qui "
        "ne sont pas à moi sont ignorés. Répond le nombre de notifications encore non lues.",
        n=LIMIT_MAX,
    ),
)
def read_notifications(body: ns.ReadBody):
    me = current_member()
    services.mark_read(me, body.ids)
    commit()
    return unread_out(queries.unread_count(me))


@bp.get("/me/notification-settings")
@operation(
    _l("Mes choix d'e-mails de notification"),
    responses={200: ns.NotificationSettingsOut},
    description=_l(
        "Pour chaque type de notification : `on` (un e-mail à chaque fois), `digest` "
        "(dans le résumé du jour) ou `off` (jamais d'e-mail)."
    ),
)
def notification_settings():
    return serializers.notification_settings(services.settings_of(current_member()))


@bp.patch("/me/notification-settings")
@operation(
    _l("Modifier mes choix d'e-mails de notification"),
    body=ns.NotificationSettingsPatch,
    responses={200: ns.NotificationSettingsOut},
    description=_l(
        "`settings` : les types à changer et leur mode (`on`, `digest` ou `off`) ; les "
        "autres restent comme ils sont. Tout ou rien : un type ou un mode inconnu donne "
        "422, `fields` nommant `settings.<type>`, et rien n'est modifié."
    ),
)
def update_notification_settings(body: ns.NotificationSettingsPatch):
    try:
        settings = services.choose_emails(current_member(), body.settings)
    except ValidationFailed as exc:
        fields = {f"settings.{kind}": message for kind, message in exc.fields.items()}
        raise ValidationFailed(exc.message, fields) from None
    commit()
    return serializers.notification_settings(settings)
