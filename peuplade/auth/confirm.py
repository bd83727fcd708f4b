"""Confirming a member's e-mail address with a signed link (no table).

The link carries the member's id and a keyed digest of the address it was sent to,
signed with the app's secret key under a salt of its own (itsdangerous), with the time
it was made: it works for ``LINK_DAYS`` days, and only while the member still has that
address (a link sent before an e-mail change confirms nothing). The address itself is
not in the link (links end up in browser histories). Following it again is harmless:
the first confirmation date is kept.

A new address asked for in the settings (``members.pending_email``) gets a link of
its own: the same, with the digest of that pending address and a purpose marker
(``"change"``), so it can never pass for a link of the current address, nor the other
way round. Following it makes the pending address the account's, confirmed
(:func:`follow`), only while it is still the one pending and no other account has it;
an address taken in between is said so, and the pending one is dropped. Until then the
account keeps its address: nothing is ever keyed to an address nobody confirmed.

The links are emailed from here too (``send_confirmation``, ``send_address_change``),
made once the response is out, with ``auth.emails``' helpers.

An unconfirmed member can do everything a confirmed one can; only the privacy crowd
(``account.blur``) counts confirmed members alone.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import DBAPIError

from peuplade import database, security_log
from peuplade.account import person, queries
from peuplade.auth import emails
from peuplade.errors import ValidationFailed
from peuplade.extensions import db
from peuplade.models import Member, utcnow
from peuplade.notifications import links

SALT = "peuplade.email-confirmation"
LINK_DAYS = 7
# A link is ~100 characters; anything much longer was not made here.
TOKEN_MAX_LENGTH = 300

VALID = "valid"
EXPIRED = "expired"  # signed by us, but older than LINK_DAYS: a new link can be sent
INVALID = "invalid"  # not ours, altered, for an address the member no longer has

# The marker of a link for a new address (the pending one), third in the payload.
CHANGE = "change"


@dataclass(frozen=True)
class Link:
    state: str
    member: Member | None = None  # the member it was sent to (valid or expired links)
    change: bool = False  # a link for a new address (``member.pending_email``)
    done: bool = False  # its address is the member's, confirmed: nothing left to do


@dataclass(frozen=True)
class Outcome:
    """What following a (working) link did."""

    member: Member
    first: bool  # it confirmed (or applied) something; False: done already
    old_email: str | None = None  # a new address was applied: the one it replaced
    taken: bool = False  # the new address went to another account meanwhile: dropped


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _address_digest(email: str, purpose: bytes = b"confirm") -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, purpose + b":" + email.encode(), hashlib.sha256).hexdigest()[:24]


def _change_digest(email: str) -> str:
    return _address_digest(email, CHANGE.encode())


def make_token(member: Member) -> str:
    """The secret part of the link for ``member``'s current address."""
    return _serializer().dumps([member.id, _address_digest(member.email)])


def make_change_token(member: Member) -> str:
    """The secret part of the link for ``member``'s pending address (it must have one)."""
    if not member.pending_email:
        raise ValueError("no pending address")
    return _serializer().dumps([member.id, _change_digest(member.pending_email), CHANGE])


