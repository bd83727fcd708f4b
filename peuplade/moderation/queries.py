"""Trust and safety reads: the moderation queue, one report with what it is about, the
audit log, and the members I blocked.

Moderators see what concerns the quartiers they moderate; admins see everything
(``moderated_quartiers`` returns None for them). Lists are newest first with
signed keyset cursors (``pagination.TimeCursor``), never OFFSET.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, false, or_, select
from sqlalchemy.orm import selectinload, with_polymorphic

from peuplade.account.queries import get_member_or_404
from peuplade.errors import Forbidden, NotFound, ValidationFailed
from peuplade.extensions import db
from peuplade.models import (
    REPORT_TARGETS,
    Block,
    Member,
    Message,
    ModerationAction,
    Moderator,
    NewsComment,
    Post,
    Report,
)
from peuplade.moderation import targets
from peuplade.pagination import TimeCursor
from peuplade.validation import ID_MAX

TITLE_SHOWN = 120
POST_TYPES = {"exchange", "item", "news", "event"}


@dataclass(frozen=True)
class Target:
    """A reportable thing, found for someone allowed to see it."""

    type: str
    id: int
    author_id: int | None
    quartier_id: int | None
    title: str
    obj: object


# --- finding what is reported ----------------------------------------------------


def find_target(viewer: Member, target_type: str | None, target_id: object) -> Target:
    """The thing ``viewer`` reports, if they can see it (else NotFound, as for any page
    they could not open)."""
    if target_type not in REPORT_TARGETS:
        msg = _l("Choisissez ce que vous signalez.")
        raise ValidationFailed(msg, {"type": msg})
    try:
        ident = int(target_id)  # type: ignore[call-overload]
        if isinstance(target_id, bool) or not 0 < ident <= ID_MAX:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        msg = _l("Numéro invalide.")
        raise ValidationFailed(msg, {"id": msg}) from None
    if target_type == "member":
        member = get_member_or_404(viewer, ident)
        return Target("member", ident, member.id, member.quartier_id, member.display_name, member)
    found = targets.load(target_type, viewer, ident)
    if isinstance(found, Post):
        return Target(
            target_type,
            ident,
            found.author_id,
            found.quartier_id or found.author.quartier_id,
            found.title,
            found,
        )
    # A news comment or a message: in its author's quartier.
    return Target(target_type, ident, found.author_id, found.author.quartier_id, found.body, found)


def find_any(target_type: str, target_id: int) -> Target:
    """The thing, for a moderator (hidden content included)."""
    model = {
        "comment": NewsComment,
        "message": Message,
        "member": Member,
    }.get(target_type, Post)
    obj = db.session.get(model, target_id)
    if obj is None or (model is Post and obj.type != target_type):
        raise NotFound(_l("Ce contenu n'existe plus."))
    if isinstance(obj, Member):
        return Target("member", obj.id, obj.id, obj.quartier_id, obj.display_name, obj)
    author = obj.author
    quartier = getattr(obj, "quartier_id", None) or author.quartier_id
    title = getattr(obj, "title", None) or obj.body
    return Target(target_type, obj.id, author.id, quartier, title, obj)


# --- moderators --------------------------------------------------------------------


def moderated_quartiers(member: Member) -> list[int] | None:
    """The quartiers a member moderates; None means all of them (an admin)."""
    if member.is_admin:
        return None
    return list(
        db.session.scalars(select(Moderator.quartier_id).where(Moderator.member_id == member.id))
    )


def is_moderator(member: Member) -> bool:
    scope = moderated_quartiers(member)
    return scope is None or bool(scope)


def require_scope(moderator: Member, quartier_id: int | None) -> None:
    scope = moderated_quartiers(moderator)
    if scope is None:
        return
    if quartier_id is None or quartier_id not in scope:
        raise Forbidden(_l("Ce n'est pas dans les quartiers que vous modérez."))


def get_report_for(moderator: Member, report_id: int) -> Report:
    row = db.session.get(Report, report_id)
    if row is None:
        raise NotFound(_l("Ce signalement n'existe pas."))
    require_scope(moderator, row.quartier_id)
    return row


def target_of(moderator: Member, target_type: str, target_id: int) -> Target:
    target = find_any(target_type, target_id)
    require_scope(moderator, target.quartier_id)
    return target


def _newest_first(stmt: Select, created, ident, after: TimeCursor | None) -> Select:
    if after is not None:
        stmt = stmt.where(
            or_(created < after.created_at, and_(created == after.created_at, ident < after.id))
        )
    return stmt.order_by(created.desc(), ident.desc())


def _quartier_in(column, scope: list[int]):
    return column.in_(scope) if scope else false()


# --- the queue -----------------------------------------------------------------------


def queue(moderator: Member, after: TimeCursor | None = None) -> Select:
    """Open reports in the quartiers I moderate (all of them for an admin), newest first.
    The caller pages it (``pagination.fetch_page``). Reports Peuplade raised itself (no
    reporter, reason "signups") are among them."""
    scope = moderated_quartiers(moderator)
    stmt = (
        select(Report)
        .where(Report.status == "open")
        .options(selectinload(Report.reporter), selectinload(Report.target_member))
    )
    if scope is not None:
        stmt = stmt.where(_quartier_in(Report.quartier_id, scope))
    return _newest_first(stmt, Report.created_at, Report.id, after)


def report_cursor(report: Report) -> str:
    return TimeCursor(report.created_at, report.id).encode()


def target_titles(reports: list[Report]) -> dict[tuple[str, int], str]:
    """A short text naming what each report is about, in one query per kind of thing
    (a page of the queue costs the same whatever its size). Deleted things are absent."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for row in reports:
        wanted[row.target_type].add(row.target_id)
    titles: dict[tuple[str, int], str] = {}
    posts = {i for kind in POST_TYPES for i in wanted.get(kind, ())}
    if posts:
        every = with_polymorphic(Post, "*")  # each type's own title, in the same query
        for post in db.session.scalars(select(every).where(every.id.in_(posts))):
            titles[(post.type, post.id)] = post.title
    sources = (
        ("comment", NewsComment.id, NewsComment.body),
        ("message", Message.id, Message.body),
        ("member", Member.id, Member.display_name),
    )
    for kind, ident_col, text_col in sources:
        if wanted.get(kind):
            for ident, text in db.session.execute(
                select(ident_col, text_col).where(ident_col.in_(wanted[kind]))
            ):
                titles[(kind, ident)] = text
    return {
        key: text if len(text) <= TITLE_SHOWN else text[: TITLE_SHOWN - 1] + "…"
        for key, text in titles.items()
    }


