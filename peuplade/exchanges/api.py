"""The exchanges' JSON API (/api/v1): requests and offers near me, responses, closing,
thanks.

Views parse (``@operation``), load the exchange through the one visibility rule
(``queries.get_exchange_or_404``), call ``exchanges.services`` - the same calls as
the HTML pages - commit once, and serialise. No business rule lives here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from peuplade import categories
from peuplade.api import bp, parsing
from peuplade.api.openapi import NEW_ACCOUNT_POSTS, operation
from peuplade.api.parsing import parse_day
from peuplade.api.responses import created
from peuplade.api.schemas import ForYouQuery, Rule, described
from peuplade.auth.bearer import current_member
from peuplade.database import commit
from peuplade.exchanges import queries, serializers, services
from peuplade.exchanges import schemas as xs
from peuplade.extensions import db
from peuplade.models import EXCHANGE_KINDS, Exchange, Member
from peuplade.pagination import Prepared, TimeCursor, fetch_page
from peuplade.posts import queries as posts
from peuplade.posts.schemas import PLACE_NEAR_HOME, post_location
from peuplade.validation import url_id

EXCHANGE_ID = url_id("exchange_id")

# Rules of both posting and editing an exchange (services.create_exchange/update_exchange).
EXCHANGE_DAYS = Rule(
    _l(
        "`starts_on` et `ends_on` : aujourd'hui ou plus tard, dans l'année qui "
        "vient ; la fin après le début"
    ),
    fields=("starts_on", "ends_on"),
)
BEHALF_CONSENT = Rule(
    _l("Un nouveau nom dans `on_behalf_of` demande `behalf_consent: true`"),
    fields=("behalf_consent",),
)

NOT_YOURS = "Not the author (or, for thanks, neither the author nor the helper)"


# --- reading requests ----------------------------------------------------------------


def _dates(body: xs.ExchangeBody | xs.ExchangePatch) -> dict[str, date | None]:
    """The dates the client sent (``null`` clears one); a 422 naming each bad one."""
    given: dict[str, date | None] = {}
    errors: dict[str, object] = {}
    for field in ("starts_on", "ends_on"):
        if field not in body.model_fields_set:
            continue
        text = getattr(body, field)
        given[field] = None if text is None else parse_day(text, field, errors)
    parsing.refuse(errors)
    return given


def _behalf(body: xs.ExchangeBody | xs.ExchangePatch) -> dict[str, object]:
    """Posting for a neighbour: absent leaves it as it is on edit, ``null`` (or "") on
    edit makes the exchange the author's own again."""
    if "on_behalf_of" not in body.model_fields_set:
        return {}
    return {
        "on_behalf_of": body.on_behalf_of or "",
        "behalf_consent": bool(body.behalf_consent),
    }


def _input(
    body: xs.ExchangeBody | xs.ExchangePatch, editing: Exchange | None = None
) -> services.ExchangeInput:
    """What to hand the service. On edit, dates sent back unchanged are not sent on
    (a period that began yesterday stays valid), as the HTML form does."""
    dates = _dates(body)
    if editing is not None and dates:
        period = (
            dates.get("starts_on", editing.starts_on),
            dates.get("ends_on", editing.ends_on),
        )
        if period == (editing.starts_on, editing.ends_on):
            dates = {}
    return services.ExchangeInput(
        kind=body.kind,
        title=body.title,
        body=body.body,
        category=body.category,
        location=post_location(body.location),
        reach_m=body.reach_m,
        **_behalf(body),
        **dates,
    )


# --- answers -------------------------------------------------------------------------


def _page(query: Callable[[int], Prepared], viewer: Member, limit: int):
    """One page of ``query(LIMIT)`` (``pagination.fetch_page``), its rows loaded with
    ``queries.WITH_HELPER``; response counts in one query for the page."""
    page = fetch_page(db.session.scalars, query, limit, posts.cursor_after)
    counts = queries.responses_count([e.id for e in page.items], viewer)
    return serializers.exchange_page(page.items, viewer, counts, page.next_cursor)


