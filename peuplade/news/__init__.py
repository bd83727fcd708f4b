from flask import Blueprint

bp = Blueprint("news", __name__)

from peuplade.news import routes  # noqa: E402,F401
