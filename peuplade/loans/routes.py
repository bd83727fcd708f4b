"""HTML pages for lending objects: the shelf near me, my objects with their calendar,
one object (details, its loans for the lender, the borrow form for others), the loan
lifecycle buttons and "Mes prêts". Every write goes through loans.services; objects
load through queries.get_item_or_404 and loans through queries.get_loan_or_404."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from peuplade import categories, database, search
from peuplade.errors import Conflict, Forbidden
from peuplade.extensions import db
from peuplade.forms import submit
from peuplade.loans import queries, services
from peuplade.loans.forms import BorrowForm, ConfirmForm, ItemForm, condition_label
from peuplade.localtime import today
from peuplade.models import Item, Loan, Member
from peuplade.pagination import DEFAULT_LIMIT, cursor_or_restart, fetch_page
from peuplade.photos.forms import PHOTO_RENAMES, PostPhotos
from peuplade.photos.uploads import accepts_photos
from peuplade.posts import queries as posts
from peuplade.posts.forms import save_sharing, sharing_data
from peuplade.posts.labels import Bands
from peuplade.validation import url_id

bp = Blueprint("loans", __name__)

PAGE_SIZE = DEFAULT_LIMIT
LOANS_SHOWN = 100  # per role on "Mes prêts"; overdue ones always come first
ITEM_ID = url_id("item_id")
LOAN_ID = url_id("loan_id")
STEP = "<any(accept, decline, handover, return, cancel):step>"

STEP_DONE = {
    "accept": _l("Prêt accepté. Convenez avec votre voisin du moment de la remise."),
    "decline": _l("La demande est refusée. Votre voisin en est prévenu."),
    "handover": _l("C'est noté : l'objet est prêté."),
    "return": _l("C'est noté : l'objet est rendu. Merci d'avoir prêté !"),
    "cancel": _l("Le prêt est annulé."),
}
REQUEST_CANCELLED = _l("Votre demande est annulée.")
OVERLAP = _l("Ces dates viennent d'être promises à quelqu'un d'autre pour cet objet.")


def _me() -> Member:
    return current_user._get_current_object()


@bp.app_context_processor
def loan_helpers():
    """For the loan pages and templates/loans/_profile.html on the public profile."""

    def loan_counts(member: Member) -> dict:
        return {
            "lent": queries.times_lent(member.id),
            "borrowed": queries.times_borrowed(member.id),
        }

    def loan_status(loan: Loan) -> str:
        viewer = _me() if current_user.is_authenticated else None
        return services.status_label(loan, viewer)

    return {
        "loan_counts": loan_counts,
        "condition_label": condition_label,
        "loan_status": loan_status,
        "may_hand_over": services.may_hand_over,
        "today": today,
    }


# --- the shelf near me, and my own objects ----------------------------------------------


@bp.route("/objects")
def index():
    me = _me()
    category = request.args.get("category", "")
    category = category if category in categories.SLUGS else ""
    q = (request.args.get("q") or "").strip()[: search.MAX_QUERY_LENGTH]
    available_only = request.args.get("available") == "1"
    after, cursor_error = cursor_or_restart(request.args.get("cursor"))
    # Plain rows of exactly what a card shows (queries.card_columns), not objects.
    page = fetch_page(
        db.session.execute,
        lambda limit: queries.near_me(
            me,
            category=category or None,
            q=q or None,
            available_only=available_only,
            free_today=available_only,
            after=after,
            limit=limit,
            rows=queries.card_columns,
        ),
        PAGE_SIZE,
        posts.cursor_after,
    )
    items = queries.as_cards(page.items)
    statuses = queries.item_statuses(items)
    bands = Bands(me)
    cards = [
        {"item": item, "band": bands.band(item), "status": statuses[item.id]} for item in items
    ]
    return render_template(
        "loans/index.html",
        cards=cards,
        next_cursor=page.next_cursor,
        continued=after is not None,
        cursor_error=cursor_error,
        category=category,
        q=q,
        available_only=available_only,
        filtered=bool(category or q or available_only),
        category_choices=categories.choices(),
        radius_m=me.radius_m,
    ), (400 if cursor_error else 200)


@bp.route("/objects/mine")
def mine():
    me = _me()
    after, cursor_error = cursor_or_restart(request.args.get("cursor"))
    page = fetch_page(db.session.scalars, queries.mine(me, after), PAGE_SIZE, posts.cursor_after)
    # One query for the coming loans of the whole page; the status comes from them.
    upcoming = queries.upcoming_loans([item.id for item in page.items])
    day = today()
    entries = [
        {
            "item": item,
            "loans": upcoming[item.id],
            "status": queries.status_from(item, upcoming[item.id], day),
        }
        for item in page.items
    ]
    return render_template(
        "loans/mine.html",
        entries=entries,
        next_cursor=page.next_cursor,
        continued=after is not None,
        cursor_error=cursor_error,
    ), (400 if cursor_error else 200)


# --- offering, editing, deleting an object ----------------------------------------------


@bp.route("/objects/new", methods=["GET", "POST"])
@accepts_photos
def new():
    me = _me()
    if request.method == "GET":
        form = ItemForm(data={"condition": "bon", "available": True})
        PostPhotos(form, "item", me)
        return render_template("loans/new.html", form=form, general=[])
    form = ItemForm()
    photos = PostPhotos(form, "item", me)
    general: list[str] = []
    if form.validate_on_submit():
        photos.read()
        outcome = submit(
            form,
            lambda: save_sharing(form, photos.save(services.offer_item(me, form.item_input()))),
            PHOTO_RENAMES,
        )
        if outcome.ok:
            flash(_("Votre objet est sur l'étagère : vos voisins peuvent le demander."), "success")
            return redirect(url_for("loans.show", item_id=outcome.result.id))
        general = outcome.general
        photos.keep()
    return render_template("loans/new.html", form=form, general=general), 422


def _own_item(item_id: int) -> Item:
    me = _me()
    item = queries.get_item_or_404(me, item_id)
    if item.author_id != me.id:
        raise Forbidden(_("Seule la personne qui prête cet objet peut faire cela."))
    return item


@bp.route(f"/objects/{ITEM_ID}/edit", methods=["GET", "POST"])
@accepts_photos
def edit(item_id: int):
    me = _me()
    item = _own_item(item_id)
    if request.method == "GET":
        form = ItemForm(
            data={
                "title": item.title,
                "description": item.description,
                "category": item.category,
                "condition": item.condition,
                "notes": item.notes,
                "available": item.available,
                **sharing_data(item),
            }
        )
        PostPhotos(form, "item", me, item)
        return render_template("loans/edit.html", form=form, item=item, general=[])
    form = ItemForm()
    photos = PostPhotos(form, "item", me, item)
    general: list[str] = []
    if form.validate_on_submit():
        photos.read()
        outcome = submit(
            form,
            lambda: save_sharing(
                form, photos.save(services.update_item(item, me, form.item_input()))
            ),
            PHOTO_RENAMES,
        )
        if outcome.ok:
            flash(_("Votre objet est modifié."), "success")
            return redirect(url_for("loans.show", item_id=item.id))
        general = outcome.general
        photos.keep()
    return render_template("loans/edit.html", form=form, item=item, general=general), 422


@bp.route(f"/objects/{ITEM_ID}/availability", methods=["POST"])
def availability(item_id: int):
    """One button on "Mes objets": lend it again, or set it aside for a while."""
    me = _me()
    item = _own_item(item_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        wanted = not item.available
        services.update_item(item, me, services.ItemInput(available=wanted))
        database.commit()
        if wanted:
            flash(_("« %(title)s » est de nouveau disponible.", title=item.title), "success")
        else:
            flash(_("« %(title)s » est mis de côté.", title=item.title), "success")
    return redirect(url_for("loans.mine"))


@bp.route(f"/objects/{ITEM_ID}/delete", methods=["GET", "POST"])
def delete(item_id: int):
    """GET asks for confirmation (no JavaScript needed); POST deletes."""
    me = _me()
    item = _own_item(item_id)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            outcome = submit(form, lambda: services.delete_item(item, me))
        except Conflict as exc:
            return _show(item, problem=exc.message, status=409)
        if outcome.ok:
            flash(_("Votre objet est retiré de l'étagère."), "success")
            return redirect(url_for("loans.mine"))
    return render_template("loans/delete.html", form=form, item=item)


# --- one object --------------------------------------------------------------------------


def _show(item: Item, *, status: int = 200, problem: object = None, borrow_form=None):
    """The object's page. After a refused action it is shown again, with the form as
    typed and ``problem`` (the reason) at the top."""
    me = _me()
    is_lender = item.author_id == me.id
    context: dict = {
        "item": item,
        "is_lender": is_lender,
        "band": None if is_lender else posts.distance_band(me, item),
        "problem": problem,
        "times_lent": queries.times_lent(item.author_id),
        "history_count": queries.item_history_count(item),
        "calendar": [],
        "my_loans": [],
        "promised": [],
        "borrow_form": None,
    }
    holding = db.session.scalars(queries.holding_loans([item.id])).all()
    day = today()
    context["status"] = queries.status_from(item, holding, day)
    if is_lender:
        context["calendar"] = db.session.scalars(queries.item_loans(item)).all()
    else:
        context["my_loans"] = db.session.scalars(queries.borrower_loans_of(item, me)).all()
        # Periods already promised, without names, so a borrower can pick free dates:
        # the current and coming ones only (a loan overdue is shown by the status).
        context["promised"] = [
            loan for loan in holding if loan.due >= day and loan.borrower_id != me.id
        ]
        if item.available:
            context["borrow_form"] = borrow_form or BorrowForm()
    return render_template("loans/show.html", **context), status


@bp.route(f"/objects/{ITEM_ID}")
def show(item_id: int):
    return _show(queries.get_item_or_404(_me(), item_id))


@bp.route(f"/objects/{ITEM_ID}/borrow", methods=["POST"])
def borrow(item_id: int):
    me = _me()
    item = queries.get_item_or_404(me, item_id)
    form = BorrowForm()
    if not form.validate_on_submit():
        return _show(item, status=422, borrow_form=form)
    try:
        outcome = submit(
            form, lambda: services.request_loan(item, me, *form.period(), form.message.data)
        )
    except Conflict as exc:
        return _show(item, status=409, problem=exc.message, borrow_form=form)
    if outcome.ok:
        flash(
            _(
                "Votre demande est envoyée. %(name)s la verra et vous répondra.",
                name=item.author.display_name,
            ),
            "success",
        )
        return redirect(url_for("loans.show", item_id=item.id))
    problem = " ".join(outcome.general) or None
    return _show(item, status=422, problem=problem, borrow_form=form)


# --- loan steps and "Mes prêts" ----------------------------------------------------------


def _back_to_item() -> bool:
    """Steps come from the object's page or from "Mes prêts": answer on the same page."""
    return request.form.get("back") == "item"


