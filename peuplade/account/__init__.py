from flask import Blueprint

bp = Blueprint("account", __name__)

from peuplade.account import routes  # noqa: E402,F401
