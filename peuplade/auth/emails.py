"""Emails about the account itself: the password reset link, the link that confirms an
address (or a new one asked for in the settings), the notices that a password or an
email address was changed (ASVS 6.3.7), what a sign-up with an address that has an
account already (or may not have one yet) tells its owner, and what the owner of an
address someone asked for as a new address of another account is told. In the member's
language, built and sent once the response is out (after the request's commit), so the
time a request takes does not tell whether an account exists; a failure is logged
without the address."""

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

log = logging.getLogger("peuplade.mail")


def _message(to_name: str, to_address: str, subject: str, body: str, locale: str) -> EmailMessage:
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


def _locale(member: Member) -> str:
    return member.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def reset_email(member: Member, token: str) -> EmailMessage:
    """The link to choose a new password (``/password/reset/<token>``)."""
    from peuplade.notifications import links

    locale = _locale(member)
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
    return _message(member.display_name, member.email, subject, body, locale)


def notice_email(member: Member, what: str, to_address: str | None = None) -> EmailMessage:
    """A short notice that something changed on the account: ``password`` (changed),
    ``reset`` (changed through an emailed link) or ``email`` (sent to the old address)."""
    from peuplade.notifications import links

    locale = _locale(member)
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
    return _message(member.display_name, to_address or member.email, subject, body, locale)


# Why a confirmation link is sent: the words that open the e-mail.
CONFIRM_NEW = "new"  # just signed up
CONFIRM_CHANGED = "changed"  # a new address in the account settings
CONFIRM_AGAIN = "again"  # asked for a new link


def confirmation_email(
    member: Member, token: str, why: str = CONFIRM_NEW, to_address: str | None = None
) -> EmailMessage:
    """The link that confirms the member's address (``/email/confirm/<token>``), or the
    new address ``to_address`` they asked for (``why`` is then CONFIRM_CHANGED)."""
    from peuplade.auth.confirm import LINK_DAYS
    from peuplade.notifications import links

    locale = _locale(member)
    with force_locale(locale):
        intros = {
            CONFIRM_NEW: _(
                "Bienvenue sur Peuplade ! Il reste une petite chose à faire : confirmer votre "
                "adresse e-mail."
            ),
            CONFIRM_CHANGED: _(
                "Vous avez choisi cette nouvelle adresse e-mail pour votre compte Peuplade. "
                "Elle deviendra celle de votre compte quand vous l'aurez confirmée ; d'ici "
                "là, votre compte garde son adresse actuelle."
            ),
            CONFIRM_AGAIN: _("Voici un nouveau lien pour confirmer votre adresse e-mail."),
        }
        body = render_template(
            "auth/email/confirm_email.txt",
            member=member,
            intro=intros[why],
            link=links.external_url("auth.confirm_email", token=token),
            days=LINK_DAYS,
        )
        subject = _("Peuplade : confirmez votre adresse e-mail")
    return _message(member.display_name, to_address or member.email, subject, body, locale)


def sign_up_attempt_email(member: Member) -> EmailMessage:
    """To the owner of an address someone tried to sign up with: they have an account,
    how to log in, how to choose a new password."""
    from peuplade.notifications import links

    locale = _locale(member)
    with force_locale(locale):
        body = render_template(
            "auth/email/sign_up_attempt.txt",
            member=member,
            login_url=links.external_url("auth.login"),
            forgot_url=links.external_url("auth.forgot_password"),
        )
        subject = _("Peuplade : vous avez déjà un compte")
    return _message(member.display_name, member.email, subject, body, locale)


def address_taken_email(owner: Member) -> EmailMessage:
    """To the owner of an address another account asked for as its new address: their
    account keeps it, nothing changed (nothing is said about the other account)."""
    from peuplade.notifications import links

    locale = _locale(owner)
    with force_locale(locale):
        body = render_template(
            "auth/email/address_taken.txt",
            member=owner,
            forgot_url=links.external_url("auth.forgot_password"),
        )
        subject = _("Peuplade : quelqu'un a voulu utiliser votre adresse e-mail")
    return _message(owner.display_name, owner.email, subject, body, locale)


def sign_up_blocked_email(address: str, until: datetime, locale: str) -> EmailMessage:
    """To an address whose closed account used up its home moves: when it may sign up
    again."""
    from peuplade.notifications import links

    with force_locale(locale):
        day = format_date(until.astimezone(local_zone()), "long", rebase=False)
        body = render_template(
            "auth/email/sign_up_blocked.txt",
            day=day,
            home_url=links.external_url("neighbours.index"),
        )
        subject = _("Peuplade : votre inscription")
    return _message("", address, subject, body, locale)


def _send(app: Flask, build: Callable[[], list[EmailMessage]], purpose: str) -> None:
    # Imported here: the notifications package imports the pages that import this module.
    from peuplade.notifications import mail

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


def _after_response(build: Callable[[], list[EmailMessage]], purpose: str) -> None:
    """Build and send emails once this request's response is out (call it after the
    commit): the answer does not wait for, nor depend on, the mail server."""
    app = current_app._get_current_object()

    @after_this_request
    def _later(response):
        response.call_on_close(lambda: _send(app, build, purpose))
        return response


def send_reset_link(member: Member, token: str) -> None:
    member_id = member.id
    _after_response(
        lambda: [reset_email(db.session.get(Member, member_id), token)], "password reset"
    )


def send_notice(member: Member, what: str, to_address: str | None = None) -> None:
    """See :func:`notice_email`; ``to_address`` defaults to the member's (new) email."""
    member_id = member.id
    _after_response(
        lambda: [notice_email(db.session.get(Member, member_id), what, to_address)],
        f"{what} notice",
    )


def send_confirmation(member: Member, why: str = CONFIRM_NEW) -> None:
    """A link to confirm the member's address, made once the response is out (for the
    address the member has then); nothing when it is confirmed by then."""
    member_id = member.id

    def build() -> list[EmailMessage]:
        from peuplade.auth import confirm

        current = db.session.get(Member, member_id)
        if current is None or current.email_confirmed_at is not None:
            return []
        return [confirmation_email(current, confirm.make_token(current), why)]

    _after_response(build, "email confirmation")


def send_address_change(member: Member, again: bool = False) -> None:
    """Once the response is out, for the member's pending address then (none: nothing):
    the link that applies it, or, when another account has that address, a word to that
    account's owner instead (``again``: nothing then, the owner was told once). The
    asker sees the same answer either way, and no link for a taken address exists."""
    member_id = member.id

    def build() -> list[EmailMessage]:
        from peuplade.account import queries
        from peuplade.auth import confirm

        current = db.session.get(Member, member_id)
        if current is None or not current.pending_email:
            return []
        owner = queries.member_by_email(current.pending_email)
        if owner is not None and owner.id != current.id:
            return [] if again else [address_taken_email(owner)]
        why = CONFIRM_AGAIN if again else CONFIRM_CHANGED
        token = confirm.make_change_token(current)
        return [confirmation_email(current, token, why, to_address=current.pending_email)]

    _after_response(build, "email change")


def send_sign_up_attempt(member: Member) -> None:
    member_id = member.id
    _after_response(
        lambda: [sign_up_attempt_email(db.session.get(Member, member_id))], "sign-up attempt"
    )


def send_sign_up_blocked(address: str, until: datetime, locale: str) -> None:
    _after_response(lambda: [sign_up_blocked_email(address, until, locale)], "sign-up blocked")
