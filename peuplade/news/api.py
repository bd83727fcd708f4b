"""The news' and outings' JSON API (/api/v1): news of the quartier, their comments, outings
and who goes (the timeline's is ``timeline/api.py``).

Views parse (``@operation``), load the news or event through the one visibility rule
(``get_news_or_404`` / ``get_event_or_404``), call ``news.services`` /
``events.services`` - the same calls as the HTML pages - commit once, and serialise.
No business rule lives here. Per-row extras (comment counts, members going...) are
counted once per page (``serializers.page_counts``), so a longer page costs no more
statements.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_

from peuplade import pagination
from peuplade.api import bp, parsing
from peuplade.api.openapi import NEW_ACCOUNT_POSTS, operation
from peuplade.api.responses import created
from peuplade.api.schemas import ForYouQuery, Rule, described
from peuplade.auth.bearer import current_member
from peuplade.database import commit
from peuplade.events import queries as event_queries
from peuplade.events import services as events
from peuplade.extensions import db
from peuplade.models import NEWS_KINDS, Event, Member, NewsComment, NewsPost
from peuplade.news import queries as news_queries
from peuplade.news import schemas as ns
from peuplade.news import serializers
from peuplade.news import services as news
from peuplade.pagination import TimeCursor, fetch_page
from peuplade.posts import queries as posts
from peuplade.posts.schemas import PLACE_NEAR_HOME, post_location
from peuplade.validation import url_id

NEWS_ID = url_id("news_id")
EVENT_ID = url_id("event_id")

# Rules of both posting and editing (news.services, events.services).
QUARTIER_SCOPE = Rule(
    _l("`scope: quartier` demande un domicile dans un quartier connu"), fields=("scope",)
)
EVENT_TIMES = Rule(
    _l(
        "`starts_at` : à venir, dans l'année qui vient ; `ends_at` : pas avant "
        "`starts_at`, deux semaines au plus après"
    ),
    fields=("starts_at", "ends_at"),
)
COMMENT_CURSOR = "comment"
ALERTS_SHOWN = 100


# --- reading requests ------------------------------------------------------------------


def _time(text: str | None, field: str, errors: dict[str, object]) -> datetime | None:
    """An ISO 8601 instant WITH its offset: a bare local time is ambiguous."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        errors[field] = _(
            "Date et heure invalides : écrivez-les au format ISO 8601, "
            "par exemple 2030-06-01T18:30:00+02:00."
        )
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        errors[field] = _("Ajoutez le fuseau, par exemple +01:00.")
        return None
    return value.astimezone(UTC)


def _news_input(body: ns.NewsBody | ns.NewsPatch) -> news.NewsInput:
    return news.NewsInput(
        kind=body.kind, title=body.title, body=body.body, link=body.link, scope=body.scope
    )


def _event_input(body: ns.EventBody | ns.EventPatch) -> events.EventInput:
    """What to hand the service; ``place`` (a free name) is not: the place names itself."""
    errors: dict[str, object] = {}
    starts_at = _time(body.starts_at, "starts_at", errors)
    ends_at = _time(body.ends_at, "ends_at", errors)
    parsing.refuse(errors)
    return events.EventInput(
        title=body.title,
        body=body.body,
        starts_at=starts_at,
        ends_at=ends_at,
        location=post_location(body.location),
        capacity=body.capacity,
        reach_m=body.reach_m,
        # PATCH {"ends_at": null}: the event no longer has an end time.
        clear_end="ends_at" in body.model_fields_set and body.ends_at is None,
    )


# --- answers ---------------------------------------------------------------------------


def _news_detail(item: NewsPost, viewer: Member) -> dict:
    return serializers.news_detail(item, viewer, serializers.page_counts([item], viewer))


def _event_detail(event: Event, viewer: Member) -> dict:
    going = list(db.session.scalars(event_queries.going(event, viewer)))
    return serializers.event_detail(event, viewer, serializers.page_counts([event], viewer), going)


# --- news ------------------------------------------------------------------------------


@bp.get("/news")
@operation(
    _l("Infos du quartier près de chez moi"),
    query=ns.NewsQuery,
    responses={200: ns.NewsPage},
    description=_l(
        "Les infos qui me parviennent : publiées dans un rayon qui me couvre, ou adressées "
        "à tout mon quartier ; les plus récentes d'abord. Filtre : `kind` (`info`, "
        "`alerte`, `perdu_trouve`, `vie_de_quartier`). Les alertes des dernières 48 h sont "
        "aussi dans `GET /news/alerts`."
    ),
)
def list_news(query: ns.NewsQuery):
    me = current_member()
    errors: dict[str, object] = {}
    if query.kind and query.kind not in NEWS_KINDS:
        errors["kind"] = _("Type d'info inconnu : info, alerte, perdu_trouve ou vie_de_quartier.")
    after = TimeCursor.decode(query.cursor)  # not ours: 400
    parsing.refuse(errors)
    page = fetch_page(
        db.session.scalars,
        lambda limit: news_queries.near_me(me, kind=query.kind or None, after=after, limit=limit),
        query.limit,
        posts.cursor_after,
    )
    return serializers.news_page(
        page.items, me, serializers.page_counts(page.items, me), page.next_cursor
    )


