"""Views that take photos accept bigger requests than the rest (``accepts_photos``).

Every other request stays under ``MAX_CONTENT_LENGTH`` (1 MB). The limit must be raised
before anything reads the body (Flask-WTF's CSRF check reads the form in a
``before_request``), so ``init_app`` is called before ``csrf.init_app``.
"""

from __future__ import annotations

from flask import Flask, current_app, request


def accepts_photos(view):
    """Mark a view whose requests may carry photos (up to PHOTO_REQUEST_MAX_BYTES)."""
    view.peuplade_accepts_photos = True
    return view


def init_app(app: Flask) -> None:
    @app.before_request
    def _photo_request_limit():
        view = current_app.view_functions.get(request.endpoint or "")
        if view is not None and getattr(view, "peuplade_accepts_photos", False):
            request.max_content_length = current_app.config["PHOTO_REQUEST_MAX_BYTES"]
