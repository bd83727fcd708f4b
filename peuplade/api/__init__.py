"""JSON API v1 (../shared/API.md): bearer tokens, JSON errors, OpenAPI document."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

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
