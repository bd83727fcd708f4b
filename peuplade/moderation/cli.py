"""`flask make-admin EMAIL` and `flask make-moderator EMAIL QUARTIER_SLUG`."""

from __future__ import annotations

import click
from sqlalchemy import select

from peuplade.errors import ServiceError
from peuplade.extensions import db
from peuplade.moderation import services
from peuplade.moderation.routes import bp


@bp.cli.command("make-admin")
@click.argument("email")
def make_admin_command(email: str) -> None:
    """Give a member the admin role (moderates every quartier)."""
    try:
        member = services.make_admin(email)
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    db.session.commit()
    click.echo(f"Le membre n°{member.id} est administrateur.")


@bp.cli.command("make-moderator")
@click.argument("email")
@click.argument("quartier")
def make_moderator_command(email: str, quartier: str) -> None:
    """Make a member moderator of one quartier (by its slug, e.g. batignolles)."""
    from peuplade.account.queries import member_by_email
    from peuplade.models import Quartier

    member = member_by_email(email.strip().lower())
    place = db.session.scalar(select(Quartier).where(Quartier.slug == quartier))
    if member is None or place is None:
        raise click.ClickException("Membre ou quartier inconnu.")
    services.appoint(member, place.id)
    db.session.commit()
    click.echo(f"Le membre n°{member.id} modère le quartier {place.name}.")
