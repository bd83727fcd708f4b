"""Writes on notifications: tell a member something, mark read, choose emails, keep a
post open.

A notification is written in the same transaction as what it tells (a response, a
loan step...): both happen or neither. Its email is sent after the commit
(:mod:`peuplade.notifications.mail`); the row is the outbox, so a failing mail server
loses nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

from peuplade import geo
from peuplade.errors import Conflict, ValidationFailed
from peuplade.extensions import db
from peuplade.models import (
    Conversation,
    Exchange,
    Item,
    Member,
    Notification,
    NotificationSetting,
    Post,
    utcnow,
)
from peuplade.notifications.kinds import KINDS
from peuplade.posts import audience
from peuplade.posts.services import DEFAULT_LIFETIME

# Ids of notifications whose email waits for the commit (see mail.init_app).
PENDING_KEY = "peuplade.notifications.to_mail"
# Ids of requests whose matching neighbours are told once the response is out.
MATCH_KEY = "peuplade.notifications.to_match"
# A request not matched within this time (every worker and cron run gone meanwhile)
# is left alone: telling neighbours days later would be noise.
MATCH_WITHIN = timedelta(days=3)
TITLE_MAX = 160
# Lifetimes given back by "still needed?": as long as a new post gets.
ITEM_LIFETIME = timedelta(days=90)


def email_modes(member_ids: Iterable[int], kind: str) -> dict[int, str]:
    """Each member's email mode for ``kind`` (their choice, else the kind's default)."""
    ids = list(member_ids)
    chosen = dict(
        db.session.execute(
            select(NotificationSetting.member_id, NotificationSetting.email).where(
                NotificationSetting.kind == kind, NotificationSetting.member_id.in_(ids)
            )
        ).all()
    )
    default = KINDS[kind].default
    return {member_id: chosen.get(member_id, default) for member_id in ids}


def settings_of(member: Member) -> dict[str, str]:
    """Every kind's email mode for ``member``."""
    chosen = dict(
        db.session.execute(
            select(NotificationSetting.kind, NotificationSetting.email).where(
                NotificationSetting.member_id == member.id
            )
        ).all()
    )
    return {name: chosen.get(name, kind.default) for name, kind in KINDS.items()}


_STATE_FOR_MODE = {"on": "pending", "digest": "digest", "off": "none"}


def _queue_email(notification: Notification) -> None:
    _queue_emails([(notification.id, notification.email_state)])


def _queue_emails(made: Iterable[tuple[int, str]]) -> None:
    """The notifications ``(id, email_state)`` whose email goes out after the commit."""
    pending = [notification_id for notification_id, state in made if state == "pending"]
    if pending:
        db.session.info.setdefault(PENDING_KEY, []).extend(pending)


def _add(
    member_id: int,
    kind: str,
    mode: str,
    actor: Member | None,
    subject: tuple[str, int] | None,
    title: str,
    detail: str | None,
    dedupe_key: str | None,
) -> Notification:
    notification = Notification(
        member_id=member_id,
        kind=kind,
        actor_id=actor.id if actor is not None else None,
        subject_type=subject[0] if subject else None,
        subject_id=subject[1] if subject else None,
        subject_title=(title or "")[:TITLE_MAX],
        detail=detail,
        dedupe_key=dedupe_key,
        created_at=utcnow(),
        email_state=_STATE_FOR_MODE[mode],
    )
    db.session.add(notification)
    return notification


