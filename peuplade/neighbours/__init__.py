from flask import Blueprint

bp = Blueprint("neighbours", __name__)

from peuplade.neighbours import routes  # noqa: E402,F401