# --- one report ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReportView:
    """A report as a moderator reads it: the thing reported (None once deleted), shown
    even when hidden, and its author."""

    report: Report
    target: Target | None
    author: Member | None
    # Earlier actions about the same thing or the same person, newest first.
    history: list[ModerationAction]


def get_report_or_404(moderator: Member, report_id: int) -> ReportView:
    """One report of my quartiers; any other is "not found", like any page out of reach."""
    try:
        report = get_report_for(moderator, report_id)
    except Forbidden:
        raise NotFound(_l("Ce signalement n'existe pas.")) from None
    try:
        # The report is in my quartiers, so I read what it is about even if its author
        # moved since; acting on it still goes through target_of (and its scope).
        target = find_any(report.target_type, report.target_id)
    except NotFound:
        target = None
    author_id = target.author_id if target else report.target_member_id
    author = db.session.get(Member, author_id) if author_id is not None else None
    about_thing = and_(
        ModerationAction.target_type == report.target_type,
        ModerationAction.target_id == report.target_id,
    )
    about = (
        or_(about_thing, ModerationAction.member_id == author_id)
        if author_id is not None
        else about_thing
    )
    history = list(
        db.session.scalars(
            select(ModerationAction)
            .where(about)
            .order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())
            .limit(20)
        )
    )
    return ReportView(report, target, author, history)


# --- the audit log -------------------------------------------------------------------


def audit_log(moderator: Member, after: TimeCursor | None = None) -> Select:
    """Moderation actions newest first: for a moderator, those about members of their
    quartiers, content of their quartiers, or reports of their quartiers; for an admin,
    all of them."""
    scope = moderated_quartiers(moderator)
    stmt = select(ModerationAction)
    if scope is not None:
        stmt = stmt.where(
            or_(
                exists().where(
                    Member.id == ModerationAction.member_id,
                    _quartier_in(Member.quartier_id, scope),
                ),
                exists().where(
                    Report.id == ModerationAction.report_id,
                    _quartier_in(Report.quartier_id, scope),
                ),
                exists().where(
                    ModerationAction.target_type.in_(POST_TYPES),
                    Post.id == ModerationAction.target_id,
                    _quartier_in(Post.quartier_id, scope),
                ),
            )
        )
    return _newest_first(stmt, ModerationAction.created_at, ModerationAction.id, after)


def action_cursor(action: ModerationAction) -> str:
    return TimeCursor(action.created_at, action.id).encode()


# --- blocks --------------------------------------------------------------------------


def my_blocks(member: Member, after: TimeCursor | None = None) -> Select:
    """``(Block, Member)`` rows of the members I blocked, most recent block first. The
    cursor's id is the blocked member's id (unique for one blocker)."""
    stmt = (
        select(Block, Member)
        .join(Member, Member.id == Block.blocked_id)
        .where(Block.blocker_id == member.id)
    )
    return _newest_first(stmt, Block.created_at, Block.blocked_id, after)


def block_cursor(row) -> str:
    block = row[0]
    return TimeCursor(block.created_at, block.blocked_id).encode()
