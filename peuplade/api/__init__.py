"""JSON API v1 (docs/api-contract.md): the blueprint and its rate limit.

Plumbing only, shared by every feature: ``parsing`` (requests), ``openapi`` (the
``@operation`` decorator and the document), ``schemas`` (shared types), ``docs`` (the
document, served). Each feature's views live in the feature (``exchanges/api.py``...)
and register on ``bp`` when ``create_app`` imports them; bearer tokens are checked by
``auth/bearer.py``.
"""

from flask import Blueprint, current_app

from peuplade import ratelimits
from peuplade.extensions import limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Per token, on every call made with one (API_RATE_LIMIT): 429 with Retry-After beyond.
limiter.limit(
    lambda: current_app.config["API_RATE_LIMIT"],
    key_func=ratelimits.token_key,
    exempt_when=ratelimits.without_token,
)(bp)