@bp.route(f"/loans/{LOAN_ID}/{STEP}", methods=["POST"])
def step(loan_id: int, step: str):
    me = _me()
    loan = queries.get_loan_or_404(me, loan_id)
    form = ConfirmForm()
    back_to_item = _back_to_item()
    if form.validate_on_submit():
        was = loan.status
        try:
            services.STEPS[step](loan, me)
            database.commit(OVERLAP)
        except Conflict as exc:
            db.session.rollback()
            if back_to_item:
                return _show(
                    queries.get_item_or_404(me, loan.item_id), problem=exc.message, status=409
                )
            return _my_loans_page(problem=exc.message, status=409)
        done = STEP_DONE[step]
        if step == "cancel" and was == "requested" and me.id == loan.borrower_id:
            done = REQUEST_CANCELLED
        flash(str(done), "success")
    if back_to_item:
        return redirect(url_for("loans.show", item_id=loan.item_id))
    return redirect(url_for("loans.my_loans"))


def _my_loans_page(*, problem: object = None, status: int = 200):
    me = _me()
    late = db.session.scalars(queries.overdue(me).order_by(Loan.due, Loan.id)).all()
    late_ids = {loan.id for loan in late}
    sections = {}
    for role in ("lender", "borrower"):
        rest = db.session.scalars(queries.my_loans(me, role).limit(LOANS_SHOWN)).all()
        mine_late = [loan for loan in late if getattr(loan, f"{role}_id") == me.id]
        sections[role] = mine_late + [loan for loan in rest if loan.id not in late_ids]
    return render_template(
        "loans/loans.html",
        lent=sections["lender"],
        borrowed=sections["borrower"],
        late_ids=late_ids,
        problem=problem,
    ), status


@bp.route("/loans")
def my_loans():
    return _my_loans_page()
