"""Rate limits that guard credentials (Flask-Limiter; Redis storage in production)."""

from __future__ import annotations

import hashlib

from flask import request
from flask_login import current_user

from peuplade.extensions import limiter

# Per client address: a burst of tries from one machine.
PER_CLIENT = "10 per minute"
# Per account, failed tries only: a slow guesser spread over many addresses.
PER_ACCOUNT_FAILURES = "20 per hour"
# Per member: the current password asked again (a stolen session must not guess it).
PASSWORD_CHANGES = "10 per hour"  # noqa: S105 - a rate, not a password
# Per client address, the page and the API together: each account is a vantage point
# (the privacy crowd) and an argon2 hash.
SIGN_UPS = PER_CLIENT
SIGN_UP_SCOPE = "sign-up"
# Per address: the e-mails a sign-up sends to an address that has an account (or must
# wait); beyond, the sign-up answers the same and sends nothing.
SIGN_UP_MAILS = "3 per day"
# Per member: "send me the confirmation link again" (each one is an e-mail).
CONFIRMATION_LINKS = "5 per hour"


def account_key() -> str:
    """The account being tried: the case-folded email of the form or JSON body."""
    email = request.form.get("email")
    if email is None and request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return "account:" + (email if isinstance(email, str) else "").strip().casefold()[:254]


def member_key() -> str:
    # The member's id, never get_id() (the session's secret id, not for the store).
    return f"member:{current_user.id}"


def failed(response) -> bool:
    """Count a try only when it did not let the member in (2xx API, 302 HTML)."""
    return response.status_code not in (200, 201, 302)


def bearer_token() -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_key() -> str:
    """Rate-limit key of an API call: a digest of its bearer token (never the token),
    so each of a member's tokens (phone, script) has its own allowance."""
    token = bearer_token() or ""
    return "token:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def without_token() -> bool:
    """Calls without a token (sign-up, getting a token, the spec) have limits of their own."""
    return bearer_token() is None


def sign_up_limit():
    """The decorator of every sign-up view (``/register``, ``POST /api/v1/members``): one
    bucket per client address for all of them, so switching from the form to the API
    gives no fresh allowance."""
    return limiter.shared_limit(SIGN_UPS, scope=SIGN_UP_SCOPE, methods=["POST"])
