"""Emails for notifications: built in the member's language, sent after the commit.

The notification row is an outbox: ``email_state`` says whether its email is still to
send. A request that made notifications sends their emails once its response has
gone (``call_on_close``), never inside its transaction; whatever could not be sent
(SMTP down, timeout) stays ``pending`` and the next ``flask send-notifications``
retries it, up to ``MAIL_MAX_ATTEMPTS``. A sender claims a row before sending (an
UPDATE that only one can win), so a row is not mailed twice by two senders.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from flask import Flask, current_app, g, has_request_context, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_sqlalchemy.session import Session
from sqlalchemy import event, or_, select, update

from peuplade.extensions import db
from peuplade.models import Member, Notification, Post, utcnow
from peuplade.notifications import links, queries
from peuplade.notifications.services import (
    MATCH_KEY,
    PENDING_KEY,
    expiry_stamp,
    match_pending,
    may_be_kept_open,
)

log = logging.getLogger("peuplade.mail")

# A claim older than this is a sender that died mid-way: the row may be taken again.
STALE_CLAIM = timedelta(minutes=10)
# Emails not sent within this time are outdated ("à rendre demain" a week later).
MAX_AGE = timedelta(days=3)
_G_KEY = "peuplade_notifications_to_mail"
_G_MATCH = "peuplade_requests_to_match"


class MailUnavailable(Exception):
    """The mail server could not be reached or refused the message."""


# -- transports -----------------------------------------------------------------


class LogTransport:
    """Development: the email is written to the log instead of being sent."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send(self, message: EmailMessage) -> None:
        headers = "\n".join(f"{name}: {value}" for name, value in message.items())
        log.info("Email (MAIL_BACKEND=log, not sent):\n%s\n\n%s", headers, message.get_content())


class SMTPTransport:
    """One SMTP connection for a batch, opened on the first message."""

    def __init__(self, config):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
        return False

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            if c["MAIL_USE_SSL"]:
                connection = smtplib.SMTP_SSL(
                    c["MAIL_SERVER"],
                    c["MAIL_PORT"],
                    timeout=c["MAIL_TIMEOUT"],
                    context=ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(
                    c["MAIL_SERVER"], c["MAIL_PORT"], timeout=c["MAIL_TIMEOUT"]
                )
                if c["MAIL_USE_TLS"]:
                    connection.starttls(context=ssl.create_default_context())
            if c["MAIL_USERNAME"]:
                connection.login(c["MAIL_USERNAME"], c["MAIL_PASSWORD"] or "")
        except (smtplib.SMTPException, OSError) as exc:
            raise MailUnavailable(type(exc).__name__) from exc
        return connection

    def send(self, message: EmailMessage) -> None:
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            self.connection.close()
            self.connection = None
            raise MailUnavailable(type(exc).__name__) from exc


def transport():
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "log":
        return LogTransport()
    return SMTPTransport(current_app.config)


# -- building messages ----------------------------------------------------------


def _locale(member: Member) -> str:
    return member.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def compose(
    member: Member, subject: str, template: str, unsubscribe_kind: str, **context
) -> EmailMessage:
    """A plain-text email to ``member`` (call inside ``force_locale``)."""
    unsubscribe = links.external_url(
        "notifications.unsubscribe", token=links.unsubscribe_token(member.id, unsubscribe_kind)
    )
    body = render_template(
        template,
        member=member,
        unsubscribe_url=unsubscribe,
        settings_url=links.external_url("notifications.settings"),
        site_url=links.external_url("news.timeline"),
        **context,
    )
    message = EmailMessage()
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    message["From"] = sender
    message["To"] = formataddr((member.display_name, member.email))
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    # RFC 2369 / RFC 8058: mail programs show their own "unsubscribe" button.
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, cte="quoted-printable")
    message["Content-Language"] = _locale(member)  # after set_content, which clears Content-*
    return message


def notification_email(notification: Notification) -> EmailMessage:
    member = notification.member
    with force_locale(_locale(member)):
        text = queries.sentence(notification)
        endpoint, values = queries.target(notification)
        keep_open_url = None
        if notification.kind == "nudge" and notification.subject_id is not None:
            post = db.session.get(Post, notification.subject_id)
            if post is not None and may_be_kept_open(post):
                keep_open_url = links.external_url(
                    "notifications.keep_open",
                    token=links.keep_open_token(post.id, expiry_stamp(post)),
                )
        return compose(
            member,
            _("Peuplade : %(text)s", text=text.rstrip(".")),
            "email/notification.txt",
            notification.kind,
            text=text,
            link=links.external_url(endpoint, **values),
            keep_open_url=keep_open_url,
            kind=notification.kind,
        )


