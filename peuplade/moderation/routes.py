"""HTML pages for trust and safety: reporting anything ("Signaler"), blocking a member
and the list of people I blocked, and, for moderators, the queue, one report with the
actions on it, and the audit log. Every write goes through moderation.services; the
request commits once (``forms.submit``)."""

from __future__ import annotations

import base64
from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from peuplade import database
from peuplade.auth.routes import safe_next
from peuplade.errors import NotFound, ValidationFailed
from peuplade.extensions import db
from peuplade.forms import submit
from peuplade.models import REPORT_TARGETS, Member, Photo
from peuplade.moderation import limits, queries, services
from peuplade.moderation.forms import (
    ACTION_LABELS,
    REASON_SHORT,
    TARGET_LABELS,
    BlockForm,
    ReasonForm,
    ReportForm,
    SuspendForm,
    reported_by,
)
from peuplade.pagination import DEFAULT_LIMIT, cursor_or_restart, fetch_page
from peuplade.photos import services as photos
from peuplade.photos import storage as photo_storage
from peuplade.validation import parse_id, url_id

bp = Blueprint("moderation", __name__)

PAGE_SIZE = DEFAULT_LIMIT
MEMBER_ID = url_id("member_id")
REPORT_ID = url_id("report_id")
PHOTO_ID = url_id("photo_id")
ACTIONS = ("hide", "restore", "dismiss", "warn", "suspend", "ban", "unban")


def _me() -> Member:
    return current_user._get_current_object()


def _is_moderator() -> bool:
    """Once per request: the nav asks on every page."""
    if not current_user.is_authenticated:
        return False
    if "peuplade_is_moderator" not in g:
        g.peuplade_is_moderator = queries.is_moderator(_me())
    return g.peuplade_is_moderator


@bp.app_context_processor
def moderation_helpers():
    """``report_url(type, id)`` for the "Signaler" links, ``is_moderator()`` for the nav,
    ``has_blocked(member)`` for the profile's block button, and the labels (a report
    Peuplade itself raised, with no reporter, says so: ``report_by_peuplade``)."""

    def report_url(target_type: str, target_id: int) -> str:
        return url_for("moderation.report", type=target_type, id=target_id)

    def has_blocked(member: Member) -> bool:
        return current_user.is_authenticated and limits.is_blocked(_me().id, member.id)

    return {
        "report_url": report_url,
        "is_moderator": _is_moderator,
        "has_blocked": has_blocked,
        "report_reason_label": lambda r: REASON_SHORT.get(r, r),
        "report_by_peuplade": services.by_peuplade,
        "report_reported_by": reported_by,
        "report_target_label": lambda t: TARGET_LABELS.get(t, t),
        "moderation_action_label": lambda a: ACTION_LABELS.get(a, a),
    }


