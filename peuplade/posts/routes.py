"""The public places an author may pick, searched as they type (static/js/place-picker.js
on the forms of requests, offers and outings). Only public places leave the server,
nearest the member's PUBLIC position first; without JavaScript the forms' own list of
the nearest places serves."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user

from peuplade.posts import queries

bp = Blueprint("places", __name__)


@bp.route("/places/search")
def search():
    """``?q=legendre``: up to 12 places, each ``{"id", "label", "distance"}`` (the
    label as people say it, the distance band from the member's public position)."""
    found = queries.places_matching(current_user, request.args.get("q", ""))
    return jsonify(
        places=[{"id": place.id, "label": place.label, "distance": band} for place, band in found]
    )
