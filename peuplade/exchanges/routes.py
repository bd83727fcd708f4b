"""HTML pages for exchanges: the list near me, "Pour vous", my own, one exchange, and the
forms to post, edit, delete, answer, close and thank. Every write goes through
exchanges.services; every exchange is loaded through queries.get_exchange_or_404."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import inspect

from peuplade import categories, search
from peuplade.errors import Conflict, Forbidden
from peuplade.exchanges import queries, services
from peuplade.exchanges.forms import (
    CloseForm,
    DeleteForm,
    ExchangeForm,
    ResponseForm,
    ThanksForm,
)
from peuplade.extensions import db
from peuplade.forms import submit
from peuplade.models import EXCHANGE_KINDS, Exchange, Member
from peuplade.pagination import DEFAULT_LIMIT, cursor_or_restart, fetch_page
from peuplade.photos.forms import PHOTO_RENAMES, PostPhotos
from peuplade.photos.uploads import accepts_photos
from peuplade.posts import queries as posts
from peuplade.posts import services as post_services
from peuplade.posts.forms import save_sharing, sharing_data
from peuplade.posts.labels import Bands
from peuplade.privacy import band_label_for_rank
from peuplade.submissions import new_submission_key
from peuplade.validation import url_id

bp = Blueprint("exchanges", __name__)

PAGE_SIZE = DEFAULT_LIMIT
KNOW_HOW_SHOWN = 20
EXCHANGE_ID = url_id("exchange_id")


def _me() -> Member:
    return current_user._get_current_object()


@bp.app_context_processor
def thanks_helpers():
    """For templates/exchanges/_thanks.html, included on the public profile, and the
    helper's name on exchanges ("Fait, avec l'aide de X"), both as the viewer is shown
    them: nobody with a block either way with the viewer is counted or named."""

    def thanks_summary(member: Member) -> dict:
        me = _me()
        return {
            "count": queries.thanks_count(member.id, me),
            "recent": queries.recent_thanks(member, me),
        }

    def shown_helper(exchange: Exchange) -> Member | None:
        return queries.helper_shown(exchange, _me())

    return {"thanks_summary": thanks_summary, "shown_helper": shown_helper}


# --- lists ---------------------------------------------------------------------------


def _cards(exchanges: list[Exchange] | list[queries.ExchangeCard]) -> list[dict]:
    """What each card shows; the responses are counted for the whole page in one query."""
    me = _me()
    counts = queries.responses_count([e.id for e in exchanges], me)
    bands = Bands(me)
    return [
        {
            "exchange": e,
            "band": bands.band_of_others(e),
            "responses": counts.get(e.id, 0),
        }
        for e in exchanges
    ]


def _list_page(template: str, query_for, *, as_rows: bool = True, **context):
    """A list of exchange cards; ``query_for(after, limit, rows)`` gives its statement:
    a walk read as plain rows (``queries.card_columns``), or with ``as_rows=False``
    (my own exchanges, with their status and helper) a statement of objects."""
    after, cursor_error = cursor_or_restart(request.args.get("cursor"))
    if as_rows:
        page = fetch_page(
            db.session.execute,
            lambda limit: query_for(after, limit, queries.card_columns),
            PAGE_SIZE,
            posts.cursor_after,
        )
        items = queries.as_cards(page.items)
    else:
        page = fetch_page(
            db.session.scalars,
            lambda limit: query_for(after, limit, None),
            PAGE_SIZE,
            posts.cursor_after,
        )
        items = page.items
    return (
        render_template(
            template,
            cards=_cards(items),
            next_cursor=page.next_cursor,
            continued=after is not None,
            cursor_error=cursor_error,
            **context,
        ),
        400 if cursor_error else 200,
    )


@bp.route("/exchanges")
def index():
    me = _me()
    kind = request.args.get("kind", "")
    kind = kind if kind in EXCHANGE_KINDS else ""
    category = request.args.get("category", "")
    category = category if category in categories.SLUGS else ""
    q = (request.args.get("q") or "").strip()[: search.MAX_QUERY_LENGTH]
    return _list_page(
        "exchanges/index.html",
        lambda after, limit, rows: queries.near_me(
            me,
            kind=kind or None,
            category=category or None,
            q=q or None,
            after=after,
            limit=limit,
            rows=rows,
        ),
        kind=kind,
        category=category,
        q=q,
        filtered=bool(kind or category or q),
        category_choices=categories.choices(),
        radius_m=me.radius_m,
    )


@bp.route("/for-you")
def for_you():
    me = _me()
    return _list_page(
        "exchanges/for_you.html",
        lambda after, limit, rows: queries.for_you(me, after, limit=limit, rows=rows),
        skills=me.skill_slugs,
        radius_m=me.radius_m,
    )


@bp.route("/exchanges/mine")
def mine():
    me = _me()
    return _list_page(
        "exchanges/mine.html", lambda after, _limit, _rows: queries.mine(me, after), as_rows=False
    )


# --- posting and editing -------------------------------------------------------------


# The message after posting a request counts the neighbours who know how this far
# ("plus de 100").
KNOW_HOW_COUNTED = 100
# The exchange this browser just published: its page, where posting leads, says so with
# the counts it shows anyway (the neighbours who know how, the matching offers or
# requests), instead of the post counting them once more before leading there.
PUBLISHED = "peuplade_published"


def _published_message(exchange: Exchange, page: dict) -> str:
    """ "Votre demande est publiée…", from what the exchange's page found (``_show``)."""
    if exchange.kind == "request":
        n = page["know_how_total"]
        if n == 0:
            return _(
                "Votre demande est publiée. Personne près de chez vous n'a encore indiqué "
                "ce savoir-faire, mais tous vos voisins peuvent la voir."
            )
        if n > KNOW_HOW_COUNTED:
            return _(
                "Votre demande est publiée. Plus de %(num)s voisins savent faire ça près de "
                "chez vous.",
                num=KNOW_HOW_COUNTED,
            )
        return ngettext(
            "Votre demande est publiée. %(num)s voisin sait faire ça près de chez vous.",
            "Votre demande est publiée. %(num)s voisins savent faire ça près de chez vous.",
            n,
        )
    n = len(page["matches"])
    if n == 0:
        return _("Votre offre est publiée.")
    return ngettext(
        "Votre offre est publiée. %(num)s demande ouverte près de chez vous pourrait vous "
        "concerner : elle est sur la page de l'offre.",
        "Votre offre est publiée. %(num)s demandes ouvertes près de chez vous pourraient vous "
        "concerner : elles sont sur la page de l'offre.",
        n,
    )


