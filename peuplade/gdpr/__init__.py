"""GDPR rights: download my data, delete my account, and the privacy policy page."""

from flask import Blueprint

bp = Blueprint("gdpr", __name__)

from peuplade.gdpr import routes  # noqa: E402,F401
