"""The neighbourhood map ("Carte"): my radius, the posts around me at their public
positions, and the same posts as a list (the list works without JavaScript or tiles)."""

from flask import Blueprint

bp = Blueprint("map", __name__)

from peuplade.map import routes  # noqa: E402,F401
