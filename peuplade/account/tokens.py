"""API tokens: issued, listed, renamed, revoked, and checked on every API call.

A token is shown once; only its digest (:func:`secret_digest`, also the stored form of
session ids and password-reset tokens) is kept. A token stops working when it expires,
when it is revoked, and when the member's password changes (``session_version``).
Services validate, change the session and flush; the request commits once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from peuplade.errors import Conflict, NotFound, ValidationFailed
from peuplade.extensions import db
from peuplade.models import ApiToken, Member, utcnow
from peuplade.validation import clean_text

TOKEN_NAME_MAX = 80
# Live tokens per member: enough for every device and script, and a bound on the list.
TOKENS_MAX = 50


def secret_digest(secret: str) -> str:
    """SHA-256 of a random secret (API token, session id, reset token): what is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_token_name(name: str | None) -> str | None:
    """A token's label, spaces tidied; None when empty."""
    cleaned = " ".join(clean_text(name).split())
    if len(cleaned) > TOKEN_NAME_MAX:
        msg = _l("%(n)s caractères au plus.", n=TOKEN_NAME_MAX)
        raise ValidationFailed(msg, {"name": msg})
    return cleaned or None


def _is_live(row: ApiToken) -> bool:
    """The token still works: not expired, not voided by a password change since."""
    return row.expires_at > utcnow() and row.session_version == row.member.session_version


def _live(member: Member):
    """SQL: the member's tokens that still work (the rule of :func:`_is_live`)."""
    return (
        ApiToken.member_id == member.id,
        ApiToken.expires_at > utcnow(),
        ApiToken.session_version == member.session_version,
    )


def live_tokens(member: Member) -> list[ApiToken]:
    """The member's tokens that still work, newest first."""
    stmt = select(ApiToken).where(*_live(member))
    return list(db.session.scalars(stmt.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def new_token(member: Member, name: str | None = None) -> tuple[str, ApiToken]:
    """A new bearer token and its stored row (which holds only the token's digest)."""
    label = clean_token_name(name)
    if db.session.scalar(select(func.count()).where(*_live(member))) >= TOKENS_MAX:
        raise Conflict(
            _l(
                "Vous avez déjà %(n)s jetons en service : révoquez-en un avant d'en demander "
                "un autre.",
                n=TOKENS_MAX,
            )
        )
    token = "pk_" + secrets.token_urlsafe(32)
    row = ApiToken(
        member_id=member.id,
        token_hash=secret_digest(token),
        name=label,
        session_version=member.session_version,
        expires_at=utcnow() + timedelta(days=current_app.config["API_TOKEN_DAYS"]),
    )
    db.session.add(row)
    db.session.flush()
    return token, row


def token_for(token: str) -> ApiToken | None:
    """The stored row of a bearer token, if the token is valid (not expired, not
    revoked, not voided by a password change)."""
    if not token or len(token) > 200:
        return None
    # The token and its member in one statement (every API call asks): read on the
    # primary, as every statement about api_tokens (peuplade.replicas).
    row = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.member))
        .where(ApiToken.token_hash == secret_digest(token))
    )
    if row is None or not _is_live(row):
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = now  # coarse, so reads do not write on every call
    return row


def _own_token(member: Member, token_id: int) -> ApiToken:
    row = db.session.get(ApiToken, token_id)
    if row is None or row.member_id != member.id or not _is_live(row):
        raise NotFound(_l("Ce jeton n'existe pas, ou n'est plus en service."))
    return row


def rename_token(member: Member, token_id: int, name: str | None) -> ApiToken:
    row = _own_token(member, token_id)
    row.name = clean_token_name(name)
    db.session.flush()
    return row


def revoke_token(member: Member, token_id: int) -> None:
    """The token stops working at once (its row is deleted)."""
    db.session.delete(_own_token(member, token_id))
    db.session.flush()


def revoke_tokens(member: Member) -> None:
    """Every API token of the member stops working (and any copy of one made earlier)."""
    member.session_version += 1
    db.session.execute(delete(ApiToken).where(ApiToken.member_id == member.id))
