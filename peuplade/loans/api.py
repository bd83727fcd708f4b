"""The objects' and loans' JSON API (/api/v1): the neighbourhood shelf, borrowing and its
steps.

Views parse (``@operation``), load the object or loan through the one visibility rule
(``queries.get_item_or_404`` / ``get_loan_or_404``), call ``loans.services`` - the
same calls as the HTML pages - commit once, and serialise. No business rule lives
here: who may do which step from which state is the services' decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import selectinload

from peuplade import categories, pagination
from peuplade.api import bp, parsing
from peuplade.api.openapi import NEW_ACCOUNT_POSTS, operation
from peuplade.api.parsing import parse_day
from peuplade.api.responses import created
from peuplade.api.schemas import ForYouQuery, Rule, described
from peuplade.auth.bearer import current_member
from peuplade.database import commit
from peuplade.extensions import db
from peuplade.loans import queries, serializers, services
from peuplade.loans import schemas as ls
from peuplade.localtime import today
from peuplade.models import Item, Loan, Member
from peuplade.pagination import TimeCursor, fetch_page
from peuplade.posts import queries as posts
from peuplade.validation import ID_MAX, url_id

ITEM_ID = url_id("item_id")
LOAN_ID = url_id("loan_id")
LENDER_ONLY = Rule(_l("Seul le prêteur fait cette étape"), 403)
LOAN_CURSOR = "loan"


# --- reading requests ----------------------------------------------------------------


def _loan_after(cursor: str | None) -> tuple[date, int] | None:
    """The (start, id) of the last loan of the previous page."""
    try:
        values = pagination.decode(LOAN_CURSOR, cursor)
        if values is None:
            return None
        start, ident = values
        if not isinstance(start, str) or not isinstance(ident, int) or not 0 < ident <= ID_MAX:
            raise pagination.bad_cursor()
        return date.fromisoformat(start), ident
    except (TypeError, ValueError):
        raise pagination.bad_cursor() from None


def _item_input(body: ls.ItemBody | ls.ItemPatch) -> services.ItemInput:
    return services.ItemInput(
        title=body.title,
        description=body.description,
        category=body.category,
        condition=body.condition,
        notes=body.notes,
        available=body.available,
    )


# --- answers -------------------------------------------------------------------------


def _times_lent(items: list[Item]) -> dict[int, int]:
    """Per lender of the page (a page holds few lenders), counted once each."""
    return {lender_id: queries.times_lent(lender_id) for lender_id in {i.author_id for i in items}}


def _item_page(
    query: Select | Callable[[int], Select], viewer: Member, limit: int, with_loans: bool = False
):
    """One page of ``query`` (``pagination.fetch_page``); ``with_loans`` for the lender's
    own list."""
    if with_loans:
        query = query.options(selectinload(Item.loans))  # type: ignore[union-attr]
    page = fetch_page(db.session.scalars, query, limit, posts.cursor_after)
    return serializers.item_page(
        page.items, viewer, _times_lent(page.items), today(), page.next_cursor
    )


def _item_detail(item: Item, viewer: Member) -> dict:
    """The object; its lender also gets its loans (calendar and history)."""
    loans = None
    if item.author_id == viewer.id:
        loans = list(db.session.scalars(queries.item_loans(item)))
    return serializers.item_detail(item, viewer, queries.times_lent(item.author_id), loans, today())


# --- objects -------------------------------------------------------------------------


@bp.get("/items")
@operation(
    _l("Objets à emprunter près de chez moi"),
    query=ls.ItemsQuery,
    responses={200: ls.ItemPage},
    description=_l(
        "Les objets prêtés par mes voisins, dans mon rayon (pas les miens), les plus "
        "récents d'abord. Filtres : `category`, `q` (mots cherchés dans le titre et la "
        "description), `available=true` (seulement ceux disponibles)."
    ),
)
def list_items(query: ls.ItemsQuery):
    me = current_member()
    errors: dict[str, object] = {}
    if query.category and query.category not in categories.SLUGS:
        errors["category"] = _("Catégorie inconnue : utilisez un des identifiants de la liste.")
    after = TimeCursor.decode(query.cursor)  # not ours: 400
    parsing.refuse(errors)
    return _item_page(
        lambda limit: queries.near_me(
            me,
            category=query.category or None,
            q=query.q,
            available_only=bool(query.available),
            after=after,
            limit=limit,
        ),
        me,
        query.limit,
    )


@bp.get("/items/mine")
@operation(
    _l("Mes objets à prêter"),
    query=ForYouQuery,
    responses={200: ls.ItemPage},
    description=_l("Mes objets, les plus récents d'abord, chacun avec ses prêts (`loans`)."),
)
def my_items(query: ForYouQuery):
    me = current_member()
    errors: dict[str, object] = {}
    after = TimeCursor.decode(query.cursor)  # not ours: 400
    parsing.refuse(errors)
    return _item_page(queries.mine(me, after), me, query.limit, with_loans=True)


@bp.post("/items")
@operation(
    _l("Proposer un objet à prêter"),
    body=ls.ItemBody,
    responses={201: ls.ItemOut},
    errors={429: NEW_ACCOUNT_POSTS},
    idempotent=True,
    description=_l(
        "L'objet est montré à ma position publique (floutée), aux voisins dont il est "
        "dans le rayon. `condition` : `comme_neuf`, `bon` (par défaut) ou `use`. "
        "`notes` : caution, mode d'emploi... `available` : vrai par défaut."
    ),
)
def post_item(body: ls.ItemBody, idempotency_key: str | None):
    me = current_member()
    item = services.offer_item(me, replace(_item_input(body), submission_key=idempotency_key))
    commit()
    return created(_item_detail(item, me), url_for("api.show_item", item_id=item.id))


@bp.get(f"/items/{ITEM_ID}")
@operation(
    _l("Un objet"),
    responses={200: ls.ItemOut},
    description=_l(
        "404 s'il n'est pas dans mon voisinage (sauf si c'est le mien). Son prêteur voit "
        "aussi ses prêts (`loans`)."
    ),
)
def show_item(item_id: int):
    me = current_member()
    return _item_detail(queries.get_item_or_404(me, item_id), me)


@bp.patch(f"/items/{ITEM_ID}")
@operation(
    _l("Modifier mon objet"),
    body=ls.ItemPatch,
    responses={200: ls.ItemOut},
    errors={403: "Not the lender"},
    description=described(
        _l(
            "Les champs de la création, au choix ; `available: false` le retire des "
            "emprunts. Tout ou rien : si un champ est refusé, rien n'est modifié."
        ),
        Rule(_l("Seul le prêteur modifie son objet"), 403),
    ),
)
def edit_item(item_id: int, body: ls.ItemPatch):
    me = current_member()
    item = services.update_item(queries.get_item_or_404(me, item_id), me, _item_input(body))
    commit()
    return _item_detail(item, me)


@bp.delete(f"/items/{ITEM_ID}")
@operation(
    _l("Retirer mon objet"),
    responses={204: None},
    errors={403: "Not the lender", 409: "A loan of it is accepted or under way"},
    description=described(
        _l("Refusé tant qu'un prêt est accepté ou en cours ; les demandes partent avec."),
        Rule(_l("Seul le prêteur retire son objet"), 403),
        Rule(_l("Pas tant qu'un prêt en est accepté ou en cours"), 409),
    ),
)
def delete_item(item_id: int):
    me = current_member()
    services.delete_item(queries.get_item_or_404(me, item_id), me)
    commit()
    return "", 204


# --- loans ---------------------------------------------------------------------------


@bp.post(f"/items/{ITEM_ID}/loans")
@operation(
    _l("Demander à emprunter un objet"),
    body=ls.LoanRequestBody,
    responses={201: ls.LoanOut},
    errors={
        403: "Your own object",
        409: "Not available, or already promised for these dates",
    },
    description=described(
        _l(
            "`start` et `due` : le premier et le dernier jour (AAAA-MM-JJ), à partir "
            "d'aujourd'hui, 60 jours au plus. Plusieurs demandes peuvent se chevaucher ; "
            "le prêteur n'en accepte qu'une. La même demande envoyée deux fois (mêmes dates, "
            "pas encore de réponse) donne la même demande."
        ),
        Rule(
            _l(
                "`start` : aujourd'hui ou plus tard, dans l'année qui vient ; `due` : pas avant "
                "`start`, 60 jours au plus en tout"
            ),
            fields=("start", "due"),
        ),
        Rule(_l("Pas mon propre objet"), 403),
        Rule(_l("Un objet disponible, pas déjà promis pour ces dates"), 409),
    ),
)
def request_loan(item_id: int, body: ls.LoanRequestBody):
    me = current_member()
    item = queries.get_item_or_404(me, item_id)
    errors: dict[str, object] = {}
    start, due = parse_day(body.start, "start", errors), parse_day(body.due, "due", errors)
    parsing.refuse(errors)
    loan = services.request_loan(item, me, start, due, body.message or "")
    commit()
    return created(
        serializers.loan_detail(loan, today()), url_for("api.show_loan", loan_id=loan.id)
    )


@bp.get("/loans")
@operation(
    _l("Mes prêts et mes emprunts"),
    query=ls.LoansQuery,
    responses={200: ls.LoanPage},
    description=_l(
        "Les prêts où je suis prêteur ou emprunteur (`role=lender` ou `role=borrower` "
        "pour un seul côté), du plus lointain au plus proche premier jour. `overdue` : "
        "encore prêté après le jour du retour."
    ),
)
def list_loans(query: ls.LoansQuery):
    me = current_member()
    errors: dict[str, object] = {}
    if query.role and query.role not in ls.ROLES:
        errors["role"] = _("Choisissez « lender » (prêteur) ou « borrower » (emprunteur).")
    after = _loan_after(query.cursor)
    parsing.refuse(errors)
    stmt = queries.my_loans(me, query.role or None)
    if after is not None:
        start, ident = after
        stmt = stmt.where(or_(Loan.start < start, and_(Loan.start == start, Loan.id < ident)))
    page = fetch_page(
        db.session.scalars,
        stmt.options(selectinload(Loan.item)),
        query.limit,
        lambda x: pagination.encode(LOAN_CURSOR, [x.start.isoformat(), x.id]),
    )
    return serializers.loan_page(page.items, today(), page.next_cursor)


@bp.get(f"/loans/{LOAN_ID}")
@operation(
    _l("Un prêt"),
    responses={200: ls.LoanOut},
    description=_l("À son prêteur et à son emprunteur seulement (404 pour les autres)."),
)
def show_loan(loan_id: int):
    return serializers.loan_detail(queries.get_loan_or_404(current_member(), loan_id), today())


# Each step: (summary, who may take it and from which state, for the document).
STEP_DOCS = {
    "accept": (
        _l("Accepter une demande d'emprunt"),
        described(
            _l("Le prêteur, depuis « demandé ». 409 si les dates sont déjà promises."),
            LENDER_ONLY,
            Rule(_l("Depuis « demandé », sans chevaucher un prêt accepté"), 409),
        ),
        {403: "Not the lender", 409: "Not requested, or overlapping an accepted loan"},
    ),
    "decline": (
        _l("Refuser une demande d'emprunt"),
        described(
            _l("Le prêteur, depuis « demandé »."),
            LENDER_ONLY,
            Rule(_l("Depuis « demandé »"), 409),
        ),
        {403: "Not the lender", 409: "Not requested"},
    ),
    "handover": (
        _l("Remettre l'objet : le prêt commence"),
        described(
            _l("Le prêteur, depuis « accepté », à partir du premier jour du prêt."),
            LENDER_ONLY,
            Rule(_l("Depuis « accepté »"), 409),
            Rule(_l("À partir du premier jour du prêt (jour local du site)"), 409),
        ),
        {403: "Not the lender", 409: "Not accepted, or before the loan's first day"},
    ),
    "return": (
        _l("Confirmer le retour de l'objet"),
        described(
            _l("Le prêteur, depuis « prêté »."),
            LENDER_ONLY,
            Rule(_l("Depuis « prêté »"), 409),
        ),
        {403: "Not the lender", 409: "Not lent"},
    ),
    "cancel": (
        _l("Annuler un prêt avant la remise"),
        described(
            _l("Le prêteur ou l'emprunteur, depuis « demandé » ou « accepté »."),
            Rule(_l("Depuis « demandé » ou « accepté »"), 409),
        ),
        {409: "Already handed over, or ended"},
    ),
}


def _step_view(step: str):
    def take_step(loan_id: int):
        me = current_member()
        loan = services.STEPS[step](queries.get_loan_or_404(me, loan_id), me)
        commit(_l("Ces dates viennent d'être promises à quelqu'un d'autre pour cet objet."))
        return serializers.loan_detail(loan, today())

    take_step.__name__ = f"{step}_loan"
    summary, description, errors = STEP_DOCS[step]
    return operation(summary, responses={200: ls.LoanOut}, errors=errors, description=description)(
        take_step
    )


for _step in services.STEPS:
    bp.add_url_rule(
        f"/loans/{LOAN_ID}/{_step}",
        endpoint=f"{_step}_loan",
        view_func=_step_view(_step),
        methods=["POST"],
    )