def read(token: object) -> Link:
    """What the link ``token`` is worth now."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        return Link(INVALID)
    state = VALID
    try:
        values = _serializer().loads(token, max_age=LINK_DAYS * 24 * 3600)
    except SignatureExpired:
        state = EXPIRED
        try:  # still ours (the signature is checked), only too old
            values = _serializer().loads(token)
        except (BadSignature, ValueError, UnicodeDecodeError):
            return Link(INVALID)
    except (BadSignature, ValueError, UnicodeDecodeError):
        return Link(INVALID)
    if not (
        isinstance(values, list)
        and (len(values) == 2 or (len(values) == 3 and values[2] == CHANGE))
        and isinstance(values[0], int)
        and not isinstance(values[0], bool)
        and isinstance(values[1], str)
    ):
        return Link(INVALID)
    member_id, digest = values[:2]
    member = db.session.get(Member, member_id) if 0 < member_id < 2**31 else None
    if member is None:
        return Link(INVALID)
    confirmed = member.email_confirmed_at is not None
    if len(values) == 2:  # the account's own address (today's rules)
        if not hmac.compare_digest(digest, _address_digest(member.email)):
            return Link(INVALID)
        return Link(state, member, done=confirmed)
    if member.pending_email and hmac.compare_digest(digest, _change_digest(member.pending_email)):
        return Link(state, member, change=True)
    if hmac.compare_digest(digest, _change_digest(member.email)):  # applied already
        return Link(state, member, change=True, done=confirmed)
    return Link(INVALID)  # cancelled, replaced by another address, or not ours


def no_longer_valid(link: Link) -> str:
    """What to tell about a link that does not work (lazy: translated when shown)."""
    if link.state == EXPIRED:
        return _l(
            "Ce lien a expiré : il marchait %(n)s jours. Demandez-en un nouveau, il arrivera "
            "en quelques minutes.",
            n=LINK_DAYS,
        )
    return _l(
        "Ce lien ne fonctionne pas. Il est peut-être incomplet (copiez-le en entier), ou "
        "vous avez changé d'adresse e-mail depuis. Demandez-en un nouveau."
    )


def taken_message() -> str:
    return _l(
        "Cette adresse e-mail est désormais celle d'un autre compte : elle ne peut pas "
        "devenir la vôtre. Votre adresse n'a pas changé ; choisissez-en une autre dans vos "
        "réglages si vous le souhaitez."
    )


def confirm(token: object) -> Outcome:
    """Confirm the address the link was sent to, or apply the new address it was sent
    to (flushed, not committed: the unique index on the address may still refuse it,
    see :func:`follow`). ValidationFailed on ``token`` for a link that does not (or no
    longer) work."""
    link = read(token)
    if link.member is not None and link.done:
        return Outcome(link.member, False)  # an expired link of a confirmed address too
    if link.state != VALID or link.member is None:
        message = no_longer_valid(link)
        raise ValidationFailed(message, {"token": message})
    member = link.member
    if not link.change:
        member.email_confirmed_at = utcnow()
        db.session.flush()
        return Outcome(member, True)
    new, old = member.pending_email, member.email
    owner = queries.member_by_email(new)
    if owner is not None and owner.id != member.id:
        return _drop_pending(member)
    # The home changes of accounts deleted under the old address stay this person's;
    # only now that the new address is known to be theirs.
    person.follow_address(old, new)
    member.email = new
    member.pending_email = None
    member.email_confirmed_at = utcnow()
    db.session.flush()
    return Outcome(member, True, old_email=old)


def _drop_pending(member: Member) -> Outcome:
    member.pending_email = None
    db.session.flush()
    return Outcome(member, False, taken=True)


def follow(token: object) -> Outcome:
    """:func:`confirm`, committed, then logged and told: a new address applied sends the
    notice to the old one. An address another account took meanwhile (checked first,
    and by the unique index when the two race) changes nothing but dropping the pending
    one: ``Outcome.taken``. ValidationFailed (nothing written) for a link that does not
    work; a busy or lost database goes on to the error pages."""
    try:
        outcome = confirm(token)
        db.session.commit()
    except DBAPIError as exc:
        database.rollback_quietly()
        if not database.twin_on(database.refusal(exc), "members", "email"):
            raise
        link = read(token)  # the session was rolled back: read it again
        if not (link.change and link.member is not None and not link.done):
            raise
        outcome = _drop_pending(link.member)
        db.session.commit()
    member = outcome.member
    if outcome.taken:
        security_log.event("email_change_refused", member=member.id)
    elif outcome.old_email is not None:
        security_log.event("email_changed", member=member.id)
        emails.send_notice(member, "email", outcome.old_email)
    elif outcome.first:
        security_log.event("email_confirmed", member=member.id)
    return outcome


# --- the e-mails that carry a link ------------------------------------------------------

# Why a confirmation link is sent: the words that open the e-mail.
CONFIRM_NEW = "new"  # just signed up
CONFIRM_CHANGED = "changed"  # a new address in the account settings
CONFIRM_AGAIN = "again"  # asked for a new link


def confirmation_email(
    member: Member, token: str, why: str = CONFIRM_NEW, to_address: str | None = None
) -> EmailMessage:
    """The link that confirms the member's address (``/email/confirm/<token>``), or the
    new address ``to_address`` they asked for (``why`` is then CONFIRM_CHANGED)."""
    locale = emails.locale_of(member)
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
    return emails.compose(member.display_name, to_address or member.email, subject, body, locale)


def send_confirmation(member: Member, why: str = CONFIRM_NEW) -> None:
    """A link to confirm the member's address, made once the response is out (for the
    address the member has then); nothing when it is confirmed by then."""
    member_id = member.id

    def build() -> list[EmailMessage]:
        current = db.session.get(Member, member_id)
        if current is None or current.email_confirmed_at is not None:
            return []
        return [confirmation_email(current, make_token(current), why)]

    emails.send_after_response(build, "email confirmation")


def send_address_change(member: Member, again: bool = False) -> None:
    """Once the response is out, for the member's pending address then (none: nothing):
    the link that applies it, or, when another account has that address, a word to that
    account's owner instead (``again``: nothing then, the owner was told once). The
    asker sees the same answer either way, and no link for a taken address exists."""
    member_id = member.id

    def build() -> list[EmailMessage]:
        current = db.session.get(Member, member_id)
        if current is None or not current.pending_email:
            return []
        owner = queries.member_by_email(current.pending_email)
        if owner is not None and owner.id != current.id:
            return [] if again else [emails.address_taken_email(owner)]
        why = CONFIRM_AGAIN if again else CONFIRM_CHANGED
        token = make_change_token(current)
        return [confirmation_email(current, token, why, to_address=current.pending_email)]

    emails.send_after_response(build, "email change")
