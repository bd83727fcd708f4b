"""HTML pages for private conversations: my inbox, writing to someone (optionally about
an exchange, an object, a loan or an event), one conversation. Every write goes through
messages.services; every conversation is loaded through queries.get_conversation_or_404."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from peuplade import database
from peuplade.errors import Forbidden, NotFound, ValidationFailed
from peuplade.extensions import db
from peuplade.forms import submit
from peuplade.loans.queries import get_loan_or_404
from peuplade.localtime import local_zone
from peuplade.messages import queries, services
from peuplade.messages.forms import MessageForm
from peuplade.models import Conversation, Member
from peuplade.models.conversation import SUBJECT_TYPES
from peuplade.validation import parse_id, url_id

bp = Blueprint("messages", __name__)

CONVERSATION_ID = url_id("conversation_id")


def _me() -> Member:
    return current_user._get_current_object()


@bp.app_template_filter("message_time")
def message_time(value: datetime | None) -> str:
    """Day and hour in the page's language, in local time ("12 mars 2025, 14:03")."""
    if value is None:
        return ""
    local = value.astimezone(local_zone())
    return _(
        "%(day)s, %(time)s", day=format_date(local.date(), "long"), time=local.strftime("%H:%M")
    )


def bell_counts() -> tuple[int, int]:
    """The navigation's counts, (unread messages, unread notification groups): one
    statement (queries.bell_counts), asked at most once per request."""
    if not current_user.is_authenticated:
        return 0, 0
    counts = g.get("peuplade_bell_counts")
    if counts is None:
        counts = g.peuplade_bell_counts = queries.bell_counts(_me())
    return counts


@bp.app_context_processor
def message_helpers():
    """The nav's counts (the messages' and the bell's, here since messages reads both)
    and the "Écrire à …" links on other pages."""

    def unread_messages() -> int:
        return bell_counts()[0]

    def unread_notifications() -> int:
        return bell_counts()[1]

    def may_write_to(member: Member) -> bool:
        return current_user.is_authenticated and services.may_write(_me(), member)

    return {
        "unread_messages": unread_messages,
        "unread_notifications": unread_notifications,
        "may_write_to": may_write_to,
    }


# --- the way back to what a conversation is about ---------------------------------------

# The page a conversation's subject lives on, and how its back link reads. Only these
# known endpoints, built with url_for from the stored subject: no address from the
# request is ever followed (no open redirect).
BACK_TO = {
    "exchange": ("exchanges.show", "exchange_id", _l("Retour à l'annonce « %(title)s »")),
    "item": ("loans.show", "item_id", _l("Retour à l'objet « %(title)s »")),
    "event": ("events.show", "event_id", _l("Retour à la sortie « %(title)s »")),
}


def back_to_subject(me: Member, subject_type: str | None, subject_id: int | None) -> dict | None:
    """``{url, text}`` of the page the conversation is about, if ``me`` may still see it
    (an object out of reach or deleted has no link: the inbox link stays)."""
    if subject_type is None or subject_id is None:
        return None
    try:
        if subject_type == "loan":
            loan = get_loan_or_404(me, subject_id)
            endpoint, arg, text = BACK_TO["item"]
            return {
                "url": url_for(endpoint, **{arg: loan.item_id}),
                "text": str(text) % {"title": loan.item.title},
            }
        if subject_type not in BACK_TO:
            return None
        title = services.subject_title(services.Subject(subject_type, subject_id), me)
    except (NotFound, ValidationFailed):
        return None
    endpoint, arg, text = BACK_TO[subject_type]
    return {"url": url_for(endpoint, **{arg: subject_id}), "text": str(text) % {"title": title}}


# --- inbox -----------------------------------------------------------------------------


@bp.route("/messages")
def inbox():
    me = _me()
    rows = db.session.execute(queries.inbox(me)).all()
    return render_template(
        "messages/inbox.html",
        rows=[{"conversation": c, "other": c.other(me), "unread": unread} for c, unread in rows],
    )


# --- starting a conversation -----------------------------------------------------------


def _recipient() -> Member:
    """The ?to= member, 404 when unknown (or malformed)."""
    ident = parse_id(request.args.get("to", ""))
    member = db.session.get(Member, ident) if ident is not None else None
    if member is None:
        raise NotFound(_("Ce membre n'existe pas."))
    return member


def _subject() -> services.Subject | None:
    """The ?about=exchange:12 subject; a malformed one is refused on the form."""
    raw = request.args.get("about", "")
    if not raw:
        return None
    kind, _sep, number = raw.partition(":")
    ident = parse_id(number)
    if kind not in SUBJECT_TYPES or ident is None:
        msg = _("Sujet inconnu.")
        raise ValidationFailed(msg, {"about": msg})
    return services.Subject(kind, ident)


def _about_title(me: Member, subject: services.Subject | None) -> str | None:
    """What the new conversation will be about, checked as start() will check it."""
    if subject is None:
        return None
    # The same check start() makes; no write happens here.
    return services.subject_title(subject, me)


@bp.route("/messages/new", methods=["GET", "POST"])
def new():
    me = _me()
    recipient = _recipient()
    if not services.may_write(me, recipient):
        raise Forbidden(
            _(
                "Vous ne pouvez écrire qu'à vos voisins, ou à quelqu'un avec qui "
                "vous avez un échange ou un prêt."
            )
        )
    form = MessageForm()
    general: list[str] = []
    title = None
    subject = None
    try:
        subject = _subject()
        title = _about_title(me, subject)
    except ValidationFailed as exc:
        general = [str(m) for m in exc.fields.values()]
    if request.method == "POST" and not general and form.validate_on_submit():
        outcome = submit(
            form,
            lambda: services.start(
                me, recipient, form.message.data, subject, form.submission_key.data
            ),
        )
        if outcome.ok:
            flash(_("Votre message est envoyé."), "success")
            return redirect(url_for("messages.show", conversation_id=outcome.result.id))
        general = outcome.general
    status = 422 if request.method == "POST" else (400 if general else 200)
    return (
        render_template(
            "messages/new.html",
            form=form,
            general=general,
            recipient=recipient,
            subject_title=title,
            about=request.args.get("about", "") if subject else "",
            back=back_to_subject(me, subject.type, subject.id) if title else None,
        ),
        status,
    )


# --- one conversation ------------------------------------------------------------------


def _show(conversation: Conversation, form: MessageForm | None = None, status: int = 200):
    me = _me()
    return (
        render_template(
            "messages/show.html",
            conversation=conversation,
            other=conversation.other(me),
            messages=db.session.scalars(queries.messages(conversation)).all(),
            form=form or MessageForm(formdata=None),
            back=back_to_subject(me, conversation.subject_type, conversation.subject_id),
        ),
        status,
    )


@bp.route(f"/messages/{CONVERSATION_ID}")
def show(conversation_id: int):
    me = _me()
    conversation = queries.get_conversation_or_404(me, conversation_id)
    # Opening the conversation reads it: only my own read marker changes.
    services.mark_read(conversation, me)
    database.commit()
    return _show(conversation)


@bp.route(f"/messages/{CONVERSATION_ID}", methods=["POST"])
def write(conversation_id: int):
    me = _me()
    conversation = queries.get_conversation_or_404(me, conversation_id)
    form = MessageForm()
    if form.validate_on_submit():
        outcome = submit(
            form,
            lambda: services.write(conversation, me, form.message.data, form.submission_key.data),
        )
        if outcome.ok:
            return redirect(
                url_for("messages.show", conversation_id=conversation.id, _anchor="dernier")
            )
    return _show(conversation, form=form, status=422)
