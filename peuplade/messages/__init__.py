"""Private conversations between neighbours."""

from flask import Blueprint

bp = Blueprint("messages", __name__)

from peuplade.messages import routes  # noqa: E402,F401