def _detail(exchange: Exchange, viewer: Member) -> dict:
    """The exchange as ``viewer`` may see it: its author gets the responses, and while it
    is open the neighbours who know how and the matching exchanges."""
    extra: dict = {}
    if exchange.author_id == viewer.id:
        responses = queries.responses_shown(exchange, viewer)
        extra["responses"] = responses
        count = len(responses)
        if exchange.status == "open":
            if exchange.kind == "request":
                extra["know_how"] = queries.know_how_count(exchange)
            matches = queries.matching(exchange, viewer)
            extra["matches"] = matches
            extra["match_counts"] = queries.responses_count([m.id for m in matches], viewer)
    else:
        extra["my_response"] = queries.responded(exchange, viewer)
        count = queries.responses_count([exchange.id], viewer).get(exchange.id, 0)
    return serializers.exchange_detail(
        exchange, viewer, responses_count=count, thanks=queries.thanks_on(exchange, viewer), **extra
    )


# --- lists ---------------------------------------------------------------------------


@bp.get("/exchanges")
@operation(
    _l("Demandes et offres près de chez moi"),
    query=xs.ExchangesQuery,
    responses={200: xs.ExchangePage},
    description=_l(
        "Les annonces ouvertes de mon voisinage (dans mon rayon et dans la portée choisie "
        "par leur auteur), les plus récentes d'abord. Filtres : `kind`, `category`, `q` "
        "(mots cherchés dans le titre et la description)."
    ),
)
def list_exchanges(query: xs.ExchangesQuery):
    me = current_member()
    errors: dict[str, object] = {}
    if query.kind and query.kind not in EXCHANGE_KINDS:
        errors["kind"] = _("Choisissez « request » (demande) ou « offer » (offre).")
    if query.category and query.category not in categories.SLUGS:
        errors["category"] = _("Catégorie inconnue : utilisez un des identifiants de la liste.")
    after = TimeCursor.decode(query.cursor)  # not ours: 400
    parsing.refuse(errors)
    return _page(
        lambda limit: queries.near_me(
            me,
            kind=query.kind or None,
            category=query.category or None,
            q=query.q,
            after=after,
            limit=limit,
            options=queries.WITH_HELPER,
        ),
        me,
        query.limit,
    )


@bp.get("/for-you")
@operation(
    _l("Pour vous : les demandes qui correspondent à mes savoir-faire"),
    query=ForYouQuery,
    responses={200: xs.ExchangePage},
    description=_l(
        "Les demandes ouvertes de mon voisinage dans une catégorie que je sais faire, "
        "les plus récentes d'abord."
    ),
)
def for_you(query: ForYouQuery):
    me = current_member()
    errors: dict[str, object] = {}
    after = TimeCursor.decode(query.cursor)  # not ours: 400
    parsing.refuse(errors)
    return _page(
        lambda limit: queries.for_you(me, after, limit=limit, options=queries.WITH_HELPER),
        me,
        query.limit,
    )


# --- one exchange --------------------------------------------------------------------


@bp.post("/exchanges")
@operation(
    _l("Publier une demande ou une offre"),
    body=xs.ExchangeBody,
    responses={201: xs.ExchangeDetailOut},
    errors={429: NEW_ACCOUNT_POSTS},
    idempotent=True,
    description=described(
        _l(
            "`location` : `{place_id}` (un lieu public), `{lat, lon}` ou `{address, choice?}` ; "
            "omis, c'est ma position publique (floutée). `reach_m` : ma portée, par défaut mon "
            "rayon. Dates au format AAAA-MM-JJ. La réponse indique combien de voisins savent "
            "faire ça (`neighbours_who_know_how`, pour une demande) et les annonces qui "
            "correspondent (`matches`)."
        ),
        EXCHANGE_DAYS,
        PLACE_NEAR_HOME,
        BEHALF_CONSENT,
    ),
)
def post_exchange(body: xs.ExchangeBody, idempotency_key: str | None):
    me = current_member()
    data = replace(_input(body), submission_key=idempotency_key)
    exchange = services.create_exchange(me, data)
    commit()
    return created(_detail(exchange, me), url_for("api.show_exchange", exchange_id=exchange.id))


@bp.get(f"/exchanges/{EXCHANGE_ID}")
@operation(
    _l("Une annonce"),
    responses={200: xs.ExchangeDetailOut},
    description=_l(
        "404 si elle n'est pas dans mon voisinage (sauf si j'en suis l'auteur). L'auteur "
        "voit les réponses ; un voisin qui a répondu voit la sienne (`my_response`)."
    ),
)
def show_exchange(exchange_id: int):
    me = current_member()
    return _detail(queries.get_exchange_or_404(me, exchange_id), me)