@bp.route("/exchanges/new", methods=["GET", "POST"])
@accepts_photos
def new():
    me = _me()
    places = post_services.places_near(me)
    if request.method == "GET":
        form = ExchangeForm(
            places=places,
            data={
                "kind": request.args.get("kind", "request"),
                "reach_m": str(me.radius_m),
                "submission_key": new_submission_key(),
            },
        )
        if form.kind.data not in EXCHANGE_KINDS:
            form.kind.data = "request"
        PostPhotos(form, "exchange", me)
        return render_template("exchanges/new.html", form=form, general=[])
    form = ExchangeForm(places=places)
    photos = PostPhotos(form, "exchange", me)
    general: list[str] = []
    if form.validate_on_submit():
        photos.read()
        outcome = submit(
            form,
            lambda: save_sharing(
                form, photos.save(services.create_exchange(me, form.exchange_input()))
            ),
            PHOTO_RENAMES,
        )
        if outcome.ok:
            # Its id from the session's identity map: the committed row is not read again.
            (exchange_id,) = inspect(outcome.result).identity
            session[PUBLISHED] = exchange_id
            return redirect(url_for("exchanges.show", exchange_id=exchange_id))
        general = outcome.general
        photos.keep()
    return render_template("exchanges/new.html", form=form, general=general), 422


