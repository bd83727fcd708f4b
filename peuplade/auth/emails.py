"""Emails about the account itself: the password reset link, the notices that a password
or an email address was changed (ASVS 6.3.7), what a sign-up with an address that has
an account already (or may not have one yet) tells its owner, and what the owner of an
address someone asked for as a new address of another account is told. In the member's
language, built and sent once the response is out (after the request's commit), so the
time a request takes does not tell whether an account exists; a failure is logged
without the address.

The links that confirm an address (or a new one asked for in the settings) are sent by
``auth.confirm``, with the helpers here (``compose``, ``locale_of``,
``send_after_response``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from flask import Flask, after_this_request, current_app, render_template
from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from peuplade.extensions import db
from peuplade.localtime import local_zone
from peuplade.models import Member
from peuplade.notifications import links, mail

log = logging.getLogger("peuplade.mail")


def compose(to_name: str, to_address: str, subject: str, body: str, locale: str) -> EmailMessage:
    """An account email: from Peuplade, to one address, in ``locale``, marked automatic."""
    message = EmailMessage()
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    message["From"] = sender
    message["To"] = formataddr((to_name, to_address))
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, cte="quoted-printable")
    message["Content-Language"] = locale  # after set_content, which clears Content-*
    return message


def locale_of(member: Member) -> str:
    """The language of ``member``'s emails: theirs, else the site's default."""
    return member.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def reset_email(member: Member, token: str) -> EmailMessage:
    """The link to choose a new password (``/password/reset/<token>``)."""
    locale = locale_of(member)
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    with force_locale(locale):
        body = render_template(
            "auth/email/password_reset.txt",
            member=member,
            link=links.external_url("auth.reset_password", token=token),
            minutes=minutes,
            login_url=links.external_url("auth.login"),
        )
        subject = _("Peuplade : choisir un nouveau mot de passe")
    return compose(member.display_name, member.email, subject, body, locale)


def notice_email(member: Member, what: str, to_address: str | None = None) -> EmailMessage:
    """A short notice that something changed on the account: ``password`` (changed),
    ``reset`` (changed through an emailed link) or ``email`` (sent to the old address)."""
    locale = locale_of(member)
    with force_locale(locale):
        texts = {
            "password": _("Le mot de passe de votre compte Peuplade vient d'être changé."),
            "reset": _(
                "Le mot de passe de votre compte Peuplade vient d'être changé avec un lien "
                "de réinitialisation envoyé par e-mail."
            ),
            "email": _(
                "L'adresse e-mail de votre compte Peuplade vient d'être changée : cette "
                "adresse-ci n'y est plus liée."
            ),
        }
        body = render_template(
            "auth/email/notice.txt",
            member=member,
            text=texts[what],
            forgot_url=links.external_url("auth.forgot_password"),
        )
        subject = _("Peuplade : votre compte a été modifié")
    return compose(member.display_name, to_address or member.email, subject, body, locale)


def sign_up_attempt_email(member: Member) -> EmailMessage:
    """To the owner of an address someone tried to sign up with: they have an account,
    how to log in, how to choose a new password."""
    locale = locale_of(member)
    with force_locale(locale):
        body = render_template(
            "auth/email/sign_up_attempt.txt",
            member=member,
            login_url=links.external_url("auth.login"),
            forgot_url=links.external_url("auth.forgot_password"),
        )
        subject = _("Peuplade : vous avez déjà un compte")
    return compose(member.display_name, member.email, subject, body, locale)


def address_taken_email(owner: Member) -> EmailMessage:
    """To the owner of an address another account asked for as its new address: their
    account keeps it, nothing changed (nothing is said about the other account)."""
    locale = locale_of(owner)
    with force_locale(locale):
        body = render_template(
            "auth/email/address_taken.txt",
            member=owner,
            forgot_url=links.external_url("auth.forgot_password"),
        )
        subject = _("Peuplade : quelqu'un a voulu utiliser votre adresse e-mail")
    return compose(owner.display_name, owner.email, subject, body, locale)


def sign_up_blocked_email(address: str, until: datetime, locale: str) -> EmailMessage:
    """To an address whose closed account used up its home moves: when it may sign up
    again."""
    with force_locale(locale):
        day = format_date(until.astimezone(local_zone()), "long", rebase=False)
        body = render_template(
            "auth/email/sign_up_blocked.txt",
            day=day,
            home_url=links.external_url("neighbours.index"),
        )
        subject = _("Peuplade : votre inscription")
    return compose("", address, subject, body, locale)


def _send(app: Flask, build: Callable[[], list[EmailMessage]], purpose: str) -> None:
    with app.app_context():
        try:
            messages = build()
            with mail.transport() as sender:
                for message in messages:
                    sender.send(message)
        except mail.MailUnavailable as exc:
            # The error's class only: no address, no link.
            log.warning("Account email (%s) not sent: %s", purpose, exc)
        except Exception:  # the response has gone already: never let it surface
            log.exception("Account email (%s) not sent", purpose)
        finally:
            db.session.remove()


def send_after_response(build: Callable[[], list[EmailMessage]], purpose: str) -> None:
    """Build and send emails once this request's response is out (call it after the
    commit): the answer does not wait for, nor depend on, the mail server."""
    app = current_app._get_current_object()

    @after_this_request
    def _later(response):
        response.call_on_close(lambda: _send(app, build, purpose))
        return response


def send_reset_link(member: Member, token: str) -> None:
    member_id = member.id
    send_after_response(
        lambda: [reset_email(db.session.get(Member, member_id), token)], "password reset"
    )


def send_notice(member: Member, what: str, to_address: str | None = None) -> None:
    """See :func:`notice_email`; ``to_address`` defaults to the member's (new) email."""
    member_id = member.id
    send_after_response(
        lambda: [notice_email(db.session.get(Member, member_id), what, to_address)],
        f"{what} notice",
    )


def send_sign_up_attempt(member: Member) -> None:
    member_id = member.id
    send_after_response(
        lambda: [sign_up_attempt_email(db.session.get(Member, member_id))], "sign-up attempt"
    )


def send_sign_up_blocked(address: str, until: datetime, locale: str) -> None:
    send_after_response(lambda: [sign_up_blocked_email(address, until, locale)], "sign-up blocked")
