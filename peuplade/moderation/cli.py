"""``flask make-admin EMAIL`` and ``flask make-moderator EMAIL QUARTIER_SLUG``: the
roles given from the server (moderation/services.py)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from peuplade.account.queries import member_by_email
from peuplade.errors import ServiceError
from peuplade.extensions import db
from peuplade.models import Quartier
from peuplade.moderation import services


@click.command("make-admin")
@click.argument("email")
@with_appcontext
def make_admin_command(email: str) -> None:
    """Give a member the admin role (moderates every quartier)."""
    try:
        member = services.make_admin(email)
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    db.session.commit()
    click.echo(f"Le membre n°{member.id} est administrateur.")


@click.command("make-moderator")
@click.argument("email")
@click.argument("quartier")
@with_appcontext
def make_moderator_command(email: str, quartier: str) -> None:
    """Make a member moderator of one quartier (by its slug, e.g. batignolles)."""
    member = member_by_email(email.strip().lower())
    place = db.session.scalar(select(Quartier).where(Quartier.slug == quartier))
    if member is None or place is None:
        raise click.ClickException("Membre ou quartier inconnu.")
    services.appoint(member, place.id)
    db.session.commit()
    click.echo(f"Le membre n°{member.id} modère le quartier {place.display_name}.")


COMMANDS = (make_admin_command, make_moderator_command)
