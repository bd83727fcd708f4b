"""What the API's views answer besides a plain JSON document."""

from __future__ import annotations

from flask import Response, current_app


def created(document: dict, location: str | None = None) -> Response:
    """201 with ``document``, and the new resource's URL in ``Location`` when it has one."""
    response = current_app.json.response(document)
    response.status_code = 201
    if location:
        response.headers["Location"] = location
    return response
