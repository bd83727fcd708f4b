"""Notifications: the bell, email notifications, digests and "still needed?"."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from peuplade.notifications import routes  # noqa: E402,F401
