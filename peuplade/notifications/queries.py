"""Reads on notifications: my bell's count, my list, where each one leads.

The page shows them grouped: the lines of the same kind on the same subject ("Hugo D.
vient à votre sortie" five times) are one group, placed by its newest line; the bell
counts the groups that have an unread line. The API lists the lines themselves.

A notification whose actor is blocked either way with its recipient is neither listed,
counted nor emailed (``shown``) while the block lasts; the row is kept, so unblocking
brings it back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import (
    Integer,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
)

from peuplade.extensions import db
from peuplade.models import Member, Notification
from peuplade.notifications import kinds
from peuplade.pagination import TimeCursor
from peuplade.posts import audience

# Where a notification leads: an endpoint and how its id is passed.
_TARGETS = {
    "exchange": ("exchanges.show", "exchange_id"),
    "item": ("loans.show", "item_id"),
    "event": ("events.show", "event_id"),
    "conversation": ("messages.show", "conversation_id"),
}


def shown():
    """SQL: the notification may be shown to its recipient: no actor, or one with no
    block either way with them."""
    return or_(
        Notification.actor_id.is_(None),
        audience.no_block(Notification.member_id, Notification.actor_id),
    )


def is_shown(notification: Notification) -> bool:
    """``shown`` for one notification already loaded (the emails)."""
    if notification.actor_id is None:
        return True
    return not audience.blocked_between(notification.member_id, notification.actor_id)


def unread_count(member: Member) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.member_id == member.id, Notification.read_at.is_(None), shown()
            )
        )
        or 0
    )


def _group_key() -> tuple:
    """SQL: what makes lines one group: the kind and the subject (a line without a
    subject, like a moderation warning, stays alone). No bound parameter in it, so that
    PostgreSQL sees the same expressions in SELECT and GROUP BY."""
    alone = case((Notification.subject_id.is_(None), Notification.id), else_=literal_column("0"))
    return (Notification.kind, Notification.subject_type, Notification.subject_id, alone)


def key_of(notification: Notification) -> tuple[str, str | None, int | None, int]:
    """``_group_key`` for one loaded line."""
    alone = notification.id if notification.subject_id is None else 0
    return (notification.kind, notification.subject_type, notification.subject_id, alone)


def unread_groups_sql(me) -> ScalarSelect:
    """SQL, a scalar subquery: :func:`unread_groups` of ``me`` (a member id, or a bound
    parameter standing for one), for the statement that reads it with the messages'
    count on every page (messages.queries.bell_counts)."""
    keys = (
        select(*_group_key())
        .where(Notification.member_id == me, Notification.read_at.is_(None), shown())
        .group_by(*_group_key())
        .subquery()
    )
    return select(func.count()).select_from(keys).scalar_subquery()


# Built once: a request binds its member's id.
_UNREAD_GROUPS = select(unread_groups_sql(bindparam("me", type_=Integer)))


def unread_groups(member: Member) -> int:
    """The bell: how many groups have something unread (24 lines about 3 things: 3)."""
    return db.session.scalar(_UNREAD_GROUPS, {"me": member.id}) or 0


@dataclass
class Group:
    """Lines of one kind on one subject, newest first."""

    lines: list[Notification] = field(default_factory=list)
    cursor: TimeCursor | None = None

    @property
    def newest(self) -> Notification:
        return self.lines[0]

    @property
    def unread(self) -> bool:
        return any(line.read_at is None for line in self.lines)

    def names(self) -> list[str | None]:
        """Who did it, newest first, each once (None: a neighbour who left; each
        departed neighbour counts, as they cannot be told apart)."""
        seen, names = set(), []
        for line in self.lines:
            who = line.actor_id if line.actor_id is not None else ("gone", line.id)
            if who not in seen:
                seen.add(who)
                names.append(line.actor.display_name if line.actor is not None else None)
        return names


@dataclass
class GroupPage:
    items: list[Group]
    next_cursor: str | None


def groups(member: Member, after: TimeCursor | None, size: int) -> GroupPage:
    """One page of the member's groups, the most recently active first (keyset on the
    group's newest moment and its highest id), each with all its lines. Two
    statements, whatever the number of lines."""
    key = _group_key()
    sub = (
        select(
            *(column.label(f"k{n}") for n, column in enumerate(key)),
            func.max(Notification.created_at).label("latest"),
            func.max(Notification.id).label("top"),
        )
        .where(Notification.member_id == member.id, shown())
        .group_by(*key)
        .subquery()
    )
    stmt = select(sub).order_by(sub.c.latest.desc(), sub.c.top.desc()).limit(size + 1)
    if after is not None:
        stmt = stmt.where(
            or_(
                sub.c.latest < after.created_at,
                and_(sub.c.latest == after.created_at, sub.c.top < after.id),
            )
        )
    rows = db.session.execute(stmt).all()
    more = len(rows) > size
    rows = rows[:size]
    if not rows:
        return GroupPage([], None)
    found = {(r.k0, r.k1, r.k2, r.k3): Group(cursor=TimeCursor(r.latest, r.top)) for r in rows}
    for line in db.session.scalars(
        select(Notification)
        .where(Notification.member_id == member.id, shown(), _any_of(found))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    ):
        found[key_of(line)].lines.append(line)
    items = [group for group in found.values() if group.lines]
    last = rows[-1]
    return GroupPage(items, TimeCursor(last.latest, last.top).encode() if more else None)


def _any_of(keys: Iterable[tuple[str, str | None, int | None, int]]):
    """SQL: the line belongs to one of these groups."""
    alone = [ident for (_kind, _type, _subject, ident) in keys if ident]
    together = [
        and_(
            Notification.kind == kind,
            Notification.subject_type == subject_type,
            Notification.subject_id == subject_id,
        )
        for (kind, subject_type, subject_id, ident) in keys
        if not ident
    ]
    return or_(Notification.id.in_(alone), *together)


def mine(member: Member, after: TimeCursor | None = None) -> Select:
    """The member's notifications, newest first (keyset on (created_at, id))."""
    stmt = select(Notification).where(Notification.member_id == member.id, shown())
    if after is not None:
        stmt = stmt.where(
            or_(
                Notification.created_at < after.created_at,
                and_(Notification.created_at == after.created_at, Notification.id < after.id),
            )
        )
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def cursor_after(notification: Notification) -> str:
    return TimeCursor(notification.created_at, notification.id).encode()


def target(notification: Notification) -> tuple[str, dict[str, int]]:
    """``(endpoint, values)`` of the page a notification leads to."""
    if notification.subject_type == "loan" or notification.kind.startswith("loan_"):
        return "loans.my_loans", {}
    found = _TARGETS.get(notification.subject_type or "")
    if found is None or notification.subject_id is None:
        return "notifications.index", {}
    endpoint, name = found
    return endpoint, {name: notification.subject_id}


def sentence(notification: Notification) -> str:
    """What the notification says, in the current language."""
    who = notification.actor.display_name if notification.actor is not None else None
    return kinds.text(notification.kind, who, notification.subject_title, notification.detail)


def group_sentence(group: Group) -> str:
    """What a group says: the newest line's sentence, or who all did it ("Hugo D. et 4
    autres voisins viennent à votre sortie « … »")."""
    newest = group.newest
    names = group.names()
    if len(names) < 2 or not kinds.groups_well(newest.kind):
        return sentence(newest)
    return kinds.group_text(newest.kind, names, newest.subject_title)
