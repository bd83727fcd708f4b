"""What cron runs: reminders (`flask send-notifications`) and the daily digest
(`flask send-digests`). Both may run again at any time: reminders are made once
(``dedupe_key``) and a digest only takes what no digest took before.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask_babel import force_locale, ngettext
from sqlalchemy import select, update

from peuplade.extensions import db
from peuplade.localtime import local_zone
from peuplade.models import Exchange, Item, Loan, Member, Notification, utcnow
from peuplade.notifications import links, queries
from peuplade.notifications.mail import (
    MAX_AGE,
    STALE_CLAIM,
    MailUnavailable,
    Report,
    _locale,
    compose,
    transport,
)
from peuplade.notifications.services import expiry_stamp, may_be_kept_open, remind_once
from peuplade.posts import queries as posts_queries

log = logging.getLogger("peuplade.mail")

# "Still needed?" goes this long before a post leaves the lists.
NUDGE_BEFORE = timedelta(days=3)


def make_reminders(now: datetime | None = None) -> dict[str, int]:
    """Loans due tomorrow or overdue (to the borrower) and "still needed?" (to the
    author of an exchange or object about to leave the lists). Commits."""
    now = now or utcnow()
    today = now.astimezone(local_zone()).date()
    made = {"loan_due_tomorrow": 0, "loan_overdue": 0, "nudge": 0}
    tomorrow = today + timedelta(days=1)
    for loan in db.session.scalars(
        select(Loan).where(Loan.status == "lent", Loan.due <= tomorrow).order_by(Loan.id)
    ):
        kind = "loan_due_tomorrow" if loan.due == tomorrow else "loan_overdue"
        if kind == "loan_overdue" and loan.due >= today:
            continue  # due today: still in time
        prefix = "due" if kind == "loan_due_tomorrow" else "overdue"
        if remind_once(
            loan.borrower_id,
            kind,
            f"{prefix}:{loan.id}:{loan.due.isoformat()}",
            actor=loan.lender,
            subject=("loan", loan.id),
            title=loan.item.title,
            detail=loan.due.isoformat(),
        ):
            made[kind] += 1
    for cls in (Exchange, Item):
        for post in db.session.scalars(
            select(cls)
            .where(
                cls.status == "open",
                cls.expires_at > now,
                cls.expires_at <= now + NUDGE_BEFORE,
            )
            .order_by(cls.id)
        ):
            if not may_be_kept_open(post):
                continue
            last_day = (post.expires_at - timedelta(seconds=1)).astimezone(local_zone())
            if remind_once(
                post.author_id,
                "nudge",
                f"nudge:{post.id}:{expiry_stamp(post)}",
                subject=(post.type, post.id),
                title=post.title,
                detail=last_day.date().isoformat(),
            ):
                made["nudge"] += 1
    db.session.commit()
    return made


def _still_listed(notification: Notification, now: datetime) -> bool:
    """A request in the digest must still be open when the digest goes."""
    if notification.kind != "matching_request" or notification.subject_id is None:
        return True
    return (
        db.session.scalar(
            select(Exchange.id).where(
                Exchange.id == notification.subject_id, posts_queries.listed(Exchange, now)
            )
        )
        is not None
    )


def _claim_digest(member_id: int, now: datetime) -> list[Notification]:
    db.session.execute(
        update(Notification)
        .where(
            Notification.member_id == member_id,
            Notification.email_state == "digest",
            (Notification.email_claimed_at.is_(None))
            | (Notification.email_claimed_at < now - STALE_CLAIM),
        )
        .values(email_claimed_at=now)
    )
    db.session.commit()
    return list(
        db.session.scalars(
            select(Notification)
            .where(
                Notification.member_id == member_id,
                Notification.email_state == "digest",
                Notification.email_claimed_at == now,
            )
            .order_by(Notification.created_at, Notification.id)
        )
    )


def digest_email(member: Member, notifications: list[Notification]):
    with force_locale(_locale(member)):
        entries = []
        for notification in notifications:
            endpoint, values = queries.target(notification)
            entries.append(
                {
                    "text": queries.sentence(notification),
                    "link": links.external_url(endpoint, **values),
                    "kind": notification.kind,
                }
            )
        count = len(entries)
        subject = ngettext(
            "Peuplade : %(num)s nouveauté près de chez vous",
            "Peuplade : %(num)s nouveautés près de chez vous",
            count,
        )
        return compose(member, subject, "email/digest.txt", "digest", entries=entries)


def send_digests(now: datetime | None = None) -> Report:
    """One email per member gathering what waits for the digest since the last one."""
    now = now or utcnow()
    report = Report()
    # Outdated: a request from last week is not "new".
    db.session.execute(
        update(Notification)
        .where(Notification.email_state == "digest", Notification.created_at < now - MAX_AGE)
        .values(email_state="skipped")
    )
    db.session.commit()
    member_ids = list(
        db.session.scalars(
            select(Notification.member_id)
            .where(Notification.email_state == "digest")
            .distinct()
            .order_by(Notification.member_id)
        )
    )
    with transport() as sender:
        for member_id in member_ids:
            rows = _claim_digest(member_id, now)
            # Nothing from a member blocked either way since (kept, not emailed).
            keep = [n for n in rows if _still_listed(n, now) and queries.is_shown(n)]
            for gone in set(rows) - set(keep):
                gone.email_state = "skipped"
            if not keep:
                db.session.commit()
                continue
            member = db.session.get(Member, member_id)
            try:
                sender.send(digest_email(member, keep))
            except MailUnavailable as exc:
                for notification in keep:
                    notification.email_claimed_at = None
                    notification.email_attempts += 1
                    notification.email_error = str(exc)[:80]
                db.session.commit()
                report.failed += 1
                report.errors.append(str(exc))
                log.warning("Digest for member %s not sent (%s)", member_id, exc)
                continue
            sent_at = utcnow()
            for notification in keep:
                notification.email_state = "sent"
                notification.emailed_at = sent_at
            db.session.commit()
            report.sent += 1
    return report
