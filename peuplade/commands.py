"""What every ``flask`` command of Peuplade shares: ``CommandFailed``, the one way a
command refuses (one readable French line, exit status 1), and ``require_schema``.

The commands themselves live with the features they serve; peuplade/cli.py registers them.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import inspect

from peuplade.extensions import db


class CommandFailed(click.ClickException):
    """A one-line French error; click exits with status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True)


def require_schema(*tables: str) -> None:
    """CommandFailed unless the database has these tables (default: ``quartiers``)."""
    inspector = inspect(db.engine)
    if not all(inspector.has_table(name) for name in tables or ("quartiers",)):
        raise CommandFailed("la base n'est pas à jour : lancez d'abord « flask db upgrade ».")