def moderators_only(view):
    """Everyone else gets the plain 404 of a page that does not exist."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _is_moderator():
            abort(404)
        return view(*args, **kwargs)

    return wrapper


def page_url(target: queries.Target) -> str:
    """Where the reported thing is shown, to go back there."""
    obj = target.obj
    if target.type == "comment":
        return url_for("news.show", news_id=obj.news_id, _anchor="commentaires")
    if target.type == "message":
        return url_for("messages.show", conversation_id=obj.conversation_id)
    endpoints = {
        "exchange": ("exchanges.show", "exchange_id"),
        "item": ("loans.show", "item_id"),
        "news": ("news.show", "news_id"),
        "event": ("events.show", "event_id"),
        "member": ("account.profile", "member_id"),
    }
    endpoint, arg = endpoints[target.type]
    return url_for(endpoint, **{arg: target.id})


# --- reporting -------------------------------------------------------------------------


def _reported() -> queries.Target:
    """The ?type=&id= thing, if I may see it; anything else is a 404 page."""
    target_type = request.args.get("type", "")
    raw_id = request.args.get("id", "")
    if target_type not in REPORT_TARGETS or not (raw_id.isascii() and raw_id.isdigit()):
        abort(404)
    try:
        return queries.find_target(_me(), target_type, raw_id)
    except ValidationFailed:
        abort(404)


def _about_photo(form: ReportForm, target: queries.Target) -> None:
    """``?photo=<id>``: reporting a photo reports its post (or its member, for a face);
    the details start by naming the photo, for the moderators."""
    photo_id = parse_id(request.args.get("photo", ""))
    photo = db.session.get(Photo, photo_id) if photo_id else None
    if photo is None or photo.staged_key is not None:
        return
    if target.type in queries.POST_TYPES:
        if photo.post_id != target.id:
            return
    elif target.type != "member" or not photo.is_avatar or photo.member_id != target.id:
        return
    form.details.data = _("Photo n° %(id)s : ", id=photo.id)


@bp.route("/report", methods=["GET", "POST"])
def report():
    me = _me()
    target = _reported()
    own = target.author_id == me.id
    form = ReportForm()
    general: list[str] = []
    status = 200
    if request.method == "GET":
        _about_photo(form, target)
    if request.method == "POST" and not own:
        status = 422
        if form.validate_on_submit():
            outcome = submit(
                form,
                lambda: services.report(
                    me, target.type, target.id, form.reason.data, form.details.data or ""
                ),
                refusals_on_form=True,
                conflict=_("Vous avez déjà signalé ceci : la modération s'en occupe."),
            )
            if outcome.ok:
                flash(_("Merci, la modération va regarder."), "success")
                return redirect(page_url(target))
            general, status = outcome.general, outcome.status
    return (
        render_template(
            "moderation/report_form.html",
            form=form,
            target=target,
            own=own,
            back=page_url(target),
            general=general,
        ),
        403 if own and request.method == "POST" else status,
    )


# --- blocking --------------------------------------------------------------------------


def _back(form: BlockForm, default: str) -> str:
    return safe_next(form.next.data or "") or default


@bp.route(f"/account/blocks/{MEMBER_ID}", methods=["POST"])
def block(member_id: int):
    me = _me()
    form = BlockForm()
    back = _back(form, url_for("account.profile", member_id=member_id))
    if not form.validate_on_submit():
        abort(400)
    try:
        services.block(me, member_id)  # NotFound (out of reach) goes on to the 404 page
    except ValidationFailed as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(back)
    database.commit()
    blocked = db.session.get(Member, member_id)
    flash(
        _(
            "Vous avez bloqué %(name)s. Cette personne n'en est pas prévenue.",
            name=blocked.display_name,
        ),
        "success",
    )
    return redirect(back)


@bp.route(f"/account/blocks/{MEMBER_ID}/delete", methods=["POST"])
def unblock(member_id: int):
    me = _me()
    form = BlockForm()
    back = _back(form, url_for("moderation.blocks"))
    if not form.validate_on_submit():
        abort(400)
    member = db.session.get(Member, member_id)
    was_blocked = limits.is_blocked(me.id, member_id)
    services.unblock(me, member_id)
    database.commit()
    if was_blocked and member is not None:
        flash(_("Vous avez débloqué %(name)s.", name=member.display_name), "success")
    return redirect(back)


@bp.route("/account/blocks")
def blocks():
    me = _me()
    after, cursor_error = cursor_or_restart(request.args.get("cursor"))
    page = fetch_page(
        db.session.execute, queries.my_blocks(me, after), PAGE_SIZE, queries.block_cursor
    )
    return (
        render_template(
            "account/blocks.html",
            rows=[{"block": b, "member": m} for b, m in page.items],
            next_cursor=page.next_cursor,
            continued=after is not None,
            cursor_error=cursor_error,
            form=BlockForm(formdata=None),
        ),
        400 if cursor_error else 200,
    )


# --- moderators: the queue -------------------------------------------------------------


@bp.route("/moderation")
@moderators_only
def queue():
    me = _me()
    after, cursor_error = cursor_or_restart(request.args.get("cursor"))
    page = fetch_page(
        db.session.scalars, queries.queue(me, after), PAGE_SIZE, queries.report_cursor
    )
    return (
        render_template(
            "moderation/queue.html",
            reports=page.items,
            titles=queries.target_titles(page.items),
            next_cursor=page.next_cursor,
            continued=after is not None,
            cursor_error=cursor_error,
            is_admin=me.is_admin,
        ),
        400 if cursor_error else 200,
    )


# --- moderators: one report and its actions --------------------------------------------


def _forms(view: queries.ReportView, me: Member) -> dict:
    """The action forms that make sense for this report, each with its own prefix (so
    several sit on one page), keyed by action."""
    forms: dict = {}
    target = view.target
    if target is not None and target.type != "member":
        action = "restore" if target.obj.hidden_at is not None else "hide"
        forms[action] = ReasonForm(formdata=None, prefix=action)
    if view.report.status == "open":
        forms["dismiss"] = ReasonForm(formdata=None, prefix="dismiss")
    author = view.author
    if author is not None and author.id != me.id and not author.is_admin:
        forms["warn"] = ReasonForm(formdata=None, prefix="warn")
        if author.status != "banned":
            forms["suspend"] = SuspendForm(formdata=None, prefix="suspend")
            forms["ban"] = ReasonForm(formdata=None, prefix="ban")
        if author.status != "active":
            forms["unban"] = ReasonForm(formdata=None, prefix="unban")
    return forms


def _photos_of(target: queries.Target | None) -> list[Photo]:
    """The photos a moderator may take down from this report: the post's, or the
    member's face."""
    if target is None:
        return []
    if target.type in queries.POST_TYPES:
        return list(target.obj.photos)
    if target.type == "member":
        face = photos.avatar_of(target.obj)
        return [face] if face is not None else []
    return []


def _inline(photo: Photo) -> str | None:
    """The thumbnail as a data: URL. Moderators read what is reported even when it is
    hidden or out of their own reach, which the photo's own URL would refuse them."""
    data = photo_storage.read(photo, "thumb")
    if data is None:
        return None
    return f"data:{photo.content_type};base64," + base64.b64encode(data).decode("ascii")


def _photo_prefix(photo_id: int) -> str:
    return f"photo{photo_id}"