@bp.get("/news/alerts")
@operation(
    _l("Alertes des dernières 48 heures"),
    responses={200: ns.NewsPage},
    description=_l(
        "Les infos de type `alerte` publiées depuis 48 h qui me parviennent, les plus "
        "récentes d'abord, à montrer avant tout le reste. Une seule page."
    ),
)
def list_alerts():
    me = current_member()
    rows = news_queries.recent_alerts(me, ALERTS_SHOWN).run(db.session.scalars).all()
    return serializers.news_page(list(rows), me, serializers.page_counts(list(rows), me), None)


@bp.post("/news")
@operation(
    _l("Publier une info du quartier"),
    body=ns.NewsBody,
    responses={201: ns.NewsOut},
    errors={429: NEW_ACCOUNT_POSTS},
    idempotent=True,
    description=described(
        _l(
            "`kind` : `info` par défaut. `scope` : `radius` (par défaut, dans mon rayon, à ma "
            "position publique floutée) ou `quartier` (tout mon quartier ; il faut que mon "
            "domicile soit dans un quartier connu). `link` : http(s) seulement."
        ),
        QUARTIER_SCOPE,
    ),
)
def post_news(body: ns.NewsBody, idempotency_key: str | None):
    me = current_member()
    item = news.post_news(me, replace(_news_input(body), submission_key=idempotency_key))
    commit()
    return created(_news_detail(item, me), url_for("api.show_news", news_id=item.id))


@bp.get(f"/news/{NEWS_ID}")
@operation(
    _l("Une info"),
    responses={200: ns.NewsOut},
    description=_l("404 si elle ne me parvient pas (sauf si j'en suis l'auteur)."),
)
def show_news(news_id: int):
    me = current_member()
    return _news_detail(news_queries.get_news_or_404(me, news_id), me)


@bp.patch(f"/news/{NEWS_ID}")
@operation(
    _l("Modifier mon info"),
    body=ns.NewsPatch,
    responses={200: ns.NewsOut},
    errors={403: "Not the author"},
    description=described(
        _l(
            "Les champs de la publication, au choix ; un `link` vide retire le lien. Tout ou "
            "rien : si un champ est refusé, rien n'est modifié."
        ),
        Rule(_l("Seul l'auteur modifie son info"), 403),
        QUARTIER_SCOPE,
    ),
)
def edit_news(news_id: int, body: ns.NewsPatch):
    me = current_member()
    item = news.update_news(news_queries.get_news_or_404(me, news_id), me, _news_input(body))
    commit()
    return _news_detail(item, me)


@bp.delete(f"/news/{NEWS_ID}")
@operation(
    _l("Supprimer mon info"),
    responses={204: None},
    errors={403: "Not the author"},
    description=described(
        _l("Avec ses commentaires."), Rule(_l("Seul l'auteur supprime son info"), 403)
    ),
)
def delete_news(news_id: int):
    me = current_member()
    news.delete_news(news_queries.get_news_or_404(me, news_id), me)
    commit()
    return "", 204


@bp.get(f"/news/{NEWS_ID}/comments")
@operation(
    _l("Les commentaires d'une info"),
    query=ForYouQuery,
    responses={200: ns.CommentPage},
    description=_l("Les plus anciens d'abord, comme une conversation."),
)
def list_comments(news_id: int, query: ForYouQuery):
    me = current_member()
    item = news_queries.get_news_or_404(me, news_id)
    errors: dict[str, object] = {}
    after = None
    try:
        values = pagination.decode(COMMENT_CURSOR, query.cursor)
        if values is not None:
            stamp, ident = values
            after = (datetime.fromisoformat(stamp), int(ident))
    except (TypeError, ValueError):
        raise pagination.bad_cursor() from None
    parsing.refuse(errors)
    stmt = news_queries.comments(item, me)
    if after is not None:
        stamp, ident = after
        stmt = stmt.where(
            or_(
                NewsComment.created_at > stamp,
                and_(NewsComment.created_at == stamp, NewsComment.id > ident),
            )
        )
    page = fetch_page(
        db.session.scalars,
        stmt,
        query.limit,
        lambda c: pagination.encode(COMMENT_CURSOR, [c.created_at.isoformat(), c.id]),
    )
    return serializers.comment_page(page.items, page.next_cursor)


@bp.post(f"/news/{NEWS_ID}/comments")
@operation(
    _l("Commenter une info"),
    body=ns.CommentBody,
    responses={201: ns.CommentOut},
    description=_l("Quiconque peut lire l'info peut la commenter (texte simple)."),
    idempotent=True,
)
def comment_news(news_id: int, body: ns.CommentBody, idempotency_key: str | None):
    me = current_member()
    note = news.comment(news_queries.get_news_or_404(me, news_id), me, body.body, idempotency_key)
    commit()
    return created(serializers.comment(note))


