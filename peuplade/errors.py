"""Domain errors raised by services, and the API's JSON error shape.

The bottom of the house: nothing of Peuplade is imported here. What the app answers
when one of these errors (or an HTTP error, or the database going away) reaches a view
is registered by ``peuplade.error_handlers``.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify


class ServiceError(Exception):
    """A rule said no. ``message`` is for the member; ``code`` for API clients."""

    status = 400
    code = "bad_request"

    def __init__(self, message: Any = "", fields: dict[str, Any] | None = None):
        # Kept lazy: translating here would choose a language at raise time, which may
        # be right after a failed write (see peuplade.viewer); it is shown in the answer.
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def details(self) -> dict[str, Any]:
        """Extra members of the API's error object (e.g. address candidates)."""
        return {}


class ValidationFailed(ServiceError):
    status = 422
    code = "validation_failed"


class BadCursor(ServiceError):
    """A page cursor that was not made by us (forged, truncated, from another list):
    malformed input, refused before it reaches SQL (``fields.cursor`` says so)."""

    status = 400
    code = "bad_cursor"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class TooManyChanges(ServiceError):
    status = 429
    code = "rate_limited"


def json_error(
    status: int, code: str, message: Any, fields: dict[str, Any] | None = None, **extra: Any
):
    """``{"error": {"code", "message", "fields"?, ...extra}}`` with ``status`` (API.md)."""
    error: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        error["fields"] = {name: str(text) for name, text in fields.items()}
    error.update(extra)
    response = jsonify({"error": error})
    response.status_code = status
    return response