def _where(exchange: Exchange) -> str:
    if exchange.place_name:
        return exchange.place_name
    if not exchange.at_author:
        return _("le point choisi sur la carte")
    return _("près de chez moi")


@bp.route(f"/exchanges/{EXCHANGE_ID}/edit", methods=["GET", "POST"])
@accepts_photos
def edit(exchange_id: int):
    me = _me()
    exchange = queries.get_exchange_or_404(me, exchange_id)
    try:
        services.check_can_edit(exchange, me)
    except Conflict as exc:
        return _show(exchange, problem=exc.message, status=409)
    places = post_services.places_near(me)
    current = _where(exchange)
    if request.method == "GET":
        form = ExchangeForm(
            places=places,
            current=current,
            data={
                "kind": exchange.kind,
                "title": exchange.title,
                "body": exchange.body,
                "category": exchange.category,
                "starts_on": exchange.starts_on.isoformat() if exchange.starts_on else "",
                "ends_on": exchange.ends_on.isoformat() if exchange.ends_on else "",
                "location": "keep",
                "reach_m": str(exchange.reach_m),
                "on_behalf_of": exchange.on_behalf_of or "",
                **sharing_data(exchange),
                # Only for the photos kept while another field is refused (the edit
                # itself needs no key).
                "submission_key": new_submission_key(),
            },
        )
        PostPhotos(form, "exchange", me, exchange)
        return render_template("exchanges/edit.html", form=form, exchange=exchange, general=[])
    form = ExchangeForm(places=places, current=current)
    photos = PostPhotos(form, "exchange", me, exchange)
    general: list[str] = []
    if form.validate_on_submit():
        photos.read()
        try:
            outcome = submit(
                form,
                lambda: save_sharing(
                    form,
                    photos.save(
                        services.update_exchange(exchange, me, form.exchange_input(exchange))
                    ),
                ),
                PHOTO_RENAMES,
            )
        except Conflict as exc:
            return _show(exchange, problem=exc.message, status=409)
        if outcome.ok:
            flash(_("Votre annonce est modifiée."), "success")
            return redirect(url_for("exchanges.show", exchange_id=exchange.id))
        general = outcome.general
        photos.keep()
    return (
        render_template("exchanges/edit.html", form=form, exchange=exchange, general=general),
        422,
    )


@bp.route(f"/exchanges/{EXCHANGE_ID}/delete", methods=["GET", "POST"])
def delete(exchange_id: int):
    """GET asks for confirmation (no JavaScript needed); POST deletes."""
    me = _me()
    exchange = queries.get_exchange_or_404(me, exchange_id)
    if exchange.author_id != me.id:
        raise Forbidden(_("Seul l'auteur peut supprimer son annonce."))
    form = DeleteForm()
    if request.method == "POST" and form.validate_on_submit():
        outcome = submit(form, lambda: services.delete_exchange(exchange, me))
        if outcome.ok:
            flash(_("Votre annonce est supprimée."), "success")
            return redirect(url_for("exchanges.mine"))
    return render_template("exchanges/delete.html", form=form, exchange=exchange)


# --- one exchange --------------------------------------------------------------------


