"""JSON API v1 (../shared/API.md): bearer tokens, JSON errors, OpenAPI document."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from peuplade.api import auth, conversations, exchanges, loans, news, routes  # noqa: E402,F401
