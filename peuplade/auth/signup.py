"""Signing up, the same for the page (``/register``) and the API (``POST /members``),
without telling whether an address has an account already.

Every field is checked first (the home found last), and every refusal is a field
error that does not depend on the address having an account. Only then does the
address count, and the answer is the same in every case: "check your mailbox".

- A new address: the member is created (not logged in) and gets a link to confirm it.
- An address with an account: nothing is created; its owner gets an e-mail saying
  someone tried, with the way to log in or choose a new password.
- An address whose closed account used all its home moves lately
  (``account.person.moves_blocked_until``): nothing is created; the address is told
  from which day it may sign up again.

The password is hashed in every case (the one slow step of a creation), and the
e-mails leave after the response, so the time taken does not tell either. The e-mails
to an address that already has an account (or must wait) go at most
``ratelimits.SIGN_UP_MAILS`` per address, silently: sign-ups from many machines cannot
flood someone's mailbox, and the answer stays the same. Two sign-ups
with one address at the same instant: the unique index keeps the second out, and it is
answered as an address with an account.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import get_locale
from limits import parse
from sqlalchemy.exc import IntegrityError

from peuplade import database, ratelimits, security_log
from peuplade.account import person, queries, services
from peuplade.auth import confirm, emails
from peuplade.extensions import db, limiter
from peuplade.location import LocationInput
from peuplade.models import Member

CREATED = "created"
TAKEN = "taken"  # the address has an account
BLOCKED = "blocked"  # the address may not sign up again yet


@dataclass(frozen=True)
class SignUp:
    """What became of a sign-up. Only ``email`` may be shown to the visitor."""

    email: str  # normalised: what the answer names
    outcome: str
    member_id: int | None = None  # the new member's


def sign_up(
    *,
    email: str,
    password: str,
    display_name: str,
    location: LocationInput,
    radius_m: object = None,
    skills: Iterable[str] | None = None,
    tags: Iterable[str] | str | None = None,
    bio: str | None = None,
    locale: str | None = None,
) -> SignUp:
    """Check, then create the member or not, and commit; the e-mail leaves after the
    response. Raises ValidationFailed (or AmbiguousLocation) when a field is refused:
    then nothing is written, whoever owns the address. Other refusals of the database
    (busy, lost) go on to the error pages."""
    new = services.check_new_member(
        email=email,
        password=password,
        display_name=display_name,
        location=location,
        radius_m=radius_m,
        skills=skills,
        tags=tags,
        bio=bio,
        email_taken_is_an_error=False,
    )
    owner = queries.member_by_email(new.email)
    if owner is not None:
        return _taken(new.email, owner, password)
    until = person.moves_blocked_until(new.email)
    if until is not None:
        services.hash_password(password)  # the work a creation does
        db.session.rollback()
        if _may_mail(new.email):
            emails.send_sign_up_blocked(new.email, until, locale or str(get_locale()))
        security_log.event("sign_up_refused", member=None, reason="moves")
        return SignUp(new.email, BLOCKED)
    try:
        member = services.create_member(new, password, locale)
        person.note_sign_up(member)  # a re-registration is a home move; the signal
        db.session.commit()
    except IntegrityError as exc:
        # The same address signed up at the same instant, and won: its owner is told.
        if not database.twin_on(database.refusal(exc), "members", "email"):
            raise
        database.rollback_quietly()
        owner = queries.member_by_email(new.email)
        if owner is None:  # pragma: no cover - the twin was rolled back after all
            raise
        return _taken(new.email, owner, None)
    confirm.send_confirmation(member, confirm.CONFIRM_NEW)
    security_log.event("sign_up", member=member.id)
    return SignUp(new.email, CREATED, member.id)


def _taken(address: str, owner: Member, password: str | None) -> SignUp:
    if password is not None:
        services.hash_password(password)  # the work a creation does
    if _may_mail(address):
        emails.send_sign_up_attempt(owner)
    security_log.event("sign_up_refused", member=owner.id, reason="taken")
    db.session.rollback()  # nothing to write
    return SignUp(address, TAKEN)


def _may_mail(address: str) -> bool:
    """One more sign-up e-mail to this address is within ``ratelimits.SIGN_UP_MAILS``
    (counted under the address's keyed hash, never the address)."""
    if not limiter.enabled:
        return True
    return limiter.limiter.hit(
        parse(ratelimits.SIGN_UP_MAILS), "sign-up-mail", person.email_key(address)
    )