# -- sending --------------------------------------------------------------------


@dataclass
class Report:
    sent: int = 0
    failed: int = 0  # will be retried
    given_up: int = 0
    errors: list[str] = field(default_factory=list)


def _claim(notification_id: int, now) -> bool:
    """Take the row for sending; False if another sender has it or it is done."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            or_(
                Notification.email_state == "pending",
                (Notification.email_state == "sending")
                & (Notification.email_claimed_at < now - STALE_CLAIM),
            ),
        )
        .values(email_state="sending", email_claimed_at=now)
    )
    db.session.commit()
    return result.rowcount == 1


def _due_ids(now) -> list[int]:
    """Every email still to send (new, failed earlier, or claimed by a dead sender)."""
    return list(
        db.session.scalars(
            select(Notification.id)
            .where(
                or_(
                    Notification.email_state == "pending",
                    (Notification.email_state == "sending")
                    & (Notification.email_claimed_at < now - STALE_CLAIM),
                )
            )
            .order_by(Notification.id)
        )
    )


def deliver(ids: Iterable[int] | None = None) -> Report:
    """Send the emails of the given notifications (all that are due if None)."""
    now = utcnow()
    report = Report()
    if ids is None:
        # Too old to be useful: not sent at all rather than late.
        db.session.execute(
            update(Notification)
            .where(
                Notification.email_state.in_(("pending", "sending")),
                Notification.created_at < now - MAX_AGE,
            )
            .values(email_state="skipped")
        )
        db.session.commit()
        ids = _due_ids(now)
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    with transport() as sender:
        for notification_id in ids:
            if not _claim(notification_id, now):
                continue
            notification = db.session.get(Notification, notification_id)
            if not queries.is_shown(notification):
                # Its actor and its recipient have blocked since: no email (the row
                # stays, unlisted while the block lasts).
                notification.email_state = "skipped"
                db.session.commit()
                continue
            try:
                sender.send(notification_email(notification))
            except MailUnavailable as exc:
                notification.email_attempts += 1
                notification.email_error = str(exc)[:80]
                if notification.email_attempts >= max_attempts:
                    notification.email_state = "failed"
                    report.given_up += 1
                else:
                    notification.email_state = "pending"
                    report.failed += 1
                report.errors.append(str(exc))
                db.session.commit()
                log.warning(
                    "Notification %s: email not sent (%s), attempt %s",
                    notification_id,
                    exc,
                    notification.email_attempts,
                )
                continue
            notification.email_state = "sent"
            notification.emailed_at = utcnow()
            notification.email_error = None
            db.session.commit()
            report.sent += 1
    return report


# -- after the request's commit ---------------------------------------------------


@contextmanager
def _app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def _send_after_response(app: Flask, ids: list[int]) -> None:
    with _app_context(app):
        try:
            deliver(ids)
        except Exception:  # the page has gone already; the next run retries
            db.session.rollback()
            log.exception("Sending notification emails after the request failed")


def _match_after_response(app: Flask, ids: list[int]) -> None:
    with _app_context(app):
        try:
            deliver(match_pending(ids))
        except Exception:  # the page has gone already; flask send-notifications retries
            db.session.rollback()
            log.exception("Telling the neighbours of new requests after the request failed")


@event.listens_for(Session, "after_commit")
def _committed(session):
    ids = session.info.pop(PENDING_KEY, None)
    if ids and has_request_context():
        g.setdefault(_G_KEY, []).extend(ids)
    requests = session.info.pop(MATCH_KEY, None)
    if requests and has_request_context():
        g.setdefault(_G_MATCH, []).extend(requests)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop(PENDING_KEY, None)
    session.info.pop(MATCH_KEY, None)


def init_app(app: Flask) -> None:
    """Collect the ids of committed notifications and send their emails once the
    response is out."""

    @app.after_request
    def _send_later(response):
        ids = g.pop(_G_KEY, None)
        target = current_app._get_current_object()
        if ids:
            response.call_on_close(lambda: _send_after_response(target, ids))
        requests = g.pop(_G_MATCH, None)
        if requests:
            response.call_on_close(lambda: _match_after_response(target, requests))
        return response
