"""Trust and safety: reports, the moderation queue and log, blocking, `flask make-admin`."""

from flask import Blueprint

# cli_group=None: its commands are top-level (`flask make-admin`).
bp = Blueprint("moderation", __name__, cli_group=None)

from peuplade.moderation import routes  # noqa: E402,F401
