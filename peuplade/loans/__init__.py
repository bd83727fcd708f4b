from flask import Blueprint

bp = Blueprint("loans", __name__)

from peuplade.loans import routes  # noqa: E402,F401
