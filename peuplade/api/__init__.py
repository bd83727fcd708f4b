"""JSON API v1 (docs/api-contract.md): bearer tokens, JSON errors, OpenAPI document."""

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

from peuplade.api import (  # noqa: E402,F401
    auth,
    conversations,
    exchanges,
    gdpr,
    loans,
    moderation,
    news,
    notifications,
    routes,
)
