"""The lobby board ("affiche pour le hall"): a one-page printout of the open requests
and upcoming outings around a member's building, for the neighbours who are not online."""

from flask import Blueprint

bp = Blueprint("board", __name__)

from peuplade.board import routes  # noqa: E402,F401
