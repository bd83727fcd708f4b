"""HTML pages: my notifications (the bell), my email settings, and the two pages
reached from emails without logging in (unsubscribe, "still needed?")."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from peuplade import database
from peuplade.access import public
from peuplade.extensions import csrf, db
from peuplade.localtime import local_zone
from peuplade.models import Member, Notification, Post, utcnow
from peuplade.notifications import links, queries, services, times
from peuplade.notifications.forms import (
    CUSTOM,
    PRESET_HINTS,
    PRESETS,
    ButtonForm,
    EmailSettingsForm,
    preset_of,
)
from peuplade.notifications.kinds import GROUPS, KINDS
from peuplade.notifications.scheduled import NUDGE_BEFORE
from peuplade.pagination import TimeCursor
from peuplade.validation import url_id

bp = Blueprint("notifications", __name__)

PAGE_SIZE = 30


def _me() -> Member:
    return current_user._get_current_object()


def _link(notification) -> str:
    endpoint, values = queries.target(notification)
    return url_for(endpoint, **values)


@bp.app_context_processor
def bell():
    """Helpers of the reminders on other pages. The count next to the bell is read with
    the messages' count, in one statement: messages.routes.bell_counts."""

    def keep_open_due(post: Post) -> bool:
        return services.may_be_kept_open(post) and post.expires_at <= utcnow() + NUDGE_BEFORE

    return {
        "keep_open_due": keep_open_due,
        "may_keep_open": services.may_be_kept_open,
    }


@bp.route("/notifications")
def index():
    """My notifications, grouped. Opening the page reads nothing: a group is read when
    its link is followed, or with "Tout marquer comme lu"."""
    me = _me()
    after = TimeCursor.decode(request.args.get("apres"))
    page = queries.groups(me, after, PAGE_SIZE)
    now = utcnow()
    return render_template(
        "notifications/index.html",
        page=page,
        first_page=after is None,
        any_unread=queries.unread_groups(me) > 0,
        sentence=queries.group_sentence,
        ago=lambda value: times.relative(value, now),
        exact=times.exact,
    )


@bp.route(f"/notifications/{url_id('notification_id')}/open")
def open_notification(notification_id: int):
    """Follow a notification: its group is read, then its page. Only my own, and only
    to the page the notification itself leads to (never an address from the request),
    so this link cannot be used to send anyone elsewhere."""
    me = _me()
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.member_id != me.id:
        abort(404)
    services.mark_group_read(me, notification)
    database.commit()
    return redirect(_link(notification))


@bp.route("/notifications/read", methods=["POST"])
def read_all():
    """ "Tout marquer comme lu" (a form; CSRFProtect checks its token)."""
    services.mark_read(_me())
    database.commit()
    flash(_("Toutes vos notifications sont marquées comme lues."), "success")
    return redirect(url_for("notifications.index"))


@bp.app_template_filter("message_day")
def message_day(value: datetime | None) -> str:
    """The local day an instant falls on ("12 mars 2026"); for an expiry, the last day
    it is still on (an expiry at midnight belongs to the day before)."""
    if value is None:
        return ""
    return format_date((value - timedelta(seconds=1)).astimezone(local_zone()).date(), "long")


@bp.route(f"/posts/{url_id('post_id')}/keep-open", methods=["POST"])
def keep_mine_open(post_id: int):
    """The author keeps their own exchange or object listed, from its page."""
    me = _me()
    post = db.session.get(Post, post_id)
    if post is None or post.author_id != me.id or post.type not in ("exchange", "item"):
        abort(404)
    services.keep_open(post)
    database.commit()
    flash(
        _(
            "C'est noté : elle reste sur les listes jusqu'au %(day)s.",
            day=message_day(post.expires_at),
        ),
        "success",
    )
    endpoint, values = (
        ("exchanges.show", {"exchange_id": post.id})
        if post.type == "exchange"
        else ("loans.show", {"item_id": post.id})
    )
    return redirect(url_for(endpoint, **values))


@bp.route("/account/notifications", methods=["GET", "POST"])
def settings():
    """Presets on top (the recommended one, "Tout de suite", "Un résumé par jour",
    "Rien"), the kind-by-kind choices folded below; other mixes show "Personnalisé"."""
    me = _me()
    current = services.settings_of(me)
    state = preset_of(current)
    form = (
        EmailSettingsForm(data={**current, "preset": state})
        if request.method == "GET"
        else EmailSettingsForm()
    )
    if form.validate_on_submit():
        services.choose_emails(me, form.chosen(request.form.get("shown", state)))
        database.commit()
        flash(_("Vos choix d'emails sont enregistrés."), "success")
        return redirect(url_for("notifications.settings"))
    groups = [
        (label, [getattr(form, k.name) for k in KINDS.values() if k.group == group])
        for group, label in GROUPS.items()
    ]
    return render_template(
        "notifications/settings.html",
        form=form,
        groups=groups,
        email=me.email,
        state=state,
        presets=PRESETS if state != CUSTOM[0] else (*PRESETS, CUSTOM),
        hints=PRESET_HINTS,
    ), (422 if form.errors else 200)


# --- reached from emails, without logging in -------------------------------------------


def _unsubscribe_target(token: str) -> tuple[Member, str]:
    found = links.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    member = db.session.get(Member, found[0])
    if member is None or (found[1] != "digest" and found[1] not in KINDS):
        abort(404)
    return member, found[1]


@bp.route("/unsubscribe/<token>")
@public
def unsubscribe(token: str):
    _member, kind = _unsubscribe_target(token)
    return render_template(
        "notifications/unsubscribe.html",
        kind=kind,
        label=None if kind == "digest" else KINDS[kind].setting,
        form=ButtonForm(),
        done=False,
    )


@bp.route("/unsubscribe/<token>", methods=["POST"])
@public
@csrf.exempt  # the signed token is the credential; mail programs POST here (RFC 8058)
def unsubscribe_confirm(token: str):
    member, kind = _unsubscribe_target(token)
    services.unsubscribe(member, kind)
    database.commit()
    return render_template(
        "notifications/unsubscribe.html",
        kind=kind,
        label=None if kind == "digest" else KINDS[kind].setting,
        form=None,
        done=True,
    )


def _keep_open_target(token: str) -> tuple[Post, int]:
    found = links.read_keep_open_token(token)
    if found is None:
        abort(404)
    post = db.session.get(Post, found[0])
    if post is None or post.type not in ("exchange", "item"):
        abort(404)
    return post, found[1]


@bp.route("/keep-open/<token>")
@public
def keep_open(token: str):
    post, stamp = _keep_open_target(token)
    return render_template(
        "notifications/keep_open.html",
        post=post,
        form=ButtonForm(),
        state=_keep_open_state(post, stamp),
        days=services.lifetime_for(post).days,
    )


def _keep_open_state(post: Post, stamp: int) -> str:
    if not services.may_be_kept_open(post):
        return "closed"
    if services.expiry_stamp(post) != stamp:
        return "already"
    return "ask"


@bp.route("/keep-open/<token>", methods=["POST"])
@public
@csrf.exempt  # the signed token is the credential (no session needed)
def keep_open_confirm(token: str):
    post, stamp = _keep_open_target(token)
    state = _keep_open_state(post, stamp)
    if state == "ask":
        services.keep_open(post, stamp)
        database.commit()
        state = "done"
    return render_template(
        "notifications/keep_open.html",
        post=post,
        form=None,
        state=state,
        days=services.lifetime_for(post).days,
    ), (200 if state == "done" else 409)