# --- events ----------------------------------------------------------------------------


@bp.get("/events")
@operation(
    _l("Sorties près de chez moi"),
    query=ForYouQuery,
    responses={200: ns.EventPage},
    description=_l(
        "Les sorties de mon voisinage qui ne sont pas terminées, les plus récemment "
        "annoncées d'abord (comme toutes les listes ; trier par `starts_at` côté client "
        "pour un agenda). Une sortie passée quitte la liste."
    ),
)
def list_events(query: ForYouQuery):
    me = current_member()
    errors: dict[str, object] = {}
    after = TimeCursor.decode(query.cursor)  # not ours: 400
    parsing.refuse(errors)
    page = fetch_page(
        db.session.scalars,
        lambda limit: event_queries.near_me(me, after, limit=limit),
        query.limit,
        posts.cursor_after,
    )
    return serializers.event_page(
        page.items, me, serializers.page_counts(page.items, me), page.next_cursor
    )


@bp.post("/events")
@operation(
    _l("Annoncer une sortie"),
    body=ns.EventBody,
    responses={201: ns.EventDetailOut},
    errors={429: NEW_ACCOUNT_POSTS},
    idempotent=True,
    description=described(
        _l(
            "`starts_at` (et `ends_at`, facultatif) : ISO 8601 avec le fuseau, par exemple "
            "2030-06-01T18:30:00+02:00 ; dans l'année qui vient. `location` : un lieu public "
            "`{place_id}` (son nom devient `place_name`), `{lat, lon}` ou `{address}`. "
            "`capacity` : nombre de places (sans limite si omis). `reach_m` : ma portée, par "
            "défaut mon rayon."
        ),
        EVENT_TIMES,
        PLACE_NEAR_HOME,
    ),
)
def post_event(body: ns.EventBody, idempotency_key: str | None):
    me = current_member()
    event = events.create_event(me, replace(_event_input(body), submission_key=idempotency_key))
    commit()
    return created(_event_detail(event, me), url_for("api.show_event", event_id=event.id))


@bp.get(f"/events/{EVENT_ID}")
@operation(
    _l("Une sortie"),
    responses={200: ns.EventDetailOut},
    description=_l(
        "Avec qui y va (`going`). 404 si elle n'est pas dans mon voisinage (sauf si je "
        "l'organise). Reste lisible une fois passée."
    ),
)
def show_event(event_id: int):
    me = current_member()
    return _event_detail(event_queries.get_event_or_404(me, event_id), me)


@bp.patch(f"/events/{EVENT_ID}")
@operation(
    _l("Modifier ma sortie"),
    body=ns.EventPatch,
    responses={200: ns.EventDetailOut},
    errors={403: "Not the organiser"},
    description=described(
        _l(
            "Les champs de l'annonce, au choix. Le nombre de places ne peut pas descendre sous "
            "le nombre de personnes qui viennent. Tout ou rien."
        ),
        Rule(_l("Seule la personne qui organise modifie sa sortie"), 403),
        EVENT_TIMES,
        PLACE_NEAR_HOME,
        Rule(
            _l("`capacity` : pas moins que le nombre de personnes qui viennent"),
            fields=("capacity",),
        ),
    ),
)
def edit_event(event_id: int, body: ns.EventPatch):
    me = current_member()
    event = event_queries.get_event_or_404(me, event_id)
    events.update_event(event, me, _event_input(body))
    commit()
    return _event_detail(event, me)


@bp.delete(f"/events/{EVENT_ID}")
@operation(
    _l("Annuler ma sortie"),
    responses={204: None},
    errors={403: "Not the organiser"},
    description=described(
        _l("La sortie et les réponses disparaissent."),
        Rule(_l("Seule la personne qui organise annule sa sortie"), 403),
    ),
)
def delete_event(event_id: int):
    me = current_member()
    events.delete_event(event_queries.get_event_or_404(me, event_id), me)
    commit()
    return "", 204


@bp.post(f"/events/{EVENT_ID}/rsvp")
@operation(
    _l("Répondre à une sortie : j'y vais, ou pas"),
    body=ns.RsvpBody,
    responses={200: ns.RsvpOut},
    errors={409: "Full (for a new `going: true`), or the event is over"},
    description=described(
        _l(
            "`going: true` prend une place (409 si c'est complet), `going: false` la libère. "
            "409 aussi une fois la sortie passée."
        ),
        Rule(_l("Une sortie à venir, avec une place libre pour un nouveau `going: true`"), 409),
    ),
)
def rsvp_event(event_id: int, body: ns.RsvpBody):
    me = current_member()
    event = event_queries.get_event_or_404(me, event_id)
    answer = events.rsvp(event, me, body.going)
    commit(_l("Votre réponse vient d'être enregistrée : rechargez la sortie."))
    shown = event_queries.going_shown_counts([event.id], me).get(event.id, 0)
    return serializers.rsvp(answer.going, shown, event.capacity)
