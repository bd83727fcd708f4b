"""The registry of Peuplade's ``flask`` commands (besides Flask-Migrate's ``flask db``).

Each command lives with what it serves, in a module that lists its commands in
``COMMANDS``; ``create_app`` calls ``register_cli``, which adds them all to the app.
A new command goes in its feature's ``cli.py`` and that module goes in ``MODULES``.
What the commands share (``CommandFailed``) is in peuplade/commands.py.
"""

from __future__ import annotations

from flask import Flask

from peuplade import backup, geodata
from peuplade.account import cli as account_cli
from peuplade.demo import cli as demo_cli
from peuplade.gdpr import cli as gdpr_cli
from peuplade.moderation import cli as moderation_cli
from peuplade.notifications import cli as notifications_cli
from peuplade.photos import cli as photos_cli
from peuplade.pwa import cli as pwa_cli

MODULES = (
    geodata,  # import-quartiers, import-places
    demo_cli,  # seed-demo
    notifications_cli,  # send-notifications, send-digests
    gdpr_cli,  # purge-old-data
    account_cli,  # privacy-refresh
    moderation_cli,  # make-admin, make-moderator
    photos_cli,  # photos prune
    backup,  # backup, restore
    pwa_cli,  # pwa-icons
)


def register_cli(app: Flask) -> None:
    """Add every command of ``MODULES`` to ``app.cli``."""
    for module in MODULES:
        for command in module.COMMANDS:
            app.cli.add_command(command)
