"""``flask pwa-icons``: draw the app's PNG icons into static/icons/ (peuplade.pwa.icons)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from peuplade.pwa import icons


@click.command("pwa-icons")
@with_appcontext
def pwa_icons() -> None:
    """Draw the installed app's icons (PNG, 192 and 512 px, "any" and maskable) from the
    favicon's shapes into static/icons/."""
    folder = Path(current_app.static_folder) / "icons"
    for path in icons.write_all(folder):
        click.echo(f"wrote {path}")


COMMANDS = (pwa_icons,)