@bp.patch(f"/exchanges/{EXCHANGE_ID}")
@operation(
    _l("Modifier mon annonce"),
    body=xs.ExchangePatch,
    responses={200: xs.ExchangeDetailOut},
    errors={403: "Not the author", 409: "The exchange is closed"},
    description=described(
        _l(
            "Tous les champs de la publication, au choix ; `null` efface une date. Tout ou "
            "rien : si un champ est refusé, rien n'est modifié."
        ),
        Rule(_l("Seul l'auteur modifie son annonce"), 403),
        Rule(_l("Une annonce close ne se modifie plus"), 409),
        EXCHANGE_DAYS,
        PLACE_NEAR_HOME,
        BEHALF_CONSENT,
    ),
)
def edit_exchange(exchange_id: int, body: xs.ExchangePatch):
    me = current_member()
    exchange = queries.get_exchange_or_404(me, exchange_id)
    services.check_can_edit(exchange, me)  # 403 / 409 before any field is judged
    services.update_exchange(exchange, me, _input(body, editing=exchange))
    commit()
    return _detail(exchange, me)


@bp.delete(f"/exchanges/{EXCHANGE_ID}")
@operation(
    _l("Supprimer mon annonce"),
    responses={204: None},
    errors={403: "Not the author"},
    description=described(
        _l("Avec ses réponses et ses remerciements."),
        Rule(_l("Seul l'auteur supprime son annonce"), 403),
    ),
)
def delete_exchange(exchange_id: int):
    me = current_member()
    services.delete_exchange(queries.get_exchange_or_404(me, exchange_id), me)
    commit()
    return "", 204


# --- taking part ---------------------------------------------------------------------


@bp.post(f"/exchanges/{EXCHANGE_ID}/responses")
@operation(
    _l("Répondre à une annonce"),
    body=xs.ResponseBody,
    responses={201: xs.ResponseOut},
    errors={
        403: "Your own exchange",
        409: "Already answered, or the exchange is closed",
    },
    description=described(
        _l("« Je peux vous aider » (ou « ça m'intéresse » pour une offre), une fois."),
        Rule(_l("Pas sur ma propre annonce"), 403),
        Rule(_l("Une fois par annonce, tant qu'elle est ouverte"), 409),
    ),
)
def respond_to_exchange(exchange_id: int, body: xs.ResponseBody):
    me = current_member()
    exchange = queries.get_exchange_or_404(me, exchange_id)
    response = services.respond(exchange, me, body.message)
    commit(_l("Vous avez déjà répondu à cette annonce."))
    return created(serializers.exchange_response(response))


@bp.post(f"/exchanges/{EXCHANGE_ID}/close")
@operation(
    _l("Clore mon annonce"),
    body=xs.CloseBody,
    responses={200: xs.ExchangeDetailOut},
    errors={403: "Not the author", 409: "Already closed"},
    description=described(
        _l(
            "`outcome` : `done` (fait) ou `cancelled` (annulé). Pour `done`, `helper_id` "
            "désigne, si on veut, la personne qui a aidé : l'une de celles qui ont répondu."
        ),
        Rule(_l("Seul l'auteur clôt son annonce"), 403),
        Rule(_l("Une annonce se clôt une fois"), 409),
        Rule(
            _l("`helper_id` : l'une des personnes qui ont répondu, et pour `done` seulement"),
            fields=("helper_id",),
        ),
    ),
)
def close_exchange(exchange_id: int, body: xs.CloseBody):
    me = current_member()
    exchange = queries.get_exchange_or_404(me, exchange_id)
    services.close_exchange(exchange, me, body.outcome, body.helper_id)
    commit()
    return _detail(exchange, me)


@bp.post(f"/exchanges/{EXCHANGE_ID}/thanks")
@operation(
    _l("Remercier après un échange fait"),
    body=xs.ThanksBody,
    responses={201: xs.ThanksOut},
    errors={403: NOT_YOURS, 409: "Not done with a helper yet, or already thanked"},
    description=described(
        _l(
            "L'auteur remercie la personne qui a aidé, et inversement, une fois chacun. "
            "Pas d'étoiles : des mots."
        ),
        Rule(_l("Seuls l'auteur et la personne qui a aidé se remercient"), 403),
        Rule(_l("Une fois l'échange fait, avec quelqu'un qui a aidé ; une fois chacun"), 409),
    ),
)
def thank_for_exchange(exchange_id: int, body: xs.ThanksBody):
    me = current_member()
    exchange = queries.get_exchange_or_404(me, exchange_id)
    note = services.thank(exchange, me, body.message)
    commit(_l("Vous avez déjà remercié pour cet échange."))
    return created(serializers.thanks_note(note))