def notify(
    recipient_id: int,
    kind: str,
    *,
    actor: Member | None = None,
    subject: tuple[str, int] | None = None,
    title: str = "",
    detail: str | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Tell ``recipient_id`` about something ``actor`` did (never themselves)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if actor is not None and actor.id == recipient_id:
        return None
    if actor is not None and audience.blocked_between(actor.id, recipient_id):
        return None  # a block silences both ways
    mode = email_modes([recipient_id], kind)[recipient_id]
    notification = _add(recipient_id, kind, mode, actor, subject, title, detail, dedupe_key)
    db.session.flush()
    _queue_email(notification)
    return notification


def notify_message(conversation: Conversation, author: Member) -> Notification | None:
    """A new message. While the reader has not read the conversation, its one unread
    notification moves up (one email per conversation, not one per message)."""
    recipient_id = (
        conversation.member_b_id
        if author.id == conversation.member_a_id
        else conversation.member_a_id
    )
    waiting = db.session.scalar(
        select(Notification).where(
            Notification.member_id == recipient_id,
            Notification.kind == "message",
            Notification.subject_type == "conversation",
            Notification.subject_id == conversation.id,
            Notification.read_at.is_(None),
        )
    )
    if waiting is not None:
        waiting.created_at = utcnow()
        db.session.flush()
        return waiting
    return notify(
        recipient_id,
        "message",
        actor=author,
        subject=("conversation", conversation.id),
        title=conversation.subject_title or "",
    )


def notify_matching_request(exchange: Exchange, limit: int | None = None) -> int:
    """A new request: tell the neighbours who know its category and whom it reaches
    (``audience.reached_by``: from their homes, on the server only; blocks both ways).
    The nearest ``NOTIFY_MATCHING_MAX`` at most. Returns how many. The members of the
    category are read cell by cell around the request (``audience.reached_knowing``):
    posting never scans every member of the city."""
    if exchange.kind != "request":
        return 0
    member_ids = nearest_knowing(exchange, limit or current_app.config["NOTIFY_MATCHING_MAX"])
    if not member_ids:
        return 0
    dialect = db.engine.dialect.name
    made = db.session.execute(
        _matching_insert(dialect),
        {
            "ids": geo.cell_keys_value(member_ids, dialect),
            "actor_id": exchange.author_id,
            "subject_id": exchange.id,
            "title": (exchange.title or "")[:TITLE_MAX],
            "now": utcnow(),
        },
    ).all()
    _queue_emails(made)
    return len(made)


@functools.cache
def _matching_insert(dialect: str):
    """One INSERT ... SELECT of the "matching_request" notifications, each member's email
    state read beside (their choice, else the kind's default): the ids are one bound
    parameter (an array on PostgreSQL, a JSON list on SQLite), so the statement has one
    shape whatever their number, built and parsed once per process (a VALUES list of 8
    parameters a row was a new 400-parameter text for the driver at every post)."""
    ids = geo.cell_keys(dialect, "ids")
    rows, member_id = geo.cell_key_rows(ids, dialect)
    mode = func.coalesce(NotificationSetting.email, KINDS["matching_request"].default)
    state = case(*((mode == m, s) for m, s in _STATE_FOR_MODE.items()), else_="none")
    chosen = select(
        member_id,
        literal("matching_request"),
        bindparam("actor_id", type_=Integer),
        literal("exchange"),
        bindparam("subject_id", type_=Integer),
        bindparam("title", type_=String),
        bindparam("now", type_=Notification.created_at.type),
        state,
        literal(0),
    ).select_from(
        rows.outerjoin(
            NotificationSetting,
            and_(
                NotificationSetting.member_id == member_id,
                NotificationSetting.kind == "matching_request",
            ),
        )
    )
    names = ("member_id", "kind", "actor_id", "subject_type", "subject_id")
    names += ("subject_title", "created_at", "email_state", "email_attempts")
    table = Notification.__table__
    return (
        insert(table)
        .from_select([table.c[name] for name in names], chosen)
        .returning(table.c.id, table.c.email_state)
    )


# How far from a request its matching neighbours are searched first, then further
# (metres, nearest first; the request's reach ends the search).
MATCH_STEPS_M = (200, 400, 800, 1600)


def nearest_knowing(
    exchange: Exchange, limit: int, steps: tuple[int, ...] | None = None
) -> list[int]:
    """The ids of the ``limit`` members nearest to ``exchange`` (by home, then id) whom
    it reaches and who know its category: searched within 200 m of it, then 400 m...
    (``MATCH_STEPS_M``) until ``limit`` are found, every member outside being farther
    than those. In a dense street the nearest are found in a few cells, instead of
    measuring every member of the category within the whole reach (``steps=()``: the
    whole reach at once, bench/fanout.py's baseline; default ``MATCH_STEPS_M``)."""
    if exchange.quartier_id is not None:
        steps = ()
    elif steps is None:
        steps = MATCH_STEPS_M
    found: list[int] = []
    for within in (*(m for m in steps if m < exchange.reach_m), None):
        found = list(
            db.session.scalars(
                select(Member.id)
                .where(
                    audience.reached_knowing(
                        exchange, exchange.category, from_homes=True, within_m=within
                    )
                )
                .order_by(audience.home_distance(exchange), Member.id)
                .limit(limit)
            )
        )
        if len(found) >= limit:
            break
    return found


def match_soon(exchange: Exchange) -> None:
    """A new request: tell its matching neighbours (``notify_matching_request``) once
    the author has their answer. In a request, its id waits for the commit, then
    ``mail.init_app`` runs :func:`match_pending` after the response; outside one
    (commands, the demo seed), it is done at once. ``flask send-notifications`` matches
    any request a worker could not (``matched_at`` still NULL)."""
    if exchange.kind != "request":
        return
    if has_request_context():
        db.session.info.setdefault(MATCH_KEY, []).append(exchange.id)
        return
    exchange.matched_at = utcnow()
    notify_matching_request(exchange)


def match_pending(ids: Iterable[int] | None = None, now: datetime | None = None) -> list[int]:
    """Tell the matching neighbours of the given requests (every request of the last
    ``MATCH_WITHIN`` not matched yet if None), each in a transaction of its own that
    first claims it (``matched_at`` set where it was NULL: two workers or a worker and
    cron never tell anyone twice). Returns the ids of the notifications made whose
    email is to be sent now."""
    now = now or utcnow()
    if ids is None:
        ids = db.session.scalars(
            select(Exchange.id)
            .where(
                Exchange.kind == "request",
                Exchange.matched_at.is_(None),
                Post.created_at >= now - MATCH_WITHIN,
            )
            .order_by(Exchange.id)
        ).all()
        db.session.commit()
    to_mail: list[int] = []
    for exchange_id in ids:
        claimed = db.session.execute(
            update(Exchange)
            .where(Exchange.id == exchange_id, Exchange.matched_at.is_(None))
            .values(matched_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        exchange = db.session.get(Exchange, exchange_id) if claimed else None
        if exchange is not None and exchange.status == "open" and exchange.hidden_at is None:
            notify_matching_request(exchange)
            to_mail += db.session.info.get(PENDING_KEY, [])
        db.session.commit()
    return to_mail


def remind_once(
    recipient_id: int,
    kind: str,
    dedupe_key: str,
    **values,
) -> Notification | None:
    """A reminder made by a scheduled run: at most once per ``dedupe_key``."""
    already = db.session.scalar(
        select(
            exists().where(
                Notification.member_id == recipient_id, Notification.dedupe_key == dedupe_key
            )
        )
    )
    if already:
        return None
    return notify(recipient_id, kind, dedupe_key=dedupe_key, **values)


def forget(subject_type: str, subject_id: int) -> None:
    """The subject is deleted: its notifications would lead nowhere."""
    db.session.execute(
        delete(Notification).where(
            Notification.subject_type == subject_type, Notification.subject_id == subject_id
        )
    )


def mark_read(member: Member, ids: Iterable[int] | None = None) -> int:
    """Mark the member's notifications (all, or the given ones) read."""
    conditions = [Notification.member_id == member.id, Notification.read_at.is_(None)]
    if ids is not None:
        conditions.append(Notification.id.in_(list(ids)))
    result = db.session.execute(update(Notification).where(*conditions).values(read_at=utcnow()))
    return result.rowcount or 0


def mark_group_read(member: Member, notification: Notification) -> int:
    """Mark read the member's lines of the same group as ``notification`` (same kind,
    same subject; a line without a subject alone): what following it has acted on."""
    conditions = [
        Notification.member_id == member.id,
        Notification.read_at.is_(None),
        Notification.kind == notification.kind,
    ]
    if notification.subject_id is None:
        conditions.append(Notification.id == notification.id)
    else:
        conditions += [
            Notification.subject_type == notification.subject_type,
            Notification.subject_id == notification.subject_id,
        ]
    result = db.session.execute(update(Notification).where(*conditions).values(read_at=utcnow()))
    return result.rowcount or 0


def mark_subject_read(member: Member, subject_type: str, subject_id: int) -> None:
    """Opening a conversation reads its message notifications too."""
    db.session.execute(
        update(Notification)
        .where(
            Notification.member_id == member.id,
            Notification.subject_type == subject_type,
            Notification.subject_id == subject_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )


def choose_emails(member: Member, choices: dict[str, object]) -> dict[str, str]:
    """Set the email mode of the given kinds ("on", "digest" or "off")."""
    errors = {}
    for kind, mode in choices.items():
        if kind not in KINDS:
            errors[kind] = _l("Type de notification inconnu.")
        elif mode not in ("on", "digest", "off"):
            errors[kind] = _l("Choisissez « un par un », « résumé du jour » ou « jamais ».")
    if errors:
        raise ValidationFailed(_l("Vérifiez les choix signalés."), errors)
    current = {
        row.kind: row
        for row in db.session.scalars(
            select(NotificationSetting).where(NotificationSetting.member_id == member.id)
        )
    }
    for kind, mode in choices.items():
        row = current.get(kind)
        if row is None:
            db.session.add(NotificationSetting(member_id=member.id, kind=kind, email=mode))
        else:
            row.email = mode
    db.session.flush()
    return settings_of(member)


def unsubscribe(member: Member, kind: str) -> list[str]:
    """Stop the emails of one kind, or of every kind sent in the digest
    (``kind="digest"``). Returns the kinds turned off."""
    if kind == "digest":
        kinds = [name for name, mode in settings_of(member).items() if mode == "digest"]
    elif kind in KINDS:
        kinds = [kind]
    else:
        raise ValidationFailed(_l("Type de notification inconnu."))
    choose_emails(member, dict.fromkeys(kinds, "off"))
    # What was waiting in the digest for those kinds will not go either.
    if kinds:
        db.session.execute(
            update(Notification)
            .where(
                Notification.member_id == member.id,
                Notification.kind.in_(kinds),
                Notification.email_state.in_(("pending", "digest")),
            )
            .values(email_state="skipped")
        )
    return kinds


def lifetime_for(post: Post) -> timedelta:
    return ITEM_LIFETIME if post.type == "item" else DEFAULT_LIFETIME


def may_be_kept_open(post: Post) -> bool:
    """Exchanges without dates and objects leave the lists after a lifetime; those
    are the ones "still needed?" can keep open. Dated posts end on their day."""
    if post.status != "open" or post.expires_at is None:
        return False
    if isinstance(post, Exchange):
        return post.starts_on is None and post.ends_on is None
    return isinstance(post, Item)


def expiry_stamp(post: Post) -> int | None:
    """The post's expiry to the second: what a keep-open link carries."""
    return int(post.expires_at.timestamp()) if post.expires_at is not None else None


def keep_open(post: Post, expected_stamp: int | None = None) -> datetime:
    """The author says it is still needed (or still lendable): it stays on the lists
    for a new lifetime from now. ``expected_stamp`` (from a signed link) must match,
    so an old link is not a way to keep a post open for ever."""
    if not may_be_kept_open(post):
        raise Conflict(_l("Cette annonce est close : elle ne peut plus être prolongée."))
    if expected_stamp is not None and expiry_stamp(post) != expected_stamp:
        raise Conflict(_l("C'est déjà fait : cette annonce a été prolongée."))
    now = utcnow()
    post.expires_at = now + lifetime_for(post)
    post.updated_at = now
    db.session.flush()
    return post.expires_at