def _report_page(view: queries.ReportView, me: Member, failed=None, status: int = 200):
    forms = _forms(view, me)
    general: dict[str, list[str]] = {}
    target = view.target
    shown = _photos_of(target)
    photo_forms = {p.id: ReasonForm(formdata=None, prefix=_photo_prefix(p.id)) for p in shown}
    if failed is not None:
        action, form, messages = failed
        if action.startswith("photo"):
            ident = int(action.removeprefix("photo"))
            if ident in photo_forms:
                photo_forms[ident] = form
        else:
            forms[action] = form
        general[action] = messages
    return (
        render_template(
            "moderation/report.html",
            view=view,
            report=view.report,
            target=target,
            author=view.author,
            forms=forms,
            general=general,
            photos=[(p, _inline(p), photo_forms[p.id]) for p in shown],
            page=page_url(target) if target is not None else None,
        ),
        status,
    )


@bp.route(f"/moderation/reports/{REPORT_ID}")
@moderators_only
def show_report(report_id: int):
    me = _me()
    return _report_page(queries.get_report_or_404(me, report_id), me)


def _act(me: Member, view: queries.ReportView, action: str, form) -> object:
    report = view.report
    reason = form.reason.data
    if action in ("hide", "restore"):
        target = queries.target_of(me, report.target_type, report.target_id)
        return getattr(services, action)(me, target, reason, report=report)
    if action == "dismiss":
        return services.dismiss(me, report, reason)
    if view.author is None:
        raise NotFound(_("Ce membre n'existe plus."))
    if action == "suspend":
        return services.suspend(me, view.author, form.days.data, reason, report=report)
    if action == "unban":
        return services.unban(me, view.author, reason)
    return getattr(services, action)(me, view.author, reason, report=report)


DONE = {
    "hide": lambda: _("Le contenu est masqué. Son auteur voit qu'il a été masqué."),
    "restore": lambda: _("Le contenu est de nouveau visible."),
    "dismiss": lambda: _("Le signalement est classé sans suite."),
    "warn": lambda: _("L'avertissement est envoyé : le membre le lit dans ses notifications."),
    "suspend": lambda: _("Le compte est suspendu et déconnecté partout."),
    "ban": lambda: _("Le compte est fermé : ses publications sont masquées."),
    "unban": lambda: _("Le compte est rétabli."),
}


@bp.route(f"/moderation/reports/{REPORT_ID}/<any({', '.join(ACTIONS)}):action>", methods=["POST"])
@moderators_only
def act(report_id: int, action: str):
    me = _me()
    view = queries.get_report_or_404(me, report_id)
    form = (SuspendForm if action == "suspend" else ReasonForm)(prefix=action)
    status = 422
    if form.validate_on_submit():
        outcome = submit(form, lambda: _act(me, view, action, form), refusals_on_form=True)
        if outcome.ok:
            flash(DONE[action](), "success")
            if action == "dismiss":
                return redirect(url_for("moderation.queue"))
            return redirect(url_for("moderation.show_report", report_id=report_id))
        general, status = outcome.general, outcome.status
    else:
        general = [_("Le formulaire a expiré : rechargez la page et recommencez.")]
    # The page again, reloaded after the rollback, with this form's errors.
    return _report_page(
        queries.get_report_or_404(me, report_id), me, (action, form, general), status=status
    )


@bp.route(f"/moderation/reports/{REPORT_ID}/photos/{PHOTO_ID}/remove", methods=["POST"])
@moderators_only
def remove_photo(report_id: int, photo_id: int):
    """Take down one photo of what is reported (its post's, or the member's face)."""
    me = _me()
    view = queries.get_report_or_404(me, report_id)
    photo = next((p for p in _photos_of(view.target) if p.id == photo_id), None)
    if photo is None:
        abort(404)
    prefix = _photo_prefix(photo_id)
    form = ReasonForm(prefix=prefix)
    status = 422
    if form.validate_on_submit():
        outcome = submit(
            form,
            lambda: services.remove_photo(me, photo, form.reason.data, report=view.report),
            refusals_on_form=True,
        )
        if outcome.ok:
            flash(_("La photo est retirée. Le reste du contenu ne change pas."), "success")
            return redirect(url_for("moderation.show_report", report_id=report_id))
        general, status = outcome.general, outcome.status
    else:
        general = [_("Le formulaire a expiré : rechargez la page et recommencez.")]
    return _report_page(
        queries.get_report_or_404(me, report_id), me, (prefix, form, general), status=status
    )


# --- moderators: the audit log ---------------------------------------------------------


@bp.route("/moderation/log")
@moderators_only
def log():
    me = _me()
    after, cursor_error = cursor_or_restart(request.args.get("cursor"))
    page = fetch_page(
        db.session.scalars, queries.audit_log(me, after), PAGE_SIZE, queries.action_cursor
    )
    return (
        render_template(
            "moderation/log.html",
            actions=page.items,
            next_cursor=page.next_cursor,
            continued=after is not None,
            cursor_error=cursor_error,
        ),
        400 if cursor_error else 200,
    )
