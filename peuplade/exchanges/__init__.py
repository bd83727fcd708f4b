from flask import Blueprint

bp = Blueprint("exchanges", __name__)

from peuplade.exchanges import routes  # noqa: E402,F401
