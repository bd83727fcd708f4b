"""Confirming a member's e-mail address with a signed link (no table).

The link carries the member's id and a keyed digest of the address it was sent to,
signed with the app's secret key under a salt of its own (itsdangerous), with the time
it was made: it works for ``LINK_DAYS`` days, and only while the member still has that
address (a link sent before an e-mail change confirms nothing). The address itself is
not in the link (links end up in browser histories). Following it again is harmless:
the first confirmation date is kept.

An unconfirmed member can do everything a confirmed one can; only the privacy crowd
(``account.blur``) counts confirmed members alone.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from peuplade.errors import ValidationFailed
from peuplade.extensions import db
from peuplade.models import Member, utcnow

SALT = "peuplade.email-confirmation"
LINK_DAYS = 7
# A link is ~100 characters; anything much longer was not made here.
TOKEN_MAX_LENGTH = 300

VALID = "valid"
EXPIRED = "expired"  # signed by us, but older than LINK_DAYS: a new link can be sent
INVALID = "invalid"  # not ours, altered, for an address the member no longer has


@dataclass(frozen=True)
class Link:
    state: str
    member: Member | None = None  # the member it was sent to (valid or expired links)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _address_digest(email: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"confirm:" + email.encode(), hashlib.sha256).hexdigest()[:24]


def make_token(member: Member) -> str:
    """The secret part of the link for ``member``'s current address."""
    return _serializer().dumps([member.id, _address_digest(member.email)])


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
        and len(values) == 2
        and isinstance(values[0], int)
        and not isinstance(values[0], bool)
        and isinstance(values[1], str)
    ):
        return Link(INVALID)
    member_id, digest = values
    member = db.session.get(Member, member_id) if 0 < member_id < 2**31 else None
    if member is None or not hmac.compare_digest(digest, _address_digest(member.email)):
        return Link(INVALID)
    return Link(state, member)


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


def confirm(token: object) -> tuple[Member, bool]:
    """Confirm the address the link was sent to: (member, True) the first time,
    (member, False) when it was confirmed already. ValidationFailed on ``token`` for a
    link that does not (or no longer) work."""
    link = read(token)
    if link.member is not None and link.member.email_confirmed_at is not None:
        return link.member, False  # an expired link of a confirmed address says so too
    if link.state != VALID or link.member is None:
        message = no_longer_valid(link)
        raise ValidationFailed(message, {"token": message})
    member = link.member
    member.email_confirmed_at = utcnow()
    db.session.flush()
    return member, True
