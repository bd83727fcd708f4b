"""Bearer-token authentication of the JSON API (/api/v1), deny by default.

Every API view needs ``Authorization: Bearer <token>`` unless it is marked with
``peuplade.access.public``: ``require_token`` checks it before every view of the API
blueprint, and ``current_member()`` is the member it authenticated. Cookie sessions are
never consulted here: a browser that is logged in but sends no token gets 401, so no
CSRF is possible under /api/.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_babel import gettext as _

from peuplade import ratelimits, security_log, viewer
from peuplade.account import tokens
from peuplade.api import bp
from peuplade.auth import sessions
from peuplade.errors import json_error
from peuplade.extensions import db
from peuplade.models import Member


def current_member() -> Member:
    """The member whose token authenticated this request (views that are not public)."""
    member = g.get("api_member")
    if member is None:  # only reachable if a view is wrongly marked public
        raise RuntimeError("current_member() in a public API view")
    return member


def _unauthorized(message: str, reason: str):
    security_log.warning("api_unauthorized", reason=reason)
    response = json_error(401, "unauthorized", message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="peuplade"'
    return response


@bp.before_request
def require_token():
    if request.method == "OPTIONS":
        return None  # Flask's automatic answer lists methods only
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "peuplade_public", False):
        return None
    token = ratelimits.bearer_token()
    if token is None:
        return _unauthorized(
            _("Authentifiez-vous avec un jeton : Authorization: Bearer <jeton>."), "missing"
        )
    row = tokens.token_for(token)
    member = None if row is None else row.member
    if member is None:
        return _unauthorized(
            _("Jeton invalide, expiré ou révoqué. Demandez-en un nouveau."), "invalid"
        )
    refusal = sessions.access_refusal(member)
    if refusal is not None:  # suspended or banned since the token was made
        db.session.rollback()
        security_log.warning("api_refused", member=member.id, reason=member.status)
        code = "account_closed" if member.status == "banned" else "account_suspended"
        return json_error(403, code, refusal)
    if db.session.dirty:
        # token_for noted last_used_at: keep that apart from the view's own commit.
        db.session.commit()
    g.api_member = member
    g.api_token_id = row.id
    viewer.remember(member)
    return None
