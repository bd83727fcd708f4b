"""Password reset by an emailed link: single use, expiring, only its SHA-256 stored.

Asking for a link gives the same answer whether the address has an account or not
(the route shows one page and the email leaves after the response). Using it sets the
new password (same rules as at registration), ends every session and API token of the
member, and marks the link used.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from peuplade.account import queries
from peuplade.account.services import check_password_strength, end_sessions, set_password
from peuplade.account.tokens import secret_digest
from peuplade.errors import NotFound, ValidationFailed
from peuplade.extensions import db
from peuplade.models import Member, PasswordReset, utcnow
from peuplade.validation import normalise_email

TOKEN_MAX_LENGTH = 100


def request_reset(email: str | None) -> tuple[Member, str] | None:
    """A new reset link for the account of ``email``: (member, token), or None when
    there is no such account (or it was closed by moderation). Earlier links of the
    member stop working: only the newest one does."""
    try:
        key = normalise_email(email or "")
    except ValidationFailed:
        return None
    member = queries.member_by_email(key)
    if member is None or member.status == "banned":
        return None
    now = utcnow()
    db.session.execute(delete(PasswordReset).where(PasswordReset.member_id == member.id))
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordReset(
            member_id=member.id,
            token_hash=secret_digest(token),
            created_at=now,
            expires_at=now + timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"]),
        )
    )
    db.session.flush()
    return member, token


def valid_reset(token: str | None) -> PasswordReset | None:
    """The unused, unexpired reset of ``token``, or None."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    row = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == secret_digest(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def _no_longer_valid() -> NotFound:
    return NotFound(
        _l("Ce lien ne fonctionne plus : il a déjà servi ou il a expiré. Demandez-en un nouveau.")
    )


def reset_password(token: str, new_password: str) -> Member:
    """Use the link: set ``new_password``, end every session and API token of the
    member. A weak password is refused (ValidationFailed) and the link still works; a
    used or expired link is NotFound. Two uses at once: only one wins."""
    row = valid_reset(token)
    if row is None:
        raise _no_longer_valid()
    member = db.session.get(Member, row.member_id)
    check_password_strength(new_password, [member.email, member.display_name])
    claimed = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == row.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise _no_longer_valid()
    set_password(member, new_password)
    end_sessions(member)
    return member
