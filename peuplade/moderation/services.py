"""Trust and safety writes: report, block, and what moderators do (hide, restore, warn,
suspend, ban, dismiss, remove one photo), each written to the audit log.

Moderators act in their quartiers (a report belongs to the quartier of the content, or
of its author); admins everywhere. Every action needs a reason and leaves one
``ModerationAction`` row: who, what, when, why.

What can be reported is found through ``moderation.targets``, which the features fill
in: this module imports none of them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from peuplade.account import blur
from peuplade.account.queries import get_member_or_404, member_by_email
from peuplade.errors import Conflict, Forbidden, NotFound, ValidationFailed
from peuplade.extensions import db
from peuplade.models import (
    REPORT_REASONS,
    Block,
    Member,
    MemberSession,
    ModerationAction,
    Moderator,
    Photo,
    Post,
    Report,
    utcnow,
)
from peuplade.moderation.queries import (
    Target,
    find_target,
    require_scope,
    target_of,
)
from peuplade.notifications import services as notifications
from peuplade.photos import services as photos
from peuplade.validation import clean_text, normalise_email

log = logging.getLogger("peuplade.security")

DETAILS_MAX = 1000
REASON_MAX = 1000
SUSPEND_DAYS_MAX = 365
# Reasons only Peuplade itself gives (a report with no reporter, account/person.py):
# a member cannot pick them.
SYSTEM_REASONS = ("signups",)
MEMBER_REASONS = tuple(r for r in REPORT_REASONS if r not in SYSTEM_REASONS)


def by_peuplade(report: Report) -> bool:
    """Raised by Peuplade itself: no reporter, and a reason only the app gives."""
    return report.reporter_id is None and report.reason in SYSTEM_REASONS


# --- reports and blocks ------------------------------------------------------------


def report(
    reporter: Member, target_type: str | None, target_id: object, reason: str | None, details=""
) -> Report:
    """Flag something for the moderators of its quartier (once per person and thing)."""
    target = find_target(reporter, target_type, target_id)
    if target.author_id == reporter.id:
        raise Forbidden(_l("Vous ne pouvez pas signaler ce que vous avez écrit vous-même."))
    if reason not in MEMBER_REASONS:
        msg = _l("Choisissez une raison.")
        raise ValidationFailed(msg, {"reason": msg})
    text = clean_text(details)
    if len(text) > DETAILS_MAX:
        msg = _l("%(n)s caractères au plus.", n=DETAILS_MAX)
        raise ValidationFailed(msg, {"details": msg})
    already = db.session.scalar(
        select(Report.id).where(
            Report.reporter_id == reporter.id,
            Report.target_type == target.type,
            Report.target_id == target.id,
        )
    )
    if already is not None:
        raise Conflict(_l("Vous avez déjà signalé ceci : la modération s'en occupe."))
    row = Report(
        reporter_id=reporter.id,
        target_type=target.type,
        target_id=target.id,
        target_member_id=target.author_id,
        reason=reason,
        details=text,
        quartier_id=target.quartier_id,
        status="open",
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    log.info("report %s by member %s on %s %s", row.id, reporter.id, target.type, target.id)
    return row


def block(blocker: Member, blocked_id: object) -> Block:
    """Block a member I can see (idempotent). They are not told."""
    try:
        ident = int(blocked_id)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise NotFound(_l("Ce voisin n'existe pas.")) from None
    if ident == blocker.id:
        raise ValidationFailed(_l("Vous ne pouvez pas vous bloquer vous-même."))
    existing = db.session.get(Block, (blocker.id, ident))
    if existing is not None:
        return existing
    get_member_or_404(blocker, ident)
    row = Block(blocker_id=blocker.id, blocked_id=ident, created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def unblock(blocker: Member, blocked_id: int) -> None:
    db.session.execute(
        delete(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == blocked_id)
    )


# --- moderators --------------------------------------------------------------------


def _reason(text: str | None) -> str:
    cleaned = clean_text(text)
    if not cleaned:
        msg = _l("Écrivez la raison : elle est gardée dans le journal de modération.")
        raise ValidationFailed(msg, {"reason": msg})
    if len(cleaned) > REASON_MAX:
        msg = _l("%(n)s caractères au plus.", n=REASON_MAX)
        raise ValidationFailed(msg, {"reason": msg})
    return cleaned


def _record(
    moderator: Member,
    action: str,
    target: Target,
    reason: str,
    report: Report | None = None,
    until: datetime | None = None,
    at: datetime | None = None,
) -> ModerationAction:
    row = ModerationAction(
        moderator_id=moderator.id,
        action=action,
        target_type=target.type,
        target_id=target.id,
        member_id=target.author_id,
        report_id=report.id if report else None,
        reason=reason,
        until=until,
        created_at=at or utcnow(),
    )
    db.session.add(row)
    if report is not None and report.status == "open":
        report.status = "dismissed" if action == "dismiss" else "resolved"
        report.handled_by_id = moderator.id
        report.handled_at = row.created_at
    # Other open reports on the same thing are handled by the same decision.
    if action != "dismiss":
        db.session.execute(
            update(Report)
            .where(
                Report.target_type == target.type,
                Report.target_id == target.id,
                Report.status == "open",
            )
            .values(status="resolved", handled_by_id=moderator.id, handled_at=row.created_at)
        )
    db.session.flush()
    log.info(
        "moderation %s by member %s on %s %s (member %s)",
        action,
        moderator.id,
        target.type,
        target.id,
        target.author_id,
    )
    return row


def hide(moderator: Member, target: Target, reason: str | None, report: Report | None = None):
    """Take content off every list and page (its author still sees it, marked hidden)."""
    text = _reason(reason)
    if target.type == "member":
        raise ValidationFailed(_l("On masque un contenu ; pour une personne, suspendez-la."))
    if target.obj.hidden_at is not None:
        raise Conflict(_l("C'est déjà masqué."))
    target.obj.hidden_at = utcnow()
    return _record(moderator, "hide", target, text, report)


def restore(moderator: Member, target: Target, reason: str | None, report: Report | None = None):
    text = _reason(reason)
    if target.type == "member" or target.obj.hidden_at is None:
        raise Conflict(_l("Ce contenu n'est pas masqué."))
    target.obj.hidden_at = None
    return _record(moderator, "restore", target, text, report)


def dismiss(moderator: Member, report: Report, reason: str | None) -> ModerationAction:
    text = _reason(reason)
    if report.status != "open":
        raise Conflict(_l("Ce signalement est déjà traité."))
    target = Target(
        report.target_type, report.target_id, report.target_member_id, report.quartier_id, "", None
    )
    return _record(moderator, "dismiss", target, text, report)


def remove_photo(
    moderator: Member, photo: Photo, reason: str | None, report: Report | None = None
) -> ModerationAction:
    """Take down one photo: of a post (the post stays; the log names the post), or a
    member's face (the log names the member). In the moderator's quartiers only."""
    text = _reason(reason)
    if photo.staged_key is not None:  # seen by its sender only: nothing to moderate
        raise NotFound(_l("Cette photo n'existe pas."))
    if photo.post_id is not None:
        post = db.session.get(Post, photo.post_id)
        if post is None:
            raise NotFound(_l("Cette photo n'existe pas."))
        target = target_of(moderator, post.type, post.id)
    else:
        member = db.session.get(Member, photo.member_id)
        if member is None:
            raise NotFound(_l("Cette photo n'existe pas."))
        target = _member_target(moderator, member)
    row = _record(moderator, "remove_photo", target, text, report)
    photos.remove_photo(photo, None)
    return row


def _member_target(moderator: Member, member: Member) -> Target:
    if member.id == moderator.id:
        raise Forbidden(_l("Vous ne pouvez pas vous modérer vous-même."))
    if member.is_admin:
        raise Forbidden(_l("Un administrateur ne peut pas être modéré ici."))
    require_scope(moderator, member.quartier_id)
    return Target("member", member.id, member.id, member.quartier_id, member.display_name, member)


def _end_sessions(member: Member) -> None:
    """Logged out everywhere: browser sessions and API tokens."""
    db.session.execute(delete(MemberSession).where(MemberSession.member_id == member.id))
    member.session_version += 1


def warn(moderator: Member, member: Member, reason: str | None, report: Report | None = None):
    """A warning the member reads in their notifications."""
    text = _reason(reason)
    target = _member_target(moderator, member)
    row = _record(moderator, "warn", target, text, report)
    notifications.notify(member.id, "moderation_warning", title=text)
    return row


def suspend(
    moderator: Member, member: Member, days: object, reason: str | None, report=None
) -> ModerationAction:
    """No login for ``days`` days; logged out at once."""
    text = _reason(reason)
    try:
        count = int(days)  # type: ignore[call-overload]
        if isinstance(days, bool) or not 1 <= count <= SUSPEND_DAYS_MAX:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        msg = _l("Entre 1 et %(n)s jours.", n=SUSPEND_DAYS_MAX)
        raise ValidationFailed(msg, {"days": msg}) from None
    target = _member_target(moderator, member)
    if member.status == "banned":
        raise Conflict(_l("Ce compte est fermé."))
    until = utcnow() + timedelta(days=count)
    member.status = "suspended"
    member.suspended_until = until
    _end_sessions(member)
    db.session.flush()
    blur.standing_changed(member)  # no longer counted in a privacy crowd
    return _record(moderator, "suspend", target, text, report, until=until)


def ban(moderator: Member, member: Member, reason: str | None, report=None) -> ModerationAction:
    """Close the account: no login, profile gone, every post hidden."""
    text = _reason(reason)
    target = _member_target(moderator, member)
    if member.status == "banned":
        raise Conflict(_l("Ce compte est déjà fermé."))
    now = utcnow()
    member.status = "banned"
    member.suspended_until = None
    _end_sessions(member)
    # Hidden at the ban's very instant, so lifting the ban restores exactly these.
    db.session.execute(
        update(Post)
        .where(Post.author_id == member.id, Post.hidden_at.is_(None))
        .values(hidden_at=now)
    )
    db.session.flush()
    blur.standing_changed(member)  # no longer counted in a privacy crowd
    return _record(moderator, "ban", target, text, report, at=now)


def unban(moderator: Member, member: Member, reason: str | None) -> ModerationAction:
    """Lift a ban or a suspension; posts hidden by the ban come back."""
    text = _reason(reason)
    target = _member_target(moderator, member)
    if member.status == "active":
        raise Conflict(_l("Ce compte n'est ni suspendu ni fermé."))
    if member.status == "banned":
        banned_at = db.session.scalar(
            select(ModerationAction.created_at)
            .where(ModerationAction.member_id == member.id, ModerationAction.action == "ban")
            .order_by(ModerationAction.created_at.desc())
            .limit(1)
        )
        if banned_at is not None:
            db.session.execute(
                update(Post)
                .where(Post.author_id == member.id, Post.hidden_at == banned_at)
                .values(hidden_at=None)
            )
    member.status = "active"
    member.suspended_until = None
    return _record(moderator, "unban", target, text)


def make_admin(email: str) -> Member:
    try:
        address = normalise_email(email)
    except ValidationFailed:
        address = (email or "").strip().lower()
    member = member_by_email(address)
    if member is None:
        raise NotFound(_l("Aucun membre avec cette adresse."))
    member.is_admin = True
    db.session.flush()
    log.info("member %s made admin", member.id)
    return member


def appoint(member: Member, quartier_id: int) -> Moderator:
    """Name a moderator for a quartier (admins do, through `flask make-moderator`)."""
    existing = db.session.get(Moderator, (member.id, quartier_id))
    if existing is not None:
        return existing
    row = Moderator(member_id=member.id, quartier_id=quartier_id)
    db.session.add(row)
    db.session.flush()
    return row