def _show(
    exchange: Exchange,
    *,
    status: int = 200,
    problem: object = None,
    response_form: ResponseForm | None = None,
    close_form: CloseForm | None = None,
    thanks_form: ThanksForm | None = None,
):
    """The exchange page. After a refused action it is shown again, with the forms as
    typed and ``problem`` (a Conflict's message) at the top."""
    me = _me()
    is_author = exchange.author_id == me.id
    is_open = exchange.status == "open"
    context: dict = {
        "exchange": exchange,
        "is_author": is_author,
        "band": None if is_author else posts.distance_band(me, exchange),
        "problem": problem,
        "thanks": queries.thanks_on(exchange, me),
        "responses": [],
        "thanks_form": None,
        "response_form": None,
        "close_form": None,
        "my_response": None,
        "know_how": [],
        "know_how_total": 0,
        "matches": [],
    }
    if is_author:
        context["responses"] = queries.responses_shown(exchange, me)
        if is_open:
            context["close_form"] = close_form or CloseForm(
                responders=[r.author for r in context["responses"]]
            )
            context["matches"] = queries.matching(exchange, me)
            if exchange.kind == "request":
                rows = db.session.execute(
                    queries.neighbours_who_know_how(exchange).limit(KNOW_HOW_SHOWN)
                ).all()
                context["know_how"] = [
                    {"member": row[0], "band": band_label_for_rank(int(row.band_rank))}
                    for row in rows
                ]
                context["know_how_total"] = (
                    len(rows) if len(rows) < KNOW_HOW_SHOWN else queries.know_how_count(exchange)
                )
    else:
        context["my_response"] = queries.responded(exchange, me)
        if is_open and context["my_response"] is None:
            context["response_form"] = response_form or ResponseForm()
    may_thank = exchange.status == "done" and me.id in (exchange.author_id, exchange.helper_id)
    # No thanks across a block: the helper is not even named to the author.
    may_thank = may_thank and queries.helper_shown(exchange, me) is not None
    if may_thank and exchange.helper_id is not None and not queries.thanked(exchange, me):
        context["thanks_form"] = thanks_form or ThanksForm()
        context["thanks_to"] = exchange.helper if is_author else exchange.author
    if is_author and is_open and session.get(PUBLISHED) == exchange.id:
        del session[PUBLISHED]
        flash(_published_message(exchange, context), "success")
    return render_template("exchanges/show.html", **context), status


@bp.route(f"/exchanges/{EXCHANGE_ID}")
def show(exchange_id: int):
    return _show(queries.get_exchange_or_404(_me(), exchange_id))


def _action(exchange: Exchange, form, form_name: str, action, done_message: str):
    """Run one action from the exchange page: redirect on success, else the page again
    with the form's errors (422) or the reason it cannot be done (409)."""
    if not form.validate_on_submit():
        return _show(exchange, status=422, **{form_name: form})
    try:
        outcome = submit(form, action)
    except Conflict as exc:
        return _show(exchange, status=409, problem=exc.message)
    if outcome.ok:
        flash(done_message, "success")
        return redirect(url_for("exchanges.show", exchange_id=exchange.id))
    if outcome.general:
        return _show(exchange, status=422, problem=" ".join(outcome.general), **{form_name: form})
    return _show(exchange, status=422, **{form_name: form})


@bp.route(f"/exchanges/{EXCHANGE_ID}/responses", methods=["POST"])
def respond(exchange_id: int):
    me = _me()
    exchange = queries.get_exchange_or_404(me, exchange_id)
    form = ResponseForm()
    return _action(
        exchange,
        form,
        "response_form",
        lambda: services.respond(exchange, me, form.message.data),
        _("Votre réponse est envoyée. L'auteur de l'annonce la voit sur sa page."),
    )


@bp.route(f"/exchanges/{EXCHANGE_ID}/close", methods=["POST"])
def close(exchange_id: int):
    me = _me()
    exchange = queries.get_exchange_or_404(me, exchange_id)
    if exchange.author_id != me.id:  # before building the form from its responders
        raise Forbidden(_("Seul l'auteur peut clore son annonce."))
    form = CloseForm(responders=[r.author for r in queries.responses_shown(exchange, me)])
    return _action(
        exchange,
        form,
        "close_form",
        lambda: services.close_exchange(exchange, me, form.outcome.data, form.helper_id.data),
        _("L'annonce est close. Merci d'avoir fait vivre l'entraide !"),
    )


@bp.route(f"/exchanges/{EXCHANGE_ID}/thanks", methods=["POST"])
def thank(exchange_id: int):
    me = _me()
    exchange = queries.get_exchange_or_404(me, exchange_id)
    form = ThanksForm()
    return _action(
        exchange,
        form,
        "thanks_form",
        lambda: services.thank(exchange, me, form.message.data),
        _("Votre remerciement est envoyé."),
    )
